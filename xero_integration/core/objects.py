"""The catalogue of Xero objects: one entry per kind, with what the rest of the app needs to list, fetch,
send and order it. Frappe-free. A new Xero object starts with an entry here.

Checked against Xero's OpenAPI spec (emulator/openapi) and xero-python 15.2: which lists page (1,000 a
page) and which return everything at once, which filter by IDs=, which take unitdp=4 (4 decimals on
UnitAmount) and includeArchived.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class XeroObject:
	kind: str  # the app's name for it, e.g. "CreditNote"
	collection: str  # the JSON collection it travels in, e.g. "CreditNotes"
	id_key: str
	list_method: str  # AccountingApi method names, called through core.client
	number_key: str | None = None
	get_method: str | None = None
	send_method: str | None = None  # POST of a batch, per-element results with summarizeErrors=false
	paged: bool = False  # the list pages (page, pageSize up to 1,000); otherwise it returns everything
	by_ids: bool = False  # the list filters by IDs=
	archived: bool = False  # the list shows archived records only when asked (includeArchived)
	unitdp: bool = False  # reads and writes take unitdp=4
	webhook_category: str | None = None  # Xero's eventCategory for it, if Xero sends webhooks
	depends_on: tuple[str, ...] = ()  # kinds that must be in Xero (or ERPNext) before it

	def read_params(self) -> dict:
		"""Parameters every read of this object takes."""
		return {"unitdp": 4} if self.unitdp else {}

	def send_params(self) -> dict:
		return {"unitdp": 4} if self.unitdp else {}


CONTACT = XeroObject(
	"Contact",
	"Contacts",
	"ContactID",
	"get_contacts",
	number_key="ContactNumber",
	get_method="get_contact",
	send_method="update_or_create_contacts",
	paged=True,
	by_ids=True,
	archived=True,
	webhook_category="CONTACT",
)
INVOICE = XeroObject(
	"Invoice",
	"Invoices",
	"InvoiceID",
	"get_invoices",
	number_key="InvoiceNumber",
	get_method="get_invoice",
	send_method="update_or_create_invoices",
	paged=True,
	by_ids=True,
	unitdp=True,
	webhook_category="INVOICE",
	depends_on=("Contact",),
)
CREDIT_NOTE = XeroObject(
	"CreditNote",
	"CreditNotes",
	"CreditNoteID",
	"get_credit_notes",
	number_key="CreditNoteNumber",
	get_method="get_credit_note",
	send_method="update_or_create_credit_notes",
	paged=True,
	unitdp=True,
	webhook_category="CREDITNOTE",
	depends_on=("Contact", "Invoice"),
)
PAYMENT = XeroObject(
	"Payment",
	"Payments",
	"PaymentID",
	"get_payments",
	get_method="get_payment",
	send_method="create_payments",
	paged=True,
	depends_on=("Invoice", "CreditNote", "Overpayment", "Prepayment"),  # refunds of advances too
)
BANK_TRANSACTION = XeroObject(
	"BankTransaction",
	"BankTransactions",
	"BankTransactionID",
	"get_bank_transactions",
	get_method="get_bank_transaction",
	send_method="update_or_create_bank_transactions",
	paged=True,
	unitdp=True,
	depends_on=("Contact",),
)
# Made by a RECEIVE-/SPEND-OVERPAYMENT (or -PREPAYMENT) bank transaction; allocated to invoices.
OVERPAYMENT = XeroObject(
	"Overpayment",
	"Overpayments",
	"OverpaymentID",
	"get_overpayments",
	get_method="get_overpayment",
	paged=True,
	depends_on=("Contact", "Invoice"),
)
PREPAYMENT = XeroObject(
	"Prepayment",
	"Prepayments",
	"PrepaymentID",
	"get_prepayments",
	get_method="get_prepayment",
	paged=True,
	depends_on=("Contact", "Invoice"),
)
# The organisation's lists the mappings are made from (read, never written).
ACCOUNT = XeroObject("Account", "Accounts", "AccountID", "get_accounts")
TAX_RATE = XeroObject("TaxRate", "TaxRates", "TaxType", "get_tax_rates")
ITEM = XeroObject(
	"Item", "Items", "ItemID", "get_items", number_key="Code", send_method="update_or_create_items"
)
CURRENCY = XeroObject("Currency", "Currencies", "Code", "get_currencies")
TRACKING_CATEGORY = XeroObject(
	"TrackingCategory", "TrackingCategories", "TrackingCategoryID", "get_tracking_categories"
)
ORGANISATION = XeroObject("Organisation", "Organisations", "OrganisationID", "get_organisations")

OBJECTS: dict[str, XeroObject] = {
	o.kind: o
	for o in (
		CONTACT,
		INVOICE,
		CREDIT_NOTE,
		PAYMENT,
		BANK_TRANSACTION,
		OVERPAYMENT,
		PREPAYMENT,
		ACCOUNT,
		TAX_RATE,
		ITEM,
		CURRENCY,
		TRACKING_CATEGORY,
		ORGANISATION,
	)
}
# The documents synced both ways, in dependency order: a pull applies them in this order.
SYNCED = ("Contact", "Invoice", "CreditNote", "Overpayment", "Prepayment", "Payment")

# The outbox's work, in the order one organisation's drain does it: a payment needs its invoice, an
# invoice its contact; deletions of payments, and of allocations, come before voids of the
# invoices they were on, and new payments (an amended Payment Entry) after the old ones are gone. An
# advance (an overpayment) is brought in line with its Payment Entry (made, allocated, allocations
# removed) once its invoices are in Xero and before any of them is voided.
STAGES = (
	("Contact", "upsert"),
	("Invoice", "upsert"),
	("CreditNote", "upsert"),
	("Payment", "delete"),
	("CreditNote", "unallocate"),
	("Overpayment", "refund"),
	("Overpayment", "upsert"),
	("CreditNote", "void"),
	("Invoice", "void"),
	("Payment", "create"),
	("CreditNote", "allocate"),
	# Items last: no document names them yet (new stages go at the end, so waiting rows keep theirs).
	("Item", "upsert"),
)
STAGE_ORDER = {stage: position for position, stage in enumerate(STAGES)}
# Outbox work that creates the record in Xero, and the work that takes it away again.
SEND_OF_REMOVAL = {
	("Invoice", "void"): ("Invoice", "upsert"),
	("CreditNote", "void"): ("CreditNote", "upsert"),
	("Payment", "delete"): ("Payment", "create"),
	("Overpayment", "refund"): ("Overpayment", "upsert"),
	("CreditNote", "unallocate"): ("CreditNote", "allocate"),
}


def of_category(category: str) -> XeroObject | None:
	"""The object a webhook event of this category is about (None: not accounting data)."""
	return next((o for o in OBJECTS.values() if o.webhook_category == category), None)
