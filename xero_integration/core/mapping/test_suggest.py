from xero_integration.core.mapping.suggest import account_suggestions, item_suggestions, tax_suggestions

XERO_ACCOUNTS = [
	{"Code": "200", "Name": "Sales", "Type": "REVENUE", "Status": "ACTIVE"},
	{"Code": "310", "Name": "Cost of Goods Sold", "Type": "DIRECTCOSTS", "Status": "ACTIVE"},
	{"Code": "090", "Name": "Business Bank Account", "Type": "BANK", "Status": "ACTIVE"},
	{"Code": "400", "Name": "Advertising", "Type": "OVERHEADS", "Status": "ARCHIVED"},
	{"Code": "4100", "Name": "Consulting", "Type": "REVENUE", "Status": "ACTIVE"},
]


def account(name, account_name, root_type, account_type=None, number=None):
	return {
		"name": name,
		"account_name": account_name,
		"root_type": root_type,
		"account_type": account_type,
		"account_number": number,
	}


def test_accounts_match_by_number_then_by_name_within_a_fitting_type():
	suggestions = account_suggestions(
		[
			account("Consulting Fees - TC", "Consulting Fees", "Income", number="4100"),
			account("Sales - TC", "Sales", "Income"),
			account("Cost of Goods Sold - TC", "Cost of Goods Sold", "Expense", "Cost of Goods Sold"),
			account("Advertising - TC", "Advertising", "Expense"),
			account("Main Bank - TC", "Business Bank Account", "Asset", "Bank"),
			account("Sales Tax - TC", "Sales", "Liability", "Tax"),
		],
		XERO_ACCOUNTS,
	)
	assert suggestions == {
		"Consulting Fees - TC": ("4100", "Consulting"),
		"Sales - TC": ("200", "Sales"),
		"Cost of Goods Sold - TC": ("310", "Cost of Goods Sold"),
		"Main Bank - TC": ("090", "Business Bank Account"),
	}


def test_a_number_that_points_at_the_wrong_kind_of_account_is_not_suggested():
	suggestions = account_suggestions([account("Misc - TC", "Misc", "Expense", number="200")], XERO_ACCOUNTS)
	assert suggestions == {}


def test_tax_rates_match_by_rate_and_side_and_only_when_unambiguous():
	rates = [
		{"TaxType": "OUTPUT2", "Name": "15% GST on Income", "EffectiveRate": 15, "Status": "ACTIVE"},
		{"TaxType": "INPUT2", "Name": "15% GST on Expenses", "EffectiveRate": 15, "Status": "ACTIVE"},
		{"TaxType": "ZERO", "Name": "Zero Rated", "EffectiveRate": 0, "Status": "ACTIVE"},
		{"TaxType": "EXEMPT", "Name": "Exempt", "EffectiveRate": 0, "Status": "ACTIVE"},
	]
	suggestions = tax_suggestions(
		[
			{"name": "Output GST - TC", "account_name": "Output GST", "tax_rate": 15},
			{"name": "Input GST - TC", "account_name": "Input GST", "tax_rate": 15},
			{"name": "GST - TC", "account_name": "GST", "tax_rate": 15},
			{"name": "No Tax - TC", "account_name": "No Tax", "tax_rate": 0},
		],
		rates,
	)
	assert suggestions == {"Output GST - TC": "OUTPUT2", "Input GST - TC": "INPUT2"}


def test_items_match_by_code_ignoring_case():
	assert item_suggestions(["widget", "gadget"], [{"Code": "WIDGET"}, {"Code": "Other"}]) == {
		"widget": "WIDGET"
	}
