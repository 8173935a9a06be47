"""What every family of Xero objects shares: an organisation's state with its ids, timestamps, numbering
and webhook events; batches saved element by element; money.

Nothing here knows about HTTP. A save returns one ElementResult per element of a batch; an element with
errors leaves the organisation untouched, the others are saved (as in Xero).
"""

import copy
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ..clock import Clock
from ..webhooks import EventSource
from ..xerojson import ms_timestamp

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value) -> Decimal:
	return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value, what: str) -> Decimal:
	try:
		return Decimal(str(value))
	except (InvalidOperation, ValueError):
		raise ElementError(f"{what} must be a number")


class ElementError(Exception):
	"""One element of a batch breaks a rule; the message is what Xero puts in ValidationErrors."""


@dataclass
class ElementResult:
	element: dict
	errors: list[str] = field(default_factory=list)


def save_each(elements: list[dict], save: Callable[[dict], dict]) -> list[ElementResult]:
	"""save(element) returns the object as saved, or raises ElementError and changes nothing."""
	results = []
	for element in elements:
		try:
			results.append(ElementResult(save(element)))
		except ElementError as error:
			results.append(ElementResult(copy.deepcopy(element), [str(error)]))
	return results


class Organisation:
	"""The state of one Xero organisation (tenant): one dict per collection the object families declare
	(`org.contacts`, `org.invoices`, ...: Xero JSON, PascalCase, keyed by id), and what every family needs.
	Callers serialise access (the server holds a lock)."""

	def __init__(
		self,
		tenant_id: str,
		name: str,
		base_currency: str,
		currencies,
		clock: Clock,
		rng: random.Random,
		on_event: Callable[[dict], None],
		families: Sequence,
	):
		"""families: the registry's (objects.FAMILIES); the organisation holds their collections and starts
		with their seed data."""
		self.tenant_id = tenant_id
		self.name = name
		self.base_currency = base_currency
		self.currency_codes = tuple(dict.fromkeys((base_currency, *currencies)))  # enabled at creation
		self.clock = clock
		self.rng = rng
		self.on_event = on_event
		self.organisation: dict = {}  # what GET /Organisation answers; the settings family's seed fills it
		# Accepted but suspicious requests, e.g. CurrencyRate 1 for a foreign currency.
		self.notes: list[str] = []
		self._daily_rates: dict[str, Decimal] = {}
		self._next_number: dict[str, int] = {}
		self.collections = tuple(collection for family in families for collection in family.collections)
		for collection in self.collections:
			setattr(self, collection, {})
		for family in families:
			if family.seed:
				family.seed(self)

	def new_id(self) -> str:
		return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

	def now(self) -> str:
		"""UpdatedDateUTC for a change made now."""
		return ms_timestamp(self.clock.utcnow())

	def today(self) -> date:
		return self.clock.utcnow().date()

	def announce(self, source: EventSource, resource_id: str, created: bool) -> None:
		"""Queue the webhook event Xero sends for a change of this object."""
		self.on_event(source.event(resource_id, self.tenant_id, self.clock.utcnow(), created))

	def daily_rate(self, currency: str) -> Decimal:
		"""Xero's rate when CurrencyRate is omitted: one made-up but stable rate per currency."""
		if currency == self.base_currency:
			return Decimal("1.000000")
		if currency not in self._daily_rates:
			self._daily_rates[currency] = Decimal(str(round(self.rng.uniform(0.4, 1.6), 6)))
		return self._daily_rates[currency]

	def next_number(self, prefix: str) -> str:
		"""The next number Xero gives a document of this prefix: INV-0001, INV-0002, ..."""
		self._next_number[prefix] = self._next_number.get(prefix, 0) + 1
		return f"{prefix}{self._next_number[prefix]:04d}"
