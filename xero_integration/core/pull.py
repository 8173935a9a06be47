"""Arithmetic of pulling from Xero: Xero timestamps, the pull watermark, conflict winners.

Frappe-free. The watermark is the If-Modified-Since of the next pull: it may only move past a record
once that record is safely applied in ERPNext, or held aside to be retried on its own (by id), so a
record that failed is never skipped and never pins the watermark for ever.
"""

import datetime
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from xero_integration.core.mapping import content_hash

# Xero's event time can precede the record's UpdatedDateUTC by a little; look back this far.
EVENT_LOOKBACK = datetime.timedelta(minutes=5)
# Our clock and Xero's may differ a little: pulls that start "now" start this much earlier.
CLOCK_MARGIN = datetime.timedelta(minutes=5)

XERO_WINS, ERPNEXT_WINS, NEWEST_WINS = "Xero wins", "ERPNext wins", "Newest wins"
# A held record fails this many times in all (the first failure and its retries), then it is parked.
HOLD_ATTEMPTS = 5

_MS_DATE = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<tz>[+-]\d{4})?\)/$")
UTC = datetime.timezone.utc


def xero_datetime(value) -> datetime.datetime | None:
	"""A Xero timestamp ("/Date(ms+0000)/", ISO text or a datetime) as an aware UTC datetime."""
	if not value:
		return None
	if isinstance(value, datetime.datetime):
		moment = value
	else:
		match = _MS_DATE.match(str(value).strip())
		if match:
			return datetime.datetime.fromtimestamp(int(match["ms"]) / 1000, tz=UTC)
		moment = datetime.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
	return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def same_moment(a, b) -> bool:
	"""Two Xero stamps of the same change (formats may differ between a write answer and a read)."""
	first, second = xero_datetime(a), xero_datetime(b)
	return first is not None and first == second


def if_modified_since(watermark) -> datetime.datetime | None:
	"""The header value for a watermark: Xero compares whole seconds and includes the second itself,
	so flooring re-reads the records of that second (applying them again is a no-op)."""
	moment = xero_datetime(watermark)
	return moment.replace(microsecond=0) if moment else None


def event_window(event_dates: Iterable[str]) -> datetime.datetime | None:
	"""If-Modified-Since that surely includes the records these webhook events announce."""
	moments = [xero_datetime(d) for d in event_dates if d]
	if not moments:
		return None
	return (min(moments) - EVENT_LOOKBACK).replace(microsecond=0)


class Watermark:
	"""Where the next pull starts: the newest applied stamp, held back at the first failure.

	Records arrive in UpdatedDateUTC order. A failed record pins the watermark at its own stamp for
	the rest of the run; records after it are still applied (they are re-read next time and found
	unchanged), so one bad document neither blocks the others nor is skipped. A failed record the
	caller holds aside (to retry it by id) counts as passed: it is not lost, and it pins nothing.
	"""

	def __init__(self, start=None):
		self.value = xero_datetime(start)
		self.failed_at: datetime.datetime | None = None

	def record(self, stamp, ok: bool, held: bool = False) -> None:
		moment = xero_datetime(stamp)
		if moment is None:
			return
		if not ok and not held:
			if self.failed_at is None or moment < self.failed_at:
				self.failed_at = moment
			return
		if self.value is None or moment > self.value:
			self.value = moment

	@property
	def safe(self) -> datetime.datetime | None:
		"""The value that may be stored now."""
		if self.failed_at is not None and (self.value is None or self.failed_at < self.value):
			return self.failed_at
		return self.value


def after_failure(attempts: int) -> tuple[int, bool]:
	"""A held record's attempts after one more failure, and whether it is now parked (not retried)."""
	attempts += 1
	return attempts, attempts >= HOLD_ATTEMPTS


def winner(policy: str, *, erpnext_changed: bool, erpnext_modified=None, xero_updated=None) -> str:
	"""Which side's version stands when Xero changed a record: "xero" or "erpnext".

	erpnext_changed: the ERPNext document was edited since the last sync (a true conflict). When it
	was not, Xero's change is simply applied, except under "ERPNext wins" for submitted documents,
	which the caller reports as a conflict by passing erpnext_changed=True.
	"""
	if not erpnext_changed or policy == XERO_WINS:
		return "xero"
	if policy == NEWEST_WINS:
		xero_moment, erpnext_moment = xero_datetime(xero_updated), xero_datetime(erpnext_modified)
		if xero_moment and erpnext_moment and xero_moment > erpnext_moment:
			return "xero"
	return "erpnext"


BOOKED_LINE_FIELDS = ("Description", "ItemCode", "AccountCode", "TaxType")
BOOKED_LINE_NUMBERS = ("Quantity", "UnitAmount", "DiscountRate", "LineAmount", "TaxAmount")


def booked_hash(record: Mapping) -> str:
	"""A fingerprint of what a Xero invoice or credit note books (contact, dates, currency, lines), not of
	its payment state: a line edited in Xero that keeps the total changes it, a payment does not."""

	def number(value):
		# 1, 1.0 and "1.00" are one amount; an absent discount is no discount.
		return (
			str(Decimal(str(value)).normalize()) if value not in (None, "") and Decimal(str(value)) else None
		)

	lines = [
		{
			**{key: line.get(key) or None for key in BOOKED_LINE_FIELDS},
			**{key: number(line.get(key)) for key in BOOKED_LINE_NUMBERS},
			"Tracking": sorted((t.get("Name"), t.get("Option")) for t in line.get("Tracking") or []),
		}
		for line in record.get("LineItems") or []
	]
	return content_hash(
		{
			"Contact": (record.get("Contact") or {}).get("ContactID"),
			"Date": record.get("Date"),
			"DueDate": record.get("DueDate"),
			"CurrencyCode": record.get("CurrencyCode"),
			"LineAmountTypes": record.get("LineAmountTypes"),
			"LineItems": lines,
		}
	)
