"""The organisation's lists: the Organisation itself, Accounts, TaxRates, Currencies and TrackingCategories.
Read-only here; a new organisation starts with seed.py's, and other families look things up in them."""

import uuid

from .. import seed
from .base import ElementError, Organisation
from .endpoints import ApiCall, Family, Route, by_id, envelope, get_one, select

SCOPE = "accounting.settings"


def add_starting_lists(org: Organisation) -> None:
	now = org.now()
	version = seed.VERSION_BY_BASE_CURRENCY.get(org.base_currency)
	org.organisation = {
		"OrganisationID": org.tenant_id,
		"Name": org.name,
		"LegalName": org.name,
		"PaysTax": True,
		"Version": version or "GLOBAL",
		"OrganisationType": "COMPANY",
		"BaseCurrency": org.base_currency,
		"CountryCode": (version or "NZ").replace("UK", "GB"),
		"IsDemoCompany": False,
		"OrganisationStatus": "ACTIVE",
		"FinancialYearEndDay": 31,
		"FinancialYearEndMonth": 3,
		"SalesTaxBasis": "PAYMENTS",
		"SalesTaxPeriod": "TWOMONTHS",
		"DefaultSalesTax": "Tax Exclusive",
		"DefaultPurchasesTax": "Tax Exclusive",
		"CreatedDateUTC": now,
		"OrganisationEntityType": "COMPANY",
		"Timezone": "NEWZEALANDSTANDARDTIME",
		"ShortCode": "!" + uuid.UUID(int=org.rng.getrandbits(128)).hex[:5],
		"Edition": "BUSINESS",
		"Class": "PREMIUM",
	}
	for row in seed.ACCOUNTS:
		_add_account(org, *row, now=now)
	foreign = [code for code in org.currency_codes if code != org.base_currency]
	for number, currency in enumerate(foreign, start=seed.FIRST_FOREIGN_BANK_CODE):
		name = f"Business {currency} Account"
		_add_account(
			org, f"{number:03d}", name, "BANK", "NONE", "ASSET", None, False, now=now, currency=currency
		)
	for tax_type, name, rate, report_type in seed.TAX_RATES:
		org.tax_rates[tax_type] = {
			"Name": name,
			"TaxType": tax_type,
			"TaxComponents": [{"Name": "GST", "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}],
			"Status": "ACTIVE",
			"ReportTaxType": report_type,
			"CanApplyToAssets": True,
			"CanApplyToEquity": True,
			"CanApplyToExpenses": True,
			"CanApplyToLiabilities": True,
			"CanApplyToRevenue": True,
			"DisplayTaxRate": rate,
			"EffectiveRate": rate,
		}
	for code in org.currency_codes:
		org.currencies[code] = {"Code": code, "Description": seed.CURRENCY_NAMES.get(code, code)}
	for name, options in seed.TRACKING_CATEGORIES:
		category = {
			"TrackingCategoryID": org.new_id(),
			"Name": name,
			"Status": "ACTIVE",
			"Options": [
				{"TrackingOptionID": org.new_id(), "Name": option, "Status": "ACTIVE"} for option in options
			],
		}
		org.tracking_categories[category["TrackingCategoryID"]] = category


def _add_account(
	org, code, name, type_, tax_type, class_, system_account, payments_enabled, *, now, currency=None
) -> None:
	account = {
		"AccountID": org.new_id(),
		"Code": code,
		"Name": name,
		"Type": type_,
		"TaxType": tax_type,
		"Status": "ACTIVE",
		"Class": class_,
		"EnablePaymentsToAccount": payments_enabled,
		"ShowInExpenseClaims": False,
		"ReportingCode": class_[:3],
		"UpdatedDateUTC": now,
		"AddToWatchlist": False,
		"HasAttachments": False,
	}
	if type_ == "BANK":
		account |= {"BankAccountNumber": "0209087654321050", "BankAccountType": "BANK"}
		account["CurrencyCode"] = currency or org.base_currency
	if system_account:
		account["SystemAccount"] = system_account
	org.accounts[account["AccountID"]] = account


# --- look-ups for the other families ---------------------------------------------------------------------


def account_by_code(org: Organisation, code) -> dict | None:
	return next((a for a in org.accounts.values() if a["Code"] == code), None)


def system_account(org: Organisation, kind: str) -> dict:
	"""The account Xero keeps for itself as kind (DEBTORS, CREDITORS, ...)."""
	return next(a for a in org.accounts.values() if a.get("SystemAccount") == kind)


def account_of(org: Organisation, ref) -> dict | None:
	"""The account a reference {"AccountID": ...} or {"Code": ...} names."""
	if not isinstance(ref, dict):
		return None
	if ref.get("AccountID"):
		return org.accounts.get(ref["AccountID"])
	return account_by_code(org, ref.get("Code"))


def check_tracking(org: Organisation, tracking: dict) -> None:
	"""A line's tracking names an existing category (by name or id) and one of its options."""
	category = next(
		(c for c in org.tracking_categories.values() if c["Name"] == tracking.get("Name")), None
	) or org.tracking_categories.get(str(tracking.get("TrackingCategoryID", "")).lower())
	if category is None:
		raise ElementError(f"The tracking category {tracking.get('Name')} does not exist.")
	if not any(o["Name"] == tracking.get("Option") for o in category["Options"]):
		raise ElementError(
			f"The tracking option {tracking.get('Option')} does not exist in category {category['Name']}."
		)
	tracking["TrackingCategoryID"] = category["TrackingCategoryID"]


# --- endpoints -------------------------------------------------------------------------------------------


def get_organisation(call: ApiCall):
	return 200, envelope(call, "Organisations", [call.org.organisation])


def _list(key: str, collection: str, id_key: str, archived=None):
	def handler(call: ApiCall):
		items = select(call, getattr(call.org, collection).values(), id_key=id_key, archived=archived)
		return 200, envelope(call, key, items)

	return handler


def _archived(item: dict) -> bool:
	return item.get("Status") == "ARCHIVED"


ROUTES = (
	Route("GET", "/Organisation", get_organisation, SCOPE),
	Route("GET", "/Accounts", _list("Accounts", "accounts", "AccountID"), SCOPE),
	Route("GET", "/Accounts/{AccountID}", get_one("Accounts", by_id("accounts")), SCOPE),
	Route("GET", "/TaxRates", _list("TaxRates", "tax_rates", "TaxType"), SCOPE),
	Route("GET", "/Currencies", _list("Currencies", "currencies", "Code"), SCOPE),
	Route(
		"GET",
		"/TrackingCategories",
		_list("TrackingCategories", "tracking_categories", "TrackingCategoryID", _archived),
		SCOPE,
	),
	Route(
		"GET",
		"/TrackingCategories/{TrackingCategoryID}",
		get_one("TrackingCategories", by_id("tracking_categories")),
		SCOPE,
	),
)

FAMILY = Family(
	("accounts", "tax_rates", "currencies", "tracking_categories"), ROUTES, seed=add_starting_lists
)
