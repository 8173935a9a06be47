"""doc_events handlers. They run inside the user's transaction and only write outbox rows."""

import frappe

from xero_integration.sync import outbox

DIRECTION_FIELD = {
	"Customer": "sync_contacts",
	"Supplier": "sync_contacts",
	"Sales Invoice": "sync_sales_invoices",
	"Purchase Invoice": "sync_purchase_invoices",
	"Payment Entry": "sync_payments",
}
PUSH_DIRECTIONS = ("Both", "ERPNext to Xero")
PARTY_FIELD = {"Sales Invoice": "customer", "Purchase Invoice": "supplier"}
INVOICE_DOCTYPES = ("Sales Invoice", "Purchase Invoice")


def pushes(doctype: str) -> bool:
	settings = frappe.get_cached_doc("Xero Settings")
	return bool(settings.enabled) and settings.get(DIRECTION_FIELD[doctype]) in PUSH_DIRECTIONS


def organisation_for(company: str) -> str | None:
	"""The connected organisation of a Company; documents of unconnected Companies are never queued."""
	return frappe.db.get_value("Xero Organisation", {"company": company, "status": "Connected"}, "name")


def came_from_xero(doc) -> bool:
	# Documents the pull writes carry this flag: pushing them back would echo Xero's own change.
	return bool(doc.flags.get("from_xero"))


def queue_party(doc, method=None):
	if came_from_xero(doc) or not pushes(doc.doctype):
		return
	if frappe.get_cached_doc("Xero Settings").push_contacts_to_all:
		organisations = frappe.get_all("Xero Organisation", filters={"status": "Connected"}, pluck="name")
	else:
		# Otherwise a party reaches an organisation with its first document; after that, edits follow it.
		organisations = frappe.get_all(
			"Xero Document Link",
			filters={"reference_doctype": doc.doctype, "reference_name": doc.name, "xero_object": "Contact"},
			pluck="organisation",
		)
	for organisation in organisations:
		outbox.enqueue(organisation, "Contact", "upsert", doc.doctype, doc.name)


def organisation_to_push(doc) -> str | None:
	"""Where this document's change goes, or None: from Xero itself, sync off, or no connected org."""
	if came_from_xero(doc) or not pushes(doc.doctype):
		return None
	return organisation_for(doc.company)


def queue_document(doc, method=None):
	organisation = organisation_to_push(doc)
	if not organisation:
		return
	if doc.doctype == "Payment Entry":
		if any(ref.reference_doctype in INVOICE_DOCTYPES for ref in doc.references):
			outbox.enqueue(organisation, "Payment", "create", doc.doctype, doc.name)
		return
	party_doctype = "Customer" if doc.doctype == "Sales Invoice" else "Supplier"
	party = doc.get(PARTY_FIELD[doc.doctype])
	if not _linked(organisation, party_doctype, party, "Contact"):
		outbox.enqueue(organisation, "Contact", "upsert", party_doctype, party)
	outbox.enqueue(organisation, xero_object(doc), "upsert", doc.doctype, doc.name)


def queue_cancellation(doc, method=None):
	organisation = organisation_to_push(doc)
	if not organisation:
		return
	if doc.doctype == "Payment Entry":
		send, removal = ("Payment", "create"), ("Payment", "delete")
	else:
		send, removal = (xero_object(doc), "upsert"), (xero_object(doc), "void")
	# A send that surely never reached Xero is withdrawn instead of creating the document there only to
	# void it. One that may have (unanswered, or being sent right now) is left to the removal, which
	# looks it up in Xero and takes it over.
	maybe_sent = outbox.withdraw_unsent(organisation, *send, doc.doctype, doc.name)
	if maybe_sent or _linked(organisation, doc.doctype, doc.name):
		outbox.enqueue(organisation, *removal, doc.doctype, doc.name)


def xero_object(doc) -> str:
	return "CreditNote" if doc.get("is_return") else "Invoice"


def _linked(organisation: str, doctype: str, name: str, xero_object: str | None = None) -> bool:
	filters = {"organisation": organisation, "reference_doctype": doctype, "reference_name": name}
	if xero_object:
		filters["xero_object"] = xero_object
	return bool(frappe.db.exists("Xero Document Link", filters))


def queue_linked_parties(doc, method=None):
	"""A Contact or Address holds the email, phones or address of the Customers and Suppliers it is linked
	to: its edit is queued as an edit of each of them, under queue_party's rules."""
	# A new one comes with its party's own save (ERPNext makes the primary Contact and Address while saving
	# the party, one pulled from Xero included), or is not the party's primary one until a save of the
	# party makes it so.
	if doc.flags.in_insert:
		return
	for link in doc.get("links") or []:
		if link.link_doctype in ("Customer", "Supplier"):
			# The party as queue_party reads it; the Contact's flags say whether the change came from Xero.
			queue_party(frappe._dict(doctype=link.link_doctype, name=link.link_name, flags=doc.flags))
