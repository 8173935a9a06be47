"""Field-by-field difference between the payload we would send and the record Xero holds. Frappe-free.

Only what the payload says is compared: Xero returns many fields we never send (totals it computes,
status history, links), and those are not differences a push would change.
"""

from dataclasses import dataclass
from decimal import Decimal

from xero_integration.core.money import from_xero_date

MISSING = object()


@dataclass(frozen=True)
class Difference:
	field: str  # e.g. "LineItems[1].UnitAmount"
	ours: object
	xeros: object


def flatten(value, prefix: str = "") -> dict[str, object]:
	"""{"A": {"B": [1]}} -> {"A.B[0]": 1}: one entry per leaf, in payload order."""
	if isinstance(value, dict):
		leaves = {}
		for key, item in value.items():
			leaves.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
		return leaves
	if isinstance(value, list | tuple):
		leaves = {}
		for index, item in enumerate(value):
			leaves.update(flatten(item, f"{prefix}[{index}]"))
		return leaves or {prefix: []}
	return {prefix: value}


def differences(payload: dict, record: dict) -> list[Difference]:
	"""Every leaf of `payload` whose value Xero holds differently (or not at all)."""
	xeros = flatten(record)
	found = []
	for path, value in flatten(payload).items():
		current = xeros.get(path, MISSING)
		if not same(value, current):
			found.append(Difference(path, value, None if current is MISSING else current))
	# Lines Xero has beyond the ones we send would go away with the push: one entry per such line.
	for key, sent in payload.items():
		held = record.get(key)
		if isinstance(sent, list) and isinstance(held, list):
			found.extend(
				Difference(f"{key}[{index}]", None, _summary(extra))
				for index, extra in enumerate(held[len(sent) :], start=len(sent))
			)
	return found


def _summary(element):
	if isinstance(element, dict):
		return element.get("Description") or element.get("Name") or element
	return element


def same(ours, xeros) -> bool:
	if xeros is MISSING:
		return ours in (None, "", [])
	if ours is None or xeros is None:
		return (ours or None) == (xeros or None)
	number_ours, number_xeros = _number(ours), _number(xeros)
	if number_ours is not None and number_xeros is not None:
		return number_ours == number_xeros
	if isinstance(ours, str) and isinstance(xeros, str):
		if _looks_like_date(ours) and (_looks_like_date(xeros) or xeros.startswith("/Date(")):
			return ours[:10] == from_xero_date(xeros)
		return ours.strip() == xeros.strip()
	return ours == xeros


def _number(value) -> Decimal | None:
	if isinstance(value, bool):
		return None
	if isinstance(value, int | float | Decimal):
		return Decimal(str(value))
	return None


def _looks_like_date(value: str) -> bool:
	return len(value) >= 10 and value[4] == "-" and value[7] == "-" and value[:4].isdigit()


def plain(value):
	"""JSON-friendly value for showing a difference: exact amounts as strings."""
	return str(value) if isinstance(value, Decimal) else value
