"""What goes in the outbox, and when: the only place that queues work for Xero. doc_events handlers run
inside the user's transaction and only write outbox rows; the drain's follow-up work (an allocation
after its credit note, a removal of what an unanswered send left) and the Sync to Xero button queue
through here too."""

import frappe
from frappe import _

from xero_integration.core import parties
from xero_integration.core.mapping.advance import is_advance
from xero_integration.core.mapping.settlement import journal_rows, paid_at_once, return_applied
from xero_integration.core.objects import SEND_OF_REMOVAL
from xero_integration.sync import connection, links, outbox

DIRECTION_FIELD = {
	**{side.party: "sync_contacts" for side in parties.SIDES},
	**{side.invoice: side.sync_setting for side in parties.SIDES},
	"Payment Entry": "sync_payments",
	"Journal Entry": "sync_payments",
	"Item": "sync_items",
}
PUSH_DIRECTIONS = ("Both", "ERPNext to Xero")
# Documents that are only sent to Xero as the payments they make.
SETTLING_DOCTYPES = ("Payment Entry", "Journal Entry")


def pushes(doctype: str) -> bool:
	settings = frappe.get_cached_doc("Xero Settings")
	return bool(settings.enabled) and settings.get(DIRECTION_FIELD[doctype]) in PUSH_DIRECTIONS


def came_from_xero(doc) -> bool:
	# Documents the pull writes carry this flag: pushing them back would echo Xero's own change. ERPNext's
	# tools the pull runs (reconciling an advance) save documents of their own: the flag is then global.
	return bool(doc.flags.get("from_xero") or frappe.flags.get("from_xero"))


def queue_item(doc, method=None):
	"""An Item saved: to every connected organisation's price list (items belong to no Company)."""
	if came_from_xero(doc) or not pushes("Item"):
		return
	for organisation in connection.connected_organisations(linked=True):
		outbox.enqueue(organisation, "Item", "upsert", doc.doctype, doc.name)


def queue_party(doc, method=None):
	if came_from_xero(doc) or not pushes(doc.doctype):
		return
	if frappe.get_cached_doc("Xero Settings").push_contacts_to_all:
		organisations = connection.connected_organisations()
	else:
		# Otherwise a party reaches an organisation with its first document; after that, edits follow it.
		organisations = links.organisations_of(doc.doctype, doc.name, "Contact")
	for organisation in organisations:
		outbox.enqueue(organisation, "Contact", "upsert", doc.doctype, doc.name)


def queue_linked_parties(doc, method=None):
	"""A Contact or Address holds the email, phones or address of the Customers and Suppliers it is linked
	to: its edit is queued as an edit of each of them, under queue_party's rules."""
	# A new one comes with its party's own save (ERPNext makes the primary Contact and Address while saving
	# the party, one pulled from Xero included), or is not the party's primary one until a save of the
	# party makes it so.
	if doc.flags.in_insert:
		return
	for link in doc.get("links") or []:
		if link.link_doctype in parties.PARTY_DOCTYPES:
			# The party as queue_party reads it; the Contact's flags say whether the change came from Xero.
			queue_party(frappe._dict(doctype=link.link_doctype, name=link.link_name, flags=doc.flags))


def organisation_to_push(doc) -> str | None:
	"""Where this document's change goes, or None: from Xero itself, sync off, or no connected org."""
	if came_from_xero(doc) or not pushes(doc.doctype):
		return None
	return connection.organisation_of_company(doc.company)


def queue_document(doc, method=None):
	organisation = organisation_to_push(doc)
	if organisation:
		queue_send(organisation, doc)


def queue_send(organisation: str, doc) -> tuple | None:
	"""Queue a submitted document's send (and its party's, when the party is not in Xero yet); returns
	the work queued for the document itself."""
	if is_advance(doc) or links.is_linked(organisation, doc.doctype, doc.name, "Overpayment"):
		queue_party_first(organisation, doc.party_type, doc.party)
		work = ("Overpayment", "upsert")
	elif doc.doctype == "Journal Entry" and return_applied(doc):
		work = ("CreditNote", "allocate")
	elif doc.doctype in SETTLING_DOCTYPES:
		if not settles_invoices(doc):
			return None
		work = ("Payment", "create")
	else:
		side = parties.of_invoice(doc.doctype)
		queue_party_first(organisation, side.party, doc.get(side.party_field))
		work = (xero_object(doc), "upsert")
		if paid_at_once(doc):  # a POS invoice, or a bill marked paid: its payments follow it to Xero
			outbox.enqueue(organisation, "Payment", "create", doc.doctype, doc.name)
	outbox.enqueue(organisation, *work, doc.doctype, doc.name)
	return work


def queue_party_first(organisation: str, party_doctype: str, party: str) -> None:
	"""A document's party goes to Xero before it when it is not there yet."""
	if not links.get_link(organisation, party_doctype, party, "Contact"):
		outbox.enqueue(organisation, "Contact", "upsert", party_doctype, party)


def queue_advance_change(doc, method=None):
	"""ERPNext allocated an advance (Payment Reconciliation, an invoice's advances table) or freed it: the
	overpayment's allocations in Xero follow."""
	organisation = organisation_to_push(doc)
	if organisation and (
		is_advance(doc) or links.is_linked(organisation, doc.doctype, doc.name, "Overpayment")
	):
		outbox.enqueue(organisation, "Overpayment", "upsert", doc.doctype, doc.name)


def queue_unreconciled(doc, method=None):
	"""Unreconcile Payment freed money of a Payment Entry: in Xero its allocation is removed (or its
	payment gives way to an overpayment)."""
	if doc.voucher_type != "Payment Entry":
		return
	entry = frappe.get_doc("Payment Entry", doc.voucher_no)
	organisation = organisation_to_push(entry)
	if organisation:
		outbox.enqueue(organisation, "Overpayment", "upsert", entry.doctype, entry.name)


def queue_cancellation(doc, method=None):
	organisation = organisation_to_push(doc)
	if not organisation:
		return
	if doc.doctype not in SETTLING_DOCTYPES:
		free_settlements(organisation, doc)
	for removal in removals_of(doc):
		# A send that surely never reached Xero is withdrawn instead of creating the record there only to
		# remove it. One that may have (unanswered, or being sent right now) is left to the removal, which
		# looks it up in Xero and takes it over.
		maybe_sent = outbox.withdraw_unsent(organisation, *SEND_OF_REMOVAL[removal], doc.doctype, doc.name)
		if maybe_sent or any(
			links.links_of(organisation, doc.doctype, doc.name, prefix) for prefix in REMOVED_LINKS[removal]
		):
			outbox.enqueue(organisation, *removal, doc.doctype, doc.name)


def free_settlements(organisation: str, invoice) -> None:
	"""What settles an invoice being cancelled is taken off it in Xero first: Xero voids no invoice with
	payments or allocations on it. ERPNext unlinks them itself (it cancels no invoice with payments
	otherwise): a Payment Entry's money is then an advance, an overpayment in Xero; a journal's payment
	is removed (queue_cancellation runs after ERPNext's unlinking; the drain reads them after commit)."""
	entries = links.linked_names(
		organisation, "Payment Entry", links.allocation_object(invoice.doctype, invoice.name)
	) | links.paying_documents(organisation, "Payment Entry", invoice.doctype, invoice.name)
	for entry in entries:
		outbox.enqueue(organisation, "Overpayment", "upsert", "Payment Entry", entry)
	for journal in links.paying_documents(
		organisation, "Journal Entry", invoice.doctype, invoice.name
	) | links.paying_documents(organisation, "Journal Entry", invoice.doctype, invoice.name, links.WRITE_OFF):
		outbox.enqueue(organisation, "Payment", "delete", "Journal Entry", journal)


# What each removal takes away: the document's links whose Xero object starts so.
REMOVED_LINKS = {
	("Payment", "delete"): ("Payment:", f"{links.WRITE_OFF}:"),
	("Overpayment", "refund"): ("Overpayment",),
	("CreditNote", "unallocate"): (f"{links.ALLOCATION}:",),
	("CreditNote", "void"): ("CreditNote",),
	("Invoice", "void"): ("Invoice",),
}


def removals_of(doc) -> list[tuple[str, str]]:
	"""What a cancel takes out of Xero, in the drain's stage order."""
	if doc.doctype == "Payment Entry":
		return [("Payment", "delete"), ("Overpayment", "refund")]
	if doc.doctype == "Journal Entry":
		return [("CreditNote", "unallocate") if return_applied(doc) else ("Payment", "delete")]
	removals = (
		[("CreditNote", "unallocate"), ("CreditNote", "void")]
		if doc.get("is_return")
		else [("Invoice", "void")]
	)
	if paid_at_once(doc):
		removals.append(("Payment", "delete"))  # the payments it carries go first, so that it can be voided
	return removals


def queue_removal(organisation: str, kind: str, doctype: str, name: str) -> None:
	"""Void (or delete) in Xero what a send left there for a document cancelled meanwhile."""
	outbox.enqueue(organisation, *removal_of(kind), doctype, name)


def queue_payments(organisation: str, doctype: str, name: str) -> None:
	"""Send as plain payments an advance allocated in full before it reached Xero."""
	outbox.enqueue(organisation, "Payment", "create", doctype, name)


def queue_allocation(organisation: str, doctype: str, name: str) -> None:
	"""Allocate a return's credit note, now in Xero, to the invoice it reduces."""
	outbox.enqueue(organisation, "CreditNote", "allocate", doctype, name)


def queue_now(doctype: str, name: str) -> list[int]:
	"""The Sync to Xero button: queue one document for its organisation (a party for every connected
	organisation) at once. Returns the outbox rows it waits in."""
	if doctype in parties.PARTY_DOCTYPES:
		organisations = connection.connected_organisations()
		for organisation in organisations:
			outbox.enqueue(organisation, "Contact", "upsert", doctype, name)
		return [
			outbox.waiting_row(organisation, "Contact", "upsert", doctype, name)
			for organisation in organisations
		]
	doc = frappe.get_doc(doctype, name)
	organisation = connection.organisation_of_company(doc.company)
	if not organisation or doc.docstatus != 1:
		frappe.throw(_("Only submitted documents of a Company linked to a Xero organisation can be sent."))
	work = queue_send(organisation, doc)
	return [outbox.waiting_row(organisation, *work, doctype, name)] if work else []


def settles_invoices(doc) -> bool:
	if doc.doctype == "Journal Entry":
		return bool(journal_rows(doc))
	return any(ref.reference_doctype in parties.INVOICE_DOCTYPES for ref in doc.references)


def removal_of(kind: str) -> tuple[str, str]:
	"""What takes a record of this kind out of Xero: a void, or a payment's delete."""
	return ("Payment", "delete") if kind == "Payment" else (kind, "void")


def xero_object(doc) -> str:
	return "CreditNote" if doc.get("is_return") else "Invoice"
