"""Sales and Purchase Invoices and their returns to Xero invoices, bills and credit notes: create or
update, and void (or delete a draft) on cancel. A return's allocation to the invoice it reduces is
allocations.py's."""

from functools import cached_property
from typing import ClassVar

from frappe import _

from xero_integration.core import batching, parties
from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.credit_note import map_credit_note
from xero_integration.core.mapping.invoice import map_invoice
from xero_integration.core.objects import OBJECTS
from xero_integration.core.where import equals
from xero_integration.sync import events, links, outbox
from xero_integration.sync.outbound.base import Outbound, Work, payload_hash

NUMBER_TAKEN = "must be unique"
ARCHIVED_CONTACT = "Archived contact"
# Xero's IDs-style filters break past about 50 values.
IDS_PER_LOOKUP = 40


class TransactionsOut(Outbound):
	HANDLES: ClassVar[dict] = {
		("Invoice", "upsert"): "push_transactions",
		("CreditNote", "upsert"): "push_transactions",
		("Invoice", "void"): "void_transactions",
		("CreditNote", "void"): "void_transactions",
	}

	def push_transactions(self, rows: list[dict]):
		kind = rows[0]["object_type"]
		works, contact_ids = [], {}
		for work in self.load(rows):
			with self.isolated(work):
				row = work.row
				work.link = links.get_link(
					self.organisation, row["reference_doctype"], row["reference_name"], kind
				)
				if work.doc.docstatus == 2:
					self.cancelled_before_sent(work)
					continue
				contact_ids[row["name"]] = self.contact_id(work)
				if contact_ids[row["name"]]:
					works.append(work)
		# A replayed request needs no look-up: Xero answers it with what it did the first time.
		self.find_unconfirmed(
			kind, [w for w in works if not w.link and w.row["uncertain"] and not self.replayable(w.row)]
		)
		ready, works = works, []
		for work in ready:
			with self.isolated(work):
				contact_id = contact_ids[work.row["name"]]
				try:
					work.payload, notes = self.prepare_transaction(
						kind, work.doc, contact_id, work.link and work.link["xero_id"]
					)
				except MappingError as e:
					self.attention(work, e.problems)
					continue
				work.hash = payload_hash(kind, work.payload)
				work.notes.extend(notes)
				if work.link and work.link.get("content_hash") == work.hash:
					self.skipped(work, _("Unchanged since the last sync: nothing sent."))
					continue
				works.append(work)
		for work, result in self.send(kind, works, look_up_stale=True):
			if result.ok:
				self.done(work, kind, result.xero_id, result.element.get("Status"), result.element)
				# Allocate only when ERPNext applies the return to the original invoice's outstanding;
				# a return that keeps its own outstanding stays a credit on account, in Xero too.
				if (
					kind == "CreditNote"
					and work.doc.get("return_against")
					and not work.doc.get("update_outstanding_for_self")
				):
					events.queue_allocation(self.organisation, work.doc.doctype, work.doc.name)
			elif not work.link and any(NUMBER_TAKEN in m for m in result.errors):
				self.adopt_or_report(kind, work, result)
			elif any(ARCHIVED_CONTACT in m for m in result.errors):
				self.restore_contact(work)
			else:
				self.attention(work, result.errors, result.element)

	def cancelled_before_sent(self, work: Work):
		"""Cancelled while its send waited (in backoff, parked, or pressed Retry on): it is never created
		in Xero now. If an unanswered send created it there after all, it is linked and voided."""
		if not work.link and work.row["uncertain"]:
			work.link = self.link_sent_transaction(work)
		if work.link:
			events.queue_removal(self.organisation, work.row["object_type"], work.doc.doctype, work.doc.name)
		self.skipped(work, _("Cancelled in ERPNext before it was sent: not created in Xero."))

	def restore_contact(self, work: Work):
		"""Someone archived the contact in Xero after we linked it: restore it, then send the document
		again after the usual backoff. If Xero refuses the restore, the document waits for a person."""
		contact_id = work.payload["Contact"]["ContactID"]
		restore = {"ContactID": contact_id, "ContactStatus": "ACTIVE"}
		(result,) = self.client.send("Contact", [restore])
		side = parties.of_invoice(work.doc.doctype)
		if not result.ok:
			self.attention(
				work,
				[
					*result.errors,
					_(
						"Its Xero contact is archived and Xero refused to restore it. Restore or merge the "
						"contact in Xero, then press Retry."
					),
				],
				result.element,
			)
			return
		links.set_status(self.organisation, side.party, work.doc.get(side.party_field), "Contact", "ACTIVE")
		self.retry(work, _("Its Xero contact was archived and has been restored; sending again."))

	def contact_id(self, work: Work) -> str | None:
		side = parties.of_invoice(work.doc.doctype)
		party_doctype, party = side.party, work.doc.get(side.party_field)
		# A batch of 50 invoices often names the same few parties: one look-up each per drain.
		if (party_doctype, party) not in self.contact_ids:
			link = links.get_link(self.organisation, party_doctype, party, "Contact")
			self.contact_ids[(party_doctype, party)] = link and link["xero_id"]
		if self.contact_ids[(party_doctype, party)]:
			return self.contact_ids[(party_doctype, party)]
		if outbox.is_queued(self.organisation, party_doctype, party):
			self.wait(work, _("Waiting for {0} {1} to reach Xero first.").format(party_doctype, party))
		else:
			self.attention(
				work,
				_("{0} {1} is not in Xero. Fix its sync (see its log), then press Retry here.").format(
					party_doctype, party
				),
			)
		return None

	@cached_property
	def contact_ids(self) -> dict[tuple[str, str], str | None]:
		return {}

	def prepare_transaction(self, kind: str, doc, contact_id: str | None, xero_id: str | None):
		"""The payload a sync sends for this invoice or return (Preview shows the same), and notes on it."""
		if kind == "CreditNote":
			mapped = map_credit_note(
				doc, self.ctx, contact_id=contact_id, tax_rates=self.tax_rates, credit_note_id=xero_id
			)
		else:
			mapped = map_invoice(
				doc, self.ctx, contact_id=contact_id, tax_rates=self.tax_rates, invoice_id=xero_id
			)
		notes = []
		if mapped.rounding_difference:
			notes.append(
				_("A rounding line of {0} makes Xero's total equal ERPNext's.").format(
					mapped.rounding_difference
				)
			)
		return mapped.payload, notes

	def link_sent_transaction(self, work: Work) -> dict | None:
		"""After an unanswered send: link the document Xero kept, if it did. Returns its link."""
		doc, kind = work.doc, work.row["object_type"]
		link = links.get_link(self.organisation, doc.doctype, doc.name, kind)
		if link:
			return link
		found = self.find_transactions(kind, [doc]).get(doc.name)
		if found:
			links.save_link(
				self.organisation, doc.doctype, doc.name, kind, found["xero_id"], found["xero_status"]
			)
		return found

	def find_unconfirmed(self, kind: str, works: list[Work]) -> None:
		"""After an unanswered send: did Xero keep those documents? Link the ones it did."""
		# Invoices are looked up 40 numbers a call; credit notes have no such filter, one a call.
		per_call = IDS_PER_LOOKUP if kind == "Invoice" else 1
		for start in range(0, len(works), per_call):
			group = works[start : start + per_call]
			found = self.find_transactions(kind, [work.doc for work in group])
			for work in group:
				work.link = found.get(work.doc.name)

	def find_transactions(self, kind: str, docs: list) -> dict[str, dict]:
		"""Live Xero documents for these ERPNext documents, by number (and by Reference for bills, whose
		numbers are the supplier's and repeat)."""
		if kind == "CreditNote":
			records = self.client.list_all(kind, where=equals("CreditNoteNumber", docs[0].name))
			record_key = "CreditNoteNumber"
		else:
			numbers = sorted({doc.get("bill_no") or doc.name for doc in docs})
			records = self.client.list_all(kind, invoice_numbers=numbers)
			record_key = "Reference" if docs[0].doctype == parties.PURCHASE.invoice else "InvoiceNumber"
		names, id_key = {doc.name for doc in docs}, OBJECTS[kind].id_key
		found = {}
		for record in records:
			name = record.get(record_key)
			if name in names and record.get("Status") not in ("DELETED", "VOIDED"):
				found[name] = {
					"xero_id": record[id_key],
					"xero_status": record.get("Status"),
					"content_hash": None,
				}
		return found

	def adopt_or_report(self, kind: str, work: Work, result: batching.ElementResult):
		existing = self.find_transactions(kind, [work.doc]).get(work.doc.name)
		contact = work.payload["Contact"]["ContactID"]
		record = existing and self.client.get(kind, existing["xero_id"])
		if record:
			if record.get("Contact", {}).get("ContactID") == contact:
				work.notes.append(_("Xero already had this document from an earlier send; linked to it."))
				self.done(work, kind, existing["xero_id"], record.get("Status"), record)
				return
		self.attention(
			work,
			[
				*result.errors,
				_("Xero has a document with this number for another contact: rename one of them."),
			],
			result.element,
		)

	def void_transactions(self, rows: list[dict]):
		kind = rows[0]["object_type"]
		works = []
		for work in self.load(rows, removal=True):
			with self.isolated(work):
				row = work.row
				if not self.absorb_open_sends(work, self.link_sent_transaction):
					continue
				work.link = links.get_link(
					self.organisation, row["reference_doctype"], row["reference_name"], kind
				)
				if not work.link:
					self.skipped(work, _("Never reached Xero: nothing to void."))
					continue
				if work.link["xero_status"] in ("VOIDED", "DELETED"):
					self.skipped(work, _("Already {0} in Xero.").format(work.link["xero_status"]))
					continue
				status = "DELETED" if work.link["xero_status"] in ("DRAFT", "SUBMITTED") else "VOIDED"
				work.payload = {OBJECTS[kind].id_key: work.link["xero_id"], "Status": status}
				works.append(work)
		for work, result in self.send(kind, works, look_up_stale=False):
			if result.ok:
				links.set_status(
					self.organisation,
					work.row["reference_doctype"],
					work.row["reference_name"],
					kind,
					result.element.get("Status"),
					result.element.get("UpdatedDateUTC"),
				)
				self.finish(work, "Success", work.link["xero_id"], None, result.element)
			else:
				self.attention(work, explain_void_refusal(result.errors), result.element)


def explain_void_refusal(messages: list[str]) -> list[str]:
	"""Xero's words, plus what a bookkeeper should do about the usual refusal."""
	if any("payment or credit note allocated" in m for m in messages):
		return [
			*messages,
			_(
				"Cancel the Payment Entries (or remove the payments and credit notes in Xero) for this invoice, "
				"then press Retry."
			),
		]
	return messages
