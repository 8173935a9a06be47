"""Items (Xero's price list): a unique Code of at most 30 characters and a Name of at most 50 (the spec
refuses longer ones), sold and purchased unless told otherwise (turning either off clears that side's
description and details, as the spec says), sales and purchase details with valid account codes, and
tracked as inventory only with both an INVENTORY asset account and a cost-of-goods account. GET /Items
is not paged, as in Xero."""

import copy

from .base import ElementError, ElementResult, Organisation, save_each, to_decimal
from .endpoints import ApiCall, Family, by_id_or, envelope, select, standard_routes
from .settings import account_by_code

SCOPE = "accounting.invoices"
# What IsSold / IsPurchased set to false clears.
SIDE_FIELDS = {
	"IsSold": ("Description", "SalesDetails"),
	"IsPurchased": ("PurchaseDescription", "PurchaseDetails"),
}


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
		# Xero's words (our quoting): codes are unique in the organisation.
		raise ElementError(f"Price List Item with Code '{code}' already exists")
	item = (
		copy.deepcopy(existing)
		if existing
		else {"ItemID": org.new_id(), "IsSold": True, "IsPurchased": True, "IsTrackedAsInventory": False}
	)
	item |= {k: v for k, v in data.items() if k not in ("ItemID", "UpdatedDateUTC", "ValidationErrors")}
	for flag, fields in SIDE_FIELDS.items():
		if item.get(flag) is False:
			for field in fields:
				item.pop(field, None)
	for details_key in ("SalesDetails", "PurchaseDetails"):
		details = item.get(details_key) or {}
		for key in ("AccountCode", "COGSAccountCode"):
			if details.get(key) and account_by_code(org, details[key]) is None:
				raise ElementError(f"Account code '{details[key]}' is not a valid code")
		if details.get("UnitPrice") is not None:
			details["UnitPrice"] = to_decimal(details["UnitPrice"], "UnitPrice")
	item["IsTrackedAsInventory"] = tracked(org, item)
	item.setdefault("Name", code)
	item["UpdatedDateUTC"] = org.now()
	org.items[item["ItemID"]] = item
	return copy.deepcopy(item)


def tracked(org: Organisation, item: dict) -> bool:
	"""Whether the item is tracked as inventory: both accounts set, the asset one of type INVENTORY."""
	inventory = item.get("InventoryAssetAccountCode")
	cogs = (item.get("PurchaseDetails") or {}).get("COGSAccountCode")
	if not inventory and not cogs:
		return False
	if not (inventory and cogs):
		raise ElementError(
			"A tracked item needs both an InventoryAssetAccountCode and a COGSAccountCode in PurchaseDetails"
		)
	account = account_by_code(org, inventory)
	if account is None or account["Type"] != "INVENTORY":
		raise ElementError(f"Account code '{inventory}' is not an inventory account")
	return True


def by_code(org: Organisation, code: str) -> dict | None:
	return next((i for i in org.items.values() if i["Code"] == code), None)


# --- endpoints -------------------------------------------------------------------------------------------


def list_items(call: ApiCall):
	return 200, envelope(call, "Items", select(call, call.org.items.values(), id_key="ItemID"))


def _save(call: ApiCall, elements: list[dict], create_only: bool) -> list[ElementResult]:
	return save(call.org, elements, create_only=create_only)


ROUTES = standard_routes("Items", "ItemID", SCOPE, list_items, _save, by_id_or("items", by_code))

FAMILY = Family(("items",), ROUTES)
