"""The two sides of the books the app syncs, and everything that pairs on them: a Sales Invoice with its
Customer and Xero's ACCREC, a Purchase Invoice with its Supplier and ACCPAY. Frappe-free; the one place
that pairing is written."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Side:
	invoice: str  # the ERPNext invoice doctype
	party: str  # its party doctype
	party_field: str  # the invoice's field naming the party
	party_name_field: str  # the party's own name field
	item_account_field: str  # where an invoice line's account is
	xero_invoice_type: str
	xero_credit_note_type: str
	sync_setting: str  # the Xero Settings field holding this side's sync direction


SALES = Side(
	"Sales Invoice",
	"Customer",
	"customer",
	"customer_name",
	"income_account",
	"ACCREC",
	"ACCRECCREDIT",
	"sync_sales_invoices",
)
PURCHASE = Side(
	"Purchase Invoice",
	"Supplier",
	"supplier",
	"supplier_name",
	"expense_account",
	"ACCPAY",
	"ACCPAYCREDIT",
	"sync_purchase_invoices",
)
SIDES = (SALES, PURCHASE)
INVOICE_DOCTYPES = tuple(side.invoice for side in SIDES)
PARTY_DOCTYPES = tuple(side.party for side in SIDES)
SYNCED_DOCTYPES = (*PARTY_DOCTYPES, *INVOICE_DOCTYPES, "Payment Entry")


def of_invoice(doctype: str) -> Side:
	return next(side for side in SIDES if side.invoice == doctype)


def of_party(doctype: str) -> Side:
	return next(side for side in SIDES if side.party == doctype)


def of_xero_type(xero_type: str | None) -> Side | None:
	"""The side of a Xero invoice or credit note Type (None: not one of them)."""
	return next((s for s in SIDES if xero_type in (s.xero_invoice_type, s.xero_credit_note_type)), None)
