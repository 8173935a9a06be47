"""Xero's wire formats: JSON with exact decimals, and Microsoft-style /Date(ms+0000)/ dates."""

import json
import re
from datetime import date, datetime, timezone
from decimal import Decimal

_MS_DATE = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<tz>[+-]\d{4})?\)/$")


def loads(raw: bytes | str):
	"""Parse a request body; numbers with a fraction become Decimal so money is never a float."""
	return json.loads(raw, parse_float=Decimal)


def dumps(value) -> bytes:
	return "".join(_encode(value)).encode()


def _encode(value):
	# The stdlib encoder can only write Decimal through float; Xero answers amounts like 15.00, keep them exact.
	if isinstance(value, dict):
		yield "{"
		for index, (key, item) in enumerate(value.items()):
			if index:
				yield ","
			yield json.dumps(str(key))
			yield ":"
			yield from _encode(item)
		yield "}"
	elif isinstance(value, list | tuple):
		yield "["
		for index, item in enumerate(value):
			if index:
				yield ","
			yield from _encode(item)
		yield "]"
	elif isinstance(value, Decimal):
		yield str(value)
	else:
		yield json.dumps(value)


def ms_timestamp(moment: datetime) -> str:
	"""UpdatedDateUTC style: /Date(1573755038314+0000)/."""
	return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def ms_date(day: date) -> str:
	midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
	return ms_timestamp(midnight)


def date_string(day: date) -> str:
	"""DateString / DueDateString as Xero writes them."""
	return f"{day.isoformat()}T00:00:00"


def parse_date(value) -> date:
	"""A document date as clients send it: /Date(ms)/ (xero-python), 2024-01-31, or 2024-01-31T00:00:00."""
	if not isinstance(value, str):
		raise ValueError(f"not a date: {value!r}")
	match = _MS_DATE.match(value)
	if match:
		return datetime.fromtimestamp(int(match["ms"]) / 1000, tz=timezone.utc).date()
	return datetime.fromisoformat(value.strip()[:19]).date() if "T" in value else date.fromisoformat(value)


def parse_ms_timestamp(value: str) -> float:
	"""Seconds since the epoch from a /Date(ms+0000)/ string."""
	match = _MS_DATE.match(value)
	if not match:
		raise ValueError(f"not a /Date()/ value: {value!r}")
	return int(match["ms"]) / 1000
