"""Items (Xero's price list): a unique Code of at most 30 characters, sales and purchase details with
valid account codes. GET /Items is not paged, as in Xero."""

import copy

from .base import ElementError, ElementResult, Organisation, save_each, to_decimal
from .endpoints import ApiCall, Family, by_id_or, envelope, select, standard_routes
from .settings import account_by_code

SCOPE = "accounting.invoices"


def save(org: Organisation, elements: list[dict], *, create_only: bool) -> list[ElementResult]:
	return save_each(elements, lambda element: _save_one(org, element, create_only))


def _save_one(org: Organisation, data: dict, create_only: bool) -> dict:
	code = data.get("Code")
	if not code:
		raise ElementError("Item Code must be specified")
	if len(code) > 30:
		raise ElementError("Item Code must not be more than 30 characters")
	existing = org.items.get(str(data.get("ItemID", "")).lower()) or by_code(org, code)
	if existing and create_only:
		raise ElementError(f"Item code '{code}' already exists")
	item = copy.deepcopy(existing) if existing else {"ItemID": org.new_id(), "IsTrackedAsInventory": False}
	item |= {k: v for k, v in data.items() if k not in ("ItemID", "UpdatedDateUTC", "ValidationErrors")}
	for details_key in ("SalesDetails", "PurchaseDetails"):
		details = item.get(details_key) or {}
		if details.get("AccountCode") and account_by_code(org, details["AccountCode"]) is None:
			raise ElementError(f"Account code '{details['AccountCode']}' is not a valid code")
		if details.get("UnitPrice") is not None:
			details["UnitPrice"] = to_decimal(details["UnitPrice"], "UnitPrice")
	item.setdefault("Name", code)
	item["IsSold"] = bool(item.get("SalesDetails"))
	item["IsPurchased"] = bool(item.get("PurchaseDetails"))
	item["UpdatedDateUTC"] = org.now()
	org.items[item["ItemID"]] = item
	return copy.deepcopy(item)


def by_code(org: Organisation, code: str) -> dict | None:
	return next((i for i in org.items.values() if i["Code"] == code), None)


# --- endpoints -------------------------------------------------------------------------------------------


def list_items(call: ApiCall):
	return 200, envelope(call, "Items", select(call, call.org.items.values(), id_key="ItemID"))


def _save(call: ApiCall, elements: list[dict], create_only: bool) -> list[ElementResult]:
	return save(call.org, elements, create_only=create_only)


ROUTES = standard_routes("Items", "ItemID", SCOPE, list_items, _save, by_id_or("items", by_code))

FAMILY = Family(("items",), ROUTES)
