"""A journal's write-off from an account Xero pays nothing from (neither a bank account nor one with
payments enabled): for each invoice it settles, a credit note of the amount, coded to that account and
allocated to the invoice (core/mapping/settlement.write_off_credit_note). The journal's links name them
WriteOff:<doctype>:<invoice>. Its cancel removes the allocation and voids the credit note."""

from frappe import _

from xero_integration.core import batching
from xero_integration.core.errors import XeroNotFound, XeroValidationError
from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.credit_note import allocation_payload
from xero_integration.core.mapping.settlement import write_off_credit_note, write_off_number
from xero_integration.core.where import equals
from xero_integration.sync import links, outbox
from xero_integration.sync.outbound.base import Outbound, Work


def write_off_object(reference) -> str:
	return f"{links.WRITE_OFF}:{reference.reference_doctype}:{reference.reference_name}"


class WriteOffCreditNotes(Outbound):
	def write_off_by_credit_notes(self, works: list[tuple[Work, list, dict]]) -> None:
		"""works: (work, its journal's settling entries, Xero ids of the invoices they settle)."""
		for work, entries, targets in works:
			with self.isolated(work):
				self.write_off(work, entries, targets)

	def write_off(self, work: Work, entries: list, targets: dict) -> None:
		# A credit note made but not yet allocated (Xero refused the allocation) is AUTHORISED; allocated
		# in full it is PAID, as Xero itself says.
		made = {link["xero_object"]: link for link in self.write_off_links(work)}
		notes, unallocated, missing = [], [], []
		try:
			for entry in entries:
				contact = links.get_link(self.organisation, entry.party_type, entry.party, "Contact")
				for reference in entry.references:
					link = made.get(write_off_object(reference))
					if link and link["xero_status"] == "PAID":
						continue
					invoice_id = targets.get((reference.reference_doctype, reference.reference_name))
					if not contact or not invoice_id:
						missing.append((reference.reference_doctype, reference.reference_name))
					elif link:
						unallocated.append((link["xero_id"], entry, reference, invoice_id))
					else:
						payload = write_off_credit_note(
							entry, reference, self.ctx, contact_id=contact["xero_id"]
						)
						notes.append((entry, reference, invoice_id, payload))
		except MappingError as e:
			self.attention(work, e.problems)
			return
		if missing:
			self.missing_in_xero(work, missing)
			return
		if work.row["uncertain"] and not self.replayable(work.row):
			notes = [note for note in notes if not self.adopt_write_off(work, *note, unallocated)]
		failures = []
		if notes:
			key = batching.idempotency_key(
				self.organisation, "write-off", [f"{work.row['name']}:{work.row['claimed_at']}"]
			)
			results = self.client.send(
				"CreditNote", [payload for *_note, payload in notes], idempotency_key=key
			)
			for (entry, reference, invoice_id, _payload), result in zip(notes, results, strict=True):
				if result.ok:
					self.save_write_off(work, reference, result.xero_id)
					unallocated.append((result.xero_id, entry, reference, invoice_id))
				else:
					failures.extend(result.errors)
		for credit_id, entry, reference, invoice_id in unallocated:
			failures.extend(self.allocate_write_off(work, credit_id, entry, reference, invoice_id))
		if failures:
			self.attention(work, failures)
			return
		self.finish(
			work,
			"Success",
			None,
			_(
				"Written off in Xero by credit note, allocated to the invoice: Xero takes no payments from "
				"the write-off account."
			),
		)

	def missing_in_xero(self, work: Work, documents: list[tuple[str, str]]) -> None:
		names = ", ".join(name for _doctype, name in documents)
		if any(outbox.is_queued(self.organisation, *document) for document in documents):
			self.wait(work, _("Waiting for {0} to reach Xero first.").format(names))
		else:
			self.attention(
				work,
				_(
					"{0} (or its party) is not in Xero: fix its sync (see its log), then press Retry here."
				).format(names),
			)

	def allocate_write_off(self, work: Work, credit_id: str, entry, reference, invoice_id: str) -> list[str]:
		"""Allocates the credit note to its invoice; returns Xero's words if it refuses."""
		try:
			self.client.call(
				"create_credit_note_allocation",
				credit_id,
				allocation_payload(reference.allocated_amount, invoice_id, entry.posting_date),
			)
		except XeroValidationError as e:
			return e.messages
		self.save_write_off(work, reference, credit_id, "PAID")
		return []

	def save_write_off(self, work: Work, reference, credit_id: str, status: str = "AUTHORISED") -> None:
		links.save_link(
			self.organisation, work.doc.doctype, work.doc.name, write_off_object(reference), credit_id, status
		)

	def adopt_write_off(self, work: Work, entry, reference, invoice_id: str, _payload, unallocated) -> bool:
		"""After an unanswered send: link the credit note Xero made (found by its number), adding it to
		unallocated unless it is allocated already. Returns whether it was found."""
		number = write_off_number(entry, reference)
		found = self.client.list_all("CreditNote", where=equals("CreditNoteNumber", number))
		found = [note for note in found if note.get("Status") in ("AUTHORISED", "PAID")]
		if not found or links.linked_xero_ids(self.organisation, [found[0]["CreditNoteID"]]):
			return False
		note = found[0]
		allocated = any(
			(a.get("Invoice") or {}).get("InvoiceID", "").lower() == invoice_id.lower()
			for a in note.get("Allocations") or []
		)
		self.save_write_off(work, reference, note["CreditNoteID"], "PAID" if allocated else "AUTHORISED")
		if not allocated:
			unallocated.append((note["CreditNoteID"], entry, reference, invoice_id))
		return True

	def write_off_links(self, work: Work) -> list[dict]:
		row = work.row
		return [
			link
			for link in links.links_of(
				self.organisation, row["reference_doctype"], row["reference_name"], f"{links.WRITE_OFF}:"
			)
			if link["xero_status"] != "VOIDED"
		]

	def undo_write_offs(self, write_offs: list[dict]) -> list[str]:
		"""Removes these write-off credit notes' allocations and voids them; returns Xero's words if it
		refuses."""
		failures = []
		for link in write_offs:
			note = self.client.get("CreditNote", link["xero_id"])
			if note is None or note.get("Status") == "VOIDED":
				links.set_link_status(link["name"], "VOIDED")  # removed in Xero meanwhile
				continue
			try:
				for allocation in note.get("Allocations") or []:
					if allocation.get("AllocationID") and not allocation.get("IsDeleted"):
						self.client.call(
							"delete_credit_note_allocations", link["xero_id"], allocation["AllocationID"]
						)
			except XeroNotFound:
				pass  # the allocation went meanwhile
			except XeroValidationError as e:
				failures.extend(e.messages)
				continue
			(result,) = self.client.send(
				"CreditNote", [{"CreditNoteID": link["xero_id"], "Status": "VOIDED"}]
			)
			if result.ok:
				links.set_link_status(link["name"], "VOIDED")
			else:
				failures.extend(result.errors)
		return failures
