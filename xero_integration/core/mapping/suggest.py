"""Mapping suggestions from Xero's own lists: by code first, then by name. Frappe-free.

A suggestion is only a starting point a person reviews; nothing here is applied silently, and
nothing already mapped is replaced.
"""

from collections.abc import Iterable, Mapping

from xero_integration.core.mapping.contact import normalise_name
from xero_integration.core.money import to_decimal

# ERPNext account kinds a Xero account type can stand for.
XERO_TYPES_FOR = {
	"Income": {"REVENUE", "SALES", "OTHERINCOME"},
	"Expense": {"EXPENSE", "DIRECTCOSTS", "OVERHEADS", "DEPRECIATN"},
	"Bank": {"BANK"},
	"Cash": {"BANK"},
}


def account_suggestions(
	accounts: Iterable[Mapping], xero_accounts: Iterable[Mapping]
) -> dict[str, tuple[str, str]]:
	"""ERPNext account name -> (Xero Code, Xero Name).

	accounts: ERPNext Account rows (name, account_name, account_number, root_type, account_type);
	xero_accounts: Xero Account objects (Code, Name, Type, Status).
	"""
	active = [a for a in xero_accounts if a.get("Status", "ACTIVE") == "ACTIVE" and a.get("Code")]
	by_code = {a["Code"]: a for a in active}
	suggestions = {}
	for account in accounts:
		kind = account.get("account_type") if account.get("account_type") in ("Bank", "Cash") else None
		kind = kind or account.get("root_type")
		allowed = XERO_TYPES_FOR.get(kind)
		if not allowed:
			continue
		candidates = [a for a in active if a.get("Type") in allowed]
		match = by_code.get(str(account.get("account_number") or ""))
		if match is None or match.get("Type") not in allowed:
			wanted = normalise_name(account.get("account_name"))
			match = next((a for a in candidates if normalise_name(a.get("Name")) == wanted), None)
		if match:
			suggestions[account["name"]] = (match["Code"], match.get("Name", ""))
	return suggestions


def tax_suggestions(tax_accounts: Iterable[Mapping], xero_tax_rates: Iterable[Mapping]) -> dict[str, str]:
	"""ERPNext tax account name -> Xero TaxType, when exactly one active Xero rate has the account's rate
	and suits its side (names with "Sales"/"Output" for income tax, "Purchase"/"Input" for expenses)."""
	active = [r for r in xero_tax_rates if r.get("Status", "ACTIVE") == "ACTIVE"]
	suggestions = {}
	for account in tax_accounts:
		rate = to_decimal(account.get("tax_rate"))
		same_rate = [r for r in active if to_decimal(r.get("EffectiveRate")) == rate]
		side = _side(account.get("account_name"))
		if side and len(same_rate) > 1:
			same_rate = [r for r in same_rate if _side(r.get("Name")) in (side, None)] or same_rate
			same_rate = [r for r in same_rate if _side(r.get("Name")) == side] or same_rate
		if len(same_rate) == 1:
			suggestions[account["name"]] = same_rate[0]["TaxType"]
	return suggestions


def item_suggestions(item_codes: Iterable[str], xero_items: Iterable[Mapping]) -> dict[str, str]:
	"""ERPNext item_code -> Xero Item Code, where Xero has an item with that code."""
	codes = {normalise_name(i.get("Code")): i["Code"] for i in xero_items if i.get("Code")}
	return {code: codes[normalise_name(code)] for code in item_codes if normalise_name(code) in codes}


def _side(name) -> str | None:
	words = set(normalise_name(name).split())
	if words & {"sales", "output", "income"}:
		return "sales"
	if words & {"purchase", "purchases", "input", "expenses"}:
		return "purchase"
	return None
