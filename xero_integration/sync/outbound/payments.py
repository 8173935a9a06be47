"""What settles an invoice, to Xero Payments: a Payment Entry (one payment per invoice or return it
settles, its deductions from their own accounts), an invoice paid at once (a POS Sales Invoice, one
payment per mode of payment; a Purchase Invoice marked paid), a Journal Entry against invoices (a
write-off, from its other account; where Xero pays nothing from that account, a credit note allocated
to each invoice: write_offs.py). Deleted in Xero when the document is cancelled (Xero payments can't
be edited)."""

from decimal import Decimal
from functools import cached_property
from typing import ClassVar

import frappe
from frappe import _
from frappe.utils import flt

from xero_integration.core import parties
from xero_integration.core.errors import XeroNotFound, XeroValidationError
from xero_integration.core.mapping import content_hash
from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.payment import payment_object, payment_payloads
from xero_integration.core.mapping.settlement import journal_rows, settlements, takes_payments
from xero_integration.core.where import equals
from xero_integration.sync import events, links, outbox
from xero_integration.sync.outbound.base import Work
from xero_integration.sync.outbound.write_offs import WriteOffCreditNotes


def settling_entries(doc) -> list:
	"""What a document settles invoices with (core/mapping/settlement.py), one Xero payment per
	reference of each entry."""
	return [
		frappe._dict(entry, references=[frappe._dict(ref) for ref in entry["references"]])
		for entry in settlements(doc)
	]


class PaymentsOut(WriteOffCreditNotes):
	HANDLES: ClassVar[dict] = {
		("Payment", "create"): "create_payments",
		("Payment", "delete"): "delete_payments",
	}

	def create_payments(self, rows: list[dict]):
		works, elements, objects, write_offs = [], [], {}, []
		for work in self.load(rows):
			with self.isolated(work):
				row, doc = work.row, work.doc
				if doc.docstatus == 2:
					self.cancelled_payment(work)
					continue
				entries = settling_entries(doc)
				targets = self.payment_targets(entries)
				if doc.doctype == "Journal Entry" and not self.pays_from(entries):
					write_offs.append((work, entries, targets))
					continue
				# A replayed request needs no look-up: Xero answers it with what it did the first time.
				if row["uncertain"] and not self.replayable(row):
					self.adopt_sent_payments(doc, entries, targets)
				already = {
					link["xero_object"]
					for link in links.links_of(self.organisation, doc.doctype, doc.name, "Payment:")
				}
				try:
					payments = [
						payment
						for entry in entries
						if (unsent := [ref for ref in entry.references if payment_object(ref) not in already])
						for payment in self.prepare_payments(entry, unsent, targets)
					]
				except MappingError as e:
					if all("not in Xero yet" in p for p in e.problems) and self.references_queued(entries):
						self.wait(work, " ".join(e.problems))
					else:
						self.attention(work, e.problems)
					continue
				if not payments:
					self.skipped(work, _("Every payment of this document is already in Xero."))
					continue
				work.payload = {"Payments": [payload for _ref, payload in payments]}
				work.hash = content_hash(work.payload)
				works.append(work)
				for ref, payload in payments:
					content = f"{payment_object(ref)}:{work.hash}"
					objects[(row["name"], content)] = payment_object(ref)
					elements.append((work, content, payload))
		self.write_off_by_credit_notes(write_offs)
		if not elements:
			return
		requests, stale = self.requests("Payment-create", elements)
		self.look_up_first(stale)
		failed: dict[str, list[str]] = {}
		for group, key in requests:
			answered = self.send_request("Payment", group, key)
			for (work, content, _payload), (_work, result) in zip(group, answered, strict=True):
				if result.ok:
					links.save_link(
						self.organisation,
						work.doc.doctype,
						work.doc.name,
						objects[(work.row["name"], content)],
						result.xero_id,
						"AUTHORISED",
					)
				else:
					failed.setdefault(work.row["name"], []).extend(result.errors)
		for work in works:
			if work in stale:
				continue
			if work.row["name"] in failed:
				self.attention(work, explain_payment_refusal(failed[work.row["name"]]))
				continue
			if work.doc.doctype == "Payment Entry":  # an invoice's own Xero fields show the invoice
				links.show_on_document(work.doc.doctype, work.doc.name, None, "AUTHORISED")
			self.done(work, "Payment", None, "AUTHORISED")

	def pays_from(self, entries: list) -> bool:
		"""Whether Xero takes payments from the account these entries settle from (a journal has one):
		a bank account or one with payments enabled, as Xero's chart of accounts says (read once a
		drain). An account that is not mapped, or not in Xero, goes the payment way, to be refused with
		Xero's words."""
		if not entries:
			return True
		account = entries[0].get("paid_to" if entries[0].payment_type == "Receive" else "paid_from")
		code = self.ctx.account_codes.get(account)
		if not code:
			return True
		if code not in self.payment_accounts:
			found = self.client.list_all("Account", where=equals("Code", code))
			self.payment_accounts[code] = not found or takes_payments(found[0])
		return self.payment_accounts[code]

	@cached_property
	def payment_accounts(self) -> dict[str, bool]:
		return {}

	def cancelled_payment(self, work: Work):
		"""Cancelled while its send waited: never created in Xero now. What an unanswered send created
		there after all is linked and deleted."""
		doc = work.doc
		if work.row["uncertain"]:
			self.adopt_payments_of(work)
		if any(
			link["xero_status"] != "DELETED"
			for link in links.links_of(self.organisation, doc.doctype, doc.name, "Payment:")
		):
			events.queue_removal(self.organisation, "Payment", doc.doctype, doc.name)
		self.skipped(work, _("Cancelled in ERPNext before it was sent: not created in Xero."))

	def prepare_payments(self, entry, references: list, targets: dict) -> list[tuple[dict, dict]]:
		"""(reference, payload) of the Xero payment a sync sends for each of these references of a
		settling entry (Preview shows the same)."""
		payloads = payment_payloads(frappe._dict(entry, references=references), self.ctx, xero_ids=targets)
		paid = [reference for reference in references if reference.get("allocated_amount")]
		return list(zip(paid, payloads, strict=True))

	def payment_targets(self, entries: list) -> dict[tuple[str, str], str]:
		"""(doctype, name) -> Xero InvoiceID/CreditNoteID of each invoice reference already in Xero. Only
		invoices (and their returns) are paid in Xero; orders and journals are not payment targets."""
		targets = {}
		for ref in (ref for entry in entries for ref in entry.references):
			if ref.reference_doctype not in parties.INVOICE_DOCTYPES:
				continue
			is_return = frappe.db.get_value(ref.reference_doctype, ref.reference_name, "is_return")
			kind = "CreditNote" if is_return else "Invoice"
			link = links.get_link(self.organisation, ref.reference_doctype, ref.reference_name, kind)
			if link:
				targets[(ref.reference_doctype, ref.reference_name)] = link["xero_id"]
		return targets

	def adopt_sent_payments(self, doc, entries: list, targets: dict) -> None:
		"""After an unanswered send: link the payments Xero kept (same invoice, amount and reference), never
		one that already belongs to another document."""
		for entry in entries:
			found = self.client.list_all(
				"Payment", where=equals("Reference", entry.reference_no or entry.name)
			)
			live = [p for p in found if p.get("Status") != "DELETED"]
			taken = links.linked_xero_ids(self.organisation, [p["PaymentID"] for p in live])
			kept = [p for p in live if p["PaymentID"].lower() not in taken]
			for ref in entry.references:
				target = targets.get((ref.reference_doctype, ref.reference_name))
				amount = Decimal(str(flt(abs(ref.allocated_amount), 2)))
				for payment in kept:
					document = payment.get("Invoice") or payment.get("CreditNote") or {}
					paid_target = target in (document.get("InvoiceID"), document.get("CreditNoteID"))
					if paid_target and Decimal(str(payment.get("Amount"))) == amount:
						links.save_link(
							self.organisation,
							doc.doctype,
							doc.name,
							payment_object(ref),
							payment["PaymentID"],
							"AUTHORISED",
						)
						kept.remove(payment)
						break

	def references_queued(self, entries: list) -> bool:
		return any(
			outbox.is_queued(self.organisation, ref.reference_doctype, ref.reference_name)
			for entry in entries
			for ref in entry.references
		)

	def adopt_payments_of(self, work: Work) -> None:
		"""After an unanswered send of this document's payments: link what Xero kept."""
		entries = settling_entries(work.doc)
		self.adopt_sent_payments(work.doc, entries, self.payment_targets(entries))

	def delete_payments(self, rows: list[dict]):
		for work in self.load(rows, removal=True):
			with self.isolated(work):
				row = work.row
				if not self.absorb_open_sends(work, self.adopt_payments_of):
					continue
				failures, gone = [], 0
				removed = self.removed_links(work, "Payment")
				written_off = self.removed_links(work, links.WRITE_OFF)
				failures.extend(self.undo_write_offs(written_off))
				for link in removed:
					try:
						self.client.call("delete_payment", link["xero_id"], {"Status": "DELETED"})
					except XeroNotFound:
						gone += 1  # removed in Xero meanwhile: what the cancel wanted
					except XeroValidationError as e:
						failures.extend(e.messages)
						continue
					links.set_link_status(link["name"], "DELETED")
				if failures:
					self.attention(work, failures)
					continue
				if work.doc is not None and work.doc.docstatus == 1:
					if removed or written_off:
						self.credit_left(work)
					else:
						self.finish(work, "Success", None, _("Nothing of it is left to remove from Xero."))
					continue
				links.show_on_document(row["reference_doctype"], row["reference_name"], None, "DELETED")
				message = _("Payments removed from Xero.")
				if gone:
					message += " " + _("{0} of them Xero no longer had: nothing to remove there.").format(
						gone
					)
				self.finish(work, "Success", None, message)

	def removed_links(self, work: Work, kind: str) -> list[dict]:
		"""What a delete takes out of Xero, of this kind (its payments, its write-off credit notes): all
		of a cancelled document's; of a journal still submitted, those for documents it no longer settles
		(ERPNext unlinked it from a cancelled invoice)."""
		row = work.row
		standing = [
			link
			for link in links.links_of(
				self.organisation, row["reference_doctype"], row["reference_name"], f"{kind}:"
			)
			if link["xero_status"] not in ("DELETED", "VOIDED")
		]
		if work.doc is None or work.doc.docstatus != 1 or work.doc.doctype != "Journal Entry":
			return standing
		settled = {(r.get("reference_type"), r.get("reference_name")) for r in journal_rows(work.doc)}
		return [link for link in standing if links.paid_document(link) not in settled]

	def credit_left(self, work: Work) -> None:
		"""A journal whose invoice was cancelled: its payment is gone from Xero, so that the invoice could
		be voided, but ERPNext keeps what it credited on the party's account. Only a person can say where
		that belongs."""
		self.attention(
			work,
			_(
				"The invoice this journal settled was cancelled in ERPNext, so its payment was removed from "
				"Xero (Xero voids no paid invoice). ERPNext keeps what the journal credited on the party's "
				"account, which Xero does not have: cancel {0} if it was only for that invoice, or apply "
				"the credit to another invoice (Payment Reconciliation) and book the same in Xero; then "
				"press Retry here."
			).format(work.doc.name),
		)


def explain_payment_refusal(messages: list[str]) -> list[str]:
	"""Xero's words, plus what a bookkeeper should do about a payment from an account Xero pays nothing
	from (a write-off or deduction account)."""
	if any("not a bank account" in m or "payments to this account" in m.lower() for m in messages):
		return [
			*messages,
			_(
				"In Xero, enable payments to that account (Chart of accounts > the account > Enable payments "
				"to this account), or map the ERPNext account to a Xero account that takes payments; then "
				"press Retry."
			),
		]
	return messages
