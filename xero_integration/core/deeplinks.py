"""Links into Xero's web app for a record we know the id of. Frappe-free.

Every link goes through organisationlogin with the organisation's short code, so a user signed in to
several organisations lands in the right one. The app only shows these links; it never fetches them.
"""

from urllib.parse import quote, urlencode

LOGIN_URL = "https://go.xero.com/organisationlogin/default.aspx"
PURCHASE_DOCTYPES = frozenset({"Purchase Invoice", "Supplier"})


def xero_path(xero_object: str, xero_id: str, reference_doctype: str | None = None) -> str | None:
	"""The page of one record inside Xero, or None for objects Xero has no page for."""
	record = quote(xero_id, safe="")
	ledger = "AccountsPayable" if reference_doctype in PURCHASE_DOCTYPES else "AccountsReceivable"
	if xero_object == "Contact":
		return f"/Contacts/View/{record}"
	if xero_object == "Invoice":
		# Bills open in their editor: Xero has no read-only page for an ACCPAY invoice.
		page = "Edit" if ledger == "AccountsPayable" else "View"
		return f"/{ledger}/{page}.aspx?InvoiceID={record}"
	if xero_object == "CreditNote":
		return f"/{ledger}/ViewCreditNote.aspx?creditNoteID={record}"
	if xero_object == "Payment" or xero_object.startswith("Payment:"):
		return f"/Bank/ViewTransaction.aspx?bankTransactionID={record}"
	return None


def xero_url(
	short_code: str | None, xero_object: str | None, xero_id: str | None, reference_doctype: str | None = None
) -> str | None:
	if not (short_code and xero_object and xero_id):
		return None
	path = xero_path(xero_object, xero_id, reference_doctype)
	if not path:
		return None
	return f"{LOGIN_URL}?{urlencode({'shortcode': short_code, 'redirecturl': path})}"
