"""What the mapping core needs to know about one organisation, read from its Xero Organisation record
and from Xero's own lists (tax rates, currencies), which are cached for an hour."""

from decimal import Decimal

import frappe
from frappe.utils import cint

from xero_integration.core.mapping.context import MappingContext

XERO_LISTS_TTL_SECONDS = 3600
# Income, expense and bank accounts without their own mapping post to the organisation's defaults.
DEFAULT_CODE_FIELD = {
	"Income": "sales_account_code",
	"Expense": "purchase_account_code",
	"Bank": "bank_account_code",
	"Cash": "bank_account_code",
}


def mapping_context(organisation: str, client=None) -> MappingContext:
	org = frappe.get_cached_doc("Xero Organisation", organisation)
	account_codes = {}
	for account in frappe.get_all(
		"Account",
		filters={"company": org.company, "is_group": 0},
		fields=["name", "root_type", "account_type"],
	):
		field = DEFAULT_CODE_FIELD.get(account.account_type) or DEFAULT_CODE_FIELD.get(account.root_type)
		if field and org.get(field):
			account_codes[account.name] = org.get(field)
	account_codes.update({row.account: row.xero_account_code for row in org.account_mappings})
	lists = xero_lists(organisation, client) if client else {"currencies": []}
	return MappingContext(
		base_currency=org.base_currency
		or frappe.get_cached_value("Company", org.company, "default_currency"),
		enabled_currencies=frozenset(lists["currencies"]),
		account_codes=account_codes,
		tax_types={row.erpnext_tax: row.xero_tax_type for row in org.tax_mappings},
		item_codes={row.item: row.xero_item_code for row in org.item_mappings},
		tracking={
			row.cost_center: (row.tracking_category, row.tracking_option) for row in org.tracking_mappings
		},
		rounding_account_code=org.rounding_account_code or None,
		no_tax_type=org.no_tax_type or "NONE",
		rate_precision=cint(frappe.new_doc("Sales Invoice Item").precision("rate")),
	)


def xero_lists(organisation: str, client) -> dict:
	"""Xero's tax rates and enabled currencies, from cache or two GET calls."""
	key = _lists_key(organisation)
	# expires=True: an expiring key must not be memoised (as None, before we set it) for the process.
	cached = frappe.cache.get_value(key, expires=True)
	if cached:
		return cached
	tax_rates = client.list_all("TaxRate")
	currencies = client.list_all("Currency")
	lists = {
		"tax_rates": {rate["TaxType"]: str(rate.get("EffectiveRate") or 0) for rate in tax_rates},
		"currencies": [currency["Code"] for currency in currencies],
	}
	frappe.cache.set_value(key, lists, expires_in_sec=XERO_LISTS_TTL_SECONDS)
	return lists


def forget_xero_lists(organisation: str) -> None:
	"""After an import of Xero's lists, the next push reads them afresh."""
	frappe.cache.delete_value(_lists_key(organisation))


def tax_rates(organisation: str, client) -> dict[str, Decimal]:
	return {
		tax_type: Decimal(rate) for tax_type, rate in xero_lists(organisation, client)["tax_rates"].items()
	}


def _lists_key(organisation: str) -> str:
	return f"xero_integration:lists:{organisation}"
