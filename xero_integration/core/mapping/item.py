"""ERPNext Items -> Xero Items (the organisation's price list). Frappe-free.

Xero keeps an item's Code in 30 characters and its Name in 50. A longer item code is sent as a mapped
code (its first 21 characters, "~" and 8 characters of a hash of the whole code: stable, and distinct
from other long codes that begin alike), a longer name is cut with an ellipsis; both are said in the
sync log, never done silently. Items stay untracked in Xero: tracked inventory needs an inventory asset
and a cost-of-goods account there, and ERPNext keeps the stock.
"""

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from xero_integration.core.mapping.context import MappingContext, MappingError

MAX_CODE, MAX_NAME, MAX_DESCRIPTION = 30, 50, 4000


@dataclass
class MappedItem:
	payload: dict
	notes: list[str] = field(default_factory=list)


def xero_item_code(item_code: str) -> str:
	"""The Code an ERPNext item has in Xero: its own where it fits, otherwise a stable mapped one."""
	if len(item_code) <= MAX_CODE:
		return item_code
	digest = hashlib.sha256(item_code.encode()).hexdigest()[:8]
	return f"{item_code[: MAX_CODE - 9]}~{digest}"


def plain_text(text: str | None) -> str:
	"""ERPNext descriptions are HTML (a text editor's): Xero shows plain text."""
	text = re.sub(r"<br\s*/?>|</p>|</div>|</li>", "\n", text or "", flags=re.IGNORECASE)
	text = html.unescape(re.sub(r"<[^>]+>", "", text))
	return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def item_payload(
	item: Mapping,
	ctx: MappingContext,
	*,
	income_account: str | None,
	expense_account: str | None,
	item_id: str | None = None,
) -> MappedItem:
	"""An ERPNext Item as the Xero Item of one organisation, with the accounts of that organisation's
	Company (the item's defaults there, or the company's)."""
	item_code = item.get("item_code") or item.get("name")
	if not item_code:
		raise MappingError(["The item has no code."])
	code, name = xero_item_code(item_code), item.get("item_name") or item_code
	notes = []
	if code != item_code:
		notes.append(
			f"Item code {item_code} is longer than Xero's {MAX_CODE} characters: it is {code} in Xero."
		)
	if len(name) > MAX_NAME:
		name = name[: MAX_NAME - 1] + "…"
		notes.append(f"Its name is longer than Xero's {MAX_NAME} characters: it is '{name}' in Xero.")
	sold, purchased = bool(item.get("is_sales_item")), bool(item.get("is_purchase_item"))
	payload = {
		"Code": code,
		"Name": name,
		"IsSold": sold,
		"IsPurchased": purchased,
	}
	if item_id:
		payload["ItemID"] = item_id
	description = plain_text(item.get("description"))[:MAX_DESCRIPTION]
	if sold:
		if description:
			payload["Description"] = description
		payload["SalesDetails"] = details(ctx, income_account)
	if purchased:
		if description:
			payload["PurchaseDescription"] = description
		payload["PurchaseDetails"] = details(ctx, expense_account)
	return MappedItem(payload, notes)


def details(ctx: MappingContext, account: str | None) -> dict:
	"""Sales or purchase details: the account lines of this item go to, when it is mapped in Xero."""
	code = ctx.account_codes.get(account) if account else None
	return {"AccountCode": code} if code else {}
