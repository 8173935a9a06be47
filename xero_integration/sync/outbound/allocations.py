"""Returns applied to invoices, as Xero credit note allocations: a return applied to the invoice it was
made against (its own allocation), or to another invoice of the party by Payment Reconciliation (a
Journal Entry, core/mapping/settlement.return_applied). Removed in Xero when that entry, or the return,
is cancelled."""

from typing import ClassVar

from frappe import _

from xero_integration.core import batching
from xero_integration.core.errors import XeroNotFound, XeroValidationError
from xero_integration.core.mapping.credit_note import allocation_payload
from xero_integration.core.mapping.settlement import return_applied
from xero_integration.core.money import money
from xero_integration.sync import links, outbox
from xero_integration.sync.outbound.base import Outbound, Work


class AllocationsOut(Outbound):
	HANDLES: ClassVar[dict] = {
		("CreditNote", "allocate"): "allocate_credit_notes",
		("CreditNote", "unallocate"): "unallocate_credit_notes",
	}

	def allocate_credit_notes(self, rows: list[dict]):
		for work in self.load(rows):
			with self.isolated(work):
				if work.doc.docstatus == 2:
					self.skipped(work, _("Cancelled in ERPNext: not allocated."))
					continue
				applied = applied_return(work.doc)
				credit = links.get_link(self.organisation, *applied["return"], "CreditNote")
				invoice = links.get_link(self.organisation, *applied["invoice"], "Invoice")
				if not credit or not invoice:
					self.not_in_xero(work, applied)
					continue
				xero_object = links.allocation_object(*applied["invoice"])
				if work.row["uncertain"] and not self.replayable(work.row):
					self.adopt_allocation(work, credit["xero_id"], invoice["xero_id"], applied)
				if links.get_link(self.organisation, work.doc.doctype, work.doc.name, xero_object):
					self.skipped(work, _("Already allocated in Xero."))
					continue
				work.payload = allocation_payload(applied["amount"], invoice["xero_id"], applied["date"])
				try:
					answer = self.client.call(
						"create_credit_note_allocation",
						credit["xero_id"],
						work.payload,
						idempotency_key=batching.idempotency_key(
							self.organisation, "allocate", [f"{work.row['name']}:{work.row['claimed_at']}"]
						),
					)
				except XeroValidationError as e:
					self.attention(work, e.messages, e.body)
					continue
				except XeroNotFound as e:
					self.attention(
						work,
						_(
							"Xero no longer has the credit note or the invoice (removed there meanwhile): "
							"nothing was allocated. Check both in Xero."
						),
						e.body,
					)
					continue
				(made,) = answer.body["Allocations"]
				self.save_credit_allocation(work, xero_object, made["AllocationID"])
				self.finish(
					work,
					"Success",
					credit["xero_id"],
					_("{0} of {1} allocated to {2}.").format(
						applied["amount"], applied["return"][1], applied["invoice"][1]
					),
				)

	def not_in_xero(self, work: Work, applied: dict) -> None:
		if work.doc.doctype != "Journal Entry":
			self.skipped(work, _("The original invoice is not in Xero: the credit note stays unallocated."))
		elif any(
			outbox.is_queued(self.organisation, *document)
			for document in (applied["return"], applied["invoice"])
		):
			self.wait(work, _("Waiting for the return and the invoice to reach Xero first."))
		else:
			self.attention(
				work,
				_(
					"{0} and {1} must both be in Xero before the return is applied there: fix their sync (see their logs), then press Retry here."
				).format(applied["return"][1], applied["invoice"][1]),
			)

	def save_credit_allocation(self, work: Work, xero_object: str, allocation_id: str) -> None:
		links.save_link(
			self.organisation, work.doc.doctype, work.doc.name, xero_object, allocation_id, "AUTHORISED"
		)
		links.show_on_document(work.doc.doctype, work.doc.name, *self.shown(work.doc))

	def shown(self, doc) -> tuple:
		"""What the document's own Xero fields keep showing: a return its credit note (a journal has none)."""
		link = links.get_link(self.organisation, doc.doctype, doc.name, "CreditNote")
		return (link["xero_id"], link["xero_status"]) if link else (None, None)

	def adopt_allocation(self, work: Work, credit_id: str, invoice_id: str, applied: dict) -> None:
		"""After an unanswered allocation: link the one Xero made (same invoice and amount), unless it is
		already another document's."""
		credit_note = self.client.get("CreditNote", credit_id) or {}
		for made in credit_note.get("Allocations") or []:
			same_invoice = (made.get("Invoice") or {}).get("InvoiceID", "").lower() == invoice_id.lower()
			if same_invoice and money(made.get("Amount")) == applied["amount"] and made.get("AllocationID"):
				if not links.linked_xero_ids(self.organisation, [made["AllocationID"]]):
					self.save_credit_allocation(
						work, links.allocation_object(*applied["invoice"]), made["AllocationID"]
					)
					return

	def unallocate_credit_notes(self, rows: list[dict]):
		for work in self.load(rows, removal=True):
			with self.isolated(work):
				row = work.row
				if not self.absorb_open_sends(work, self.adopt_open_allocation):
					continue
				standing = [
					link
					for link in links.links_of(
						self.organisation,
						row["reference_doctype"],
						row["reference_name"],
						f"{links.ALLOCATION}:",
					)
					if link["xero_status"] != "DELETED"
				]
				if standing and work.doc is None:
					self.attention(
						work, _("Deleted in ERPNext: remove its credit note allocation in Xero by hand.")
					)
					continue
				credit = standing and links.get_link(
					self.organisation, *applied_return(work.doc)["return"], "CreditNote"
				)
				for link in standing:
					try:
						self.client.call("delete_credit_note_allocations", credit["xero_id"], link["xero_id"])
					except XeroNotFound:
						pass  # removed in Xero meanwhile: what the cancel wanted
					links.set_link_status(link["name"], "DELETED")
				self.finish(work, "Success", None, _("Its credit note allocation is removed from Xero."))

	def adopt_open_allocation(self, work: Work) -> None:
		applied = applied_return(work.doc)
		credit = links.get_link(self.organisation, *applied["return"], "CreditNote")
		invoice = links.get_link(self.organisation, *applied["invoice"], "Invoice")
		if credit and invoice:
			self.adopt_allocation(work, credit["xero_id"], invoice["xero_id"], applied)


def applied_return(doc) -> dict:
	"""The return a document applies and the invoice it applies it to: a journal's (Payment
	Reconciliation), or a return's own, to the invoice it was made against."""
	if doc.doctype == "Journal Entry":
		return return_applied(doc)
	return {
		"return": (doc.doctype, doc.name),
		"invoice": (doc.doctype, doc.return_against),
		"amount": abs(money(doc.grand_total)),
		"date": doc.posting_date,
	}
