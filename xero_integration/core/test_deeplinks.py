from urllib.parse import parse_qs, urlparse

from xero_integration.core.deeplinks import xero_url


def page(url):
	query = parse_qs(urlparse(url).query)
	return query["shortcode"][0], query["redirecturl"][0]


def test_sales_invoices_bills_and_credit_notes_open_in_their_ledger():
	assert page(xero_url("!a1B", "Invoice", "inv-1", "Sales Invoice")) == (
		"!a1B",
		"/AccountsReceivable/View.aspx?InvoiceID=inv-1",
	)
	assert page(xero_url("!a1B", "Invoice", "bill-1", "Purchase Invoice"))[1] == (
		"/AccountsPayable/Edit.aspx?InvoiceID=bill-1"
	)
	assert page(xero_url("!a1B", "CreditNote", "cn-1", "Purchase Invoice"))[1] == (
		"/AccountsPayable/ViewCreditNote.aspx?creditNoteID=cn-1"
	)
	assert page(xero_url("!a1B", "Contact", "c-1", "Customer"))[1] == "/Contacts/View/c-1"


def test_the_redirect_stays_one_parameter_of_the_login_url():
	url = xero_url("!a1B", "Invoice", "inv-1", "Sales Invoice")
	assert url.startswith("https://go.xero.com/organisationlogin/default.aspx?")
	assert len(parse_qs(urlparse(url).query)) == 2


def test_no_link_without_short_code_or_id():
	assert xero_url(None, "Invoice", "inv-1") is None
	assert xero_url("!a1B", "Invoice", None) is None
	assert xero_url("!a1B", "TrackingCategory", "t-1") is None
