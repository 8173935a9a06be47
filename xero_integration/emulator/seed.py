"""The small, realistic starting data of a new organisation (modelled on Xero's NZ demo company)."""

from decimal import Decimal

# Code, Name, Type, TaxType, Class, SystemAccount, EnablePaymentsToAccount
ACCOUNTS = (
	("090", "Business Bank Account", "BANK", "NONE", "ASSET", None, True),
	("091", "Business Savings Account", "BANK", "NONE", "ASSET", None, False),
	("200", "Sales", "REVENUE", "OUTPUT2", "REVENUE", None, False),
	("260", "Other Revenue", "REVENUE", "OUTPUT2", "REVENUE", None, False),
	("270", "Interest Income", "REVENUE", "NONE", "REVENUE", None, False),
	("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT2", "EXPENSE", None, False),
	("400", "Advertising", "EXPENSE", "INPUT2", "EXPENSE", None, False),
	("404", "Bank Fees", "EXPENSE", "NONE", "EXPENSE", None, False),
	# Payments enabled: where a write-off is booked as a payment of the invoice.
	("415", "Bad Debts", "EXPENSE", "INPUT2", "EXPENSE", None, True),
	("429", "General Expenses", "EXPENSE", "INPUT2", "EXPENSE", None, False),
	("477", "Wages and Salaries", "EXPENSE", "NONE", "EXPENSE", None, False),
	("610", "Accounts Receivable", "CURRENT", "NONE", "ASSET", "DEBTORS", False),
	("630", "Inventory", "INVENTORY", "NONE", "ASSET", None, False),
	("800", "Accounts Payable", "CURRLIAB", "NONE", "LIABILITY", "CREDITORS", False),
	("820", "GST", "CURRLIAB", "NONE", "LIABILITY", "GST", False),
	("860", "Rounding", "CURRLIAB", "NONE", "LIABILITY", "ROUNDING", False),
	("880", "Owner A Drawings", "EQUITY", "NONE", "EQUITY", None, False),
	("970", "Owner A Funds Introduced", "EQUITY", "NONE", "EQUITY", None, True),
)
# Besides these, one bank account per foreign currency enabled when the organisation is created, coded
# from 092 on in the order of its currencies ("Business USD Account"): bank transactions are in their bank
# account's currency.
FIRST_FOREIGN_BANK_CODE = 92

# TaxType, Name, rate (percent), ReportTaxType
TAX_RATES = (
	("OUTPUT2", "15% GST on Income", Decimal("15"), "OUTPUT"),
	("INPUT2", "15% GST on Expenses", Decimal("15"), "INPUT"),
	("NONE", "No GST", Decimal("0"), "NONE"),
	("ZERORATED", "Zero Rated", Decimal("0"), "OUTPUT"),
	("EXEMPTOUTPUT", "Exempt Income", Decimal("0"), "EXEMPTOUTPUT"),
	("EXEMPTINPUT", "Exempt Expenses", Decimal("0"), "EXEMPTINPUT"),
)

TRACKING_CATEGORIES = (("Region", ("North", "South", "Central")),)

CURRENCY_NAMES = {
	"AUD": "Australian Dollar",
	"CAD": "Canadian Dollar",
	"EUR": "Euro",
	"GBP": "British Pound",
	"JPY": "Japanese Yen",
	"NZD": "New Zealand Dollar",
	"SGD": "Singapore Dollar",
	"USD": "United States Dollar",
	"ZAR": "South African Rand",
}

VERSION_BY_BASE_CURRENCY = {"NZD": "NZ", "AUD": "AU", "GBP": "UK", "USD": "US"}
