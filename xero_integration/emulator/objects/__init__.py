"""The Xero objects the emulator knows: one module per family, each with its state rules (Xero's
validation) and its endpoints, registered here. See README.md, "Adding a Xero object"."""

from . import bank_transactions, contacts, documents, items, payments, prepayments, settings
from .endpoints import ApiError, Route

FAMILIES = (
	settings.FAMILY,
	contacts.FAMILY,
	documents.FAMILY,
	payments.FAMILY,
	items.FAMILY,
	prepayments.FAMILY,
	bank_transactions.FAMILY,
)
ROUTES = tuple(route for family in FAMILIES for route in family.routes)
ANNOUNCED = tuple(source for family in FAMILIES for source in family.announces)
_COMPILED = tuple((route, route.pattern) for route in ROUTES)


def match(method: str, resource_path: str) -> tuple[Route, dict[str, str]] | None:
	"""The route for a path below /api.xro/2.0 (Xero's paths are case-insensitive); None if unknown.
	A known path with another method raises 405."""
	known_path = False
	for route, pattern in _COMPILED:
		found = pattern.match(resource_path)
		if found:
			known_path = True
			if route.method == method:
				return route, found.groupdict()
	if known_path:
		raise ApiError(405, {"Message": f"The requested resource does not support http method '{method}'."})
	return None
