"""Advances to Xero Overpayments: a Payment Entry with money left for later is one overpayment of its
whole amount (core/mapping/advance.py), and what it settles, at submit or whenever ERPNext allocates or
unreconciles it, is kept in line as the overpayment's allocations. A Payment Entry first sent as plain
payments becomes an advance when Unreconcile Payment frees its money: its payments are deleted in Xero
and the overpayment takes their place. Cancelling removes the allocations and refunds the overpayment on
the entry's date."""

from typing import ClassVar

import frappe
from frappe import _

from xero_integration.core import batching, parties
from xero_integration.core.errors import XeroNotFound, XeroValidationError
from xero_integration.core.mapping import content_hash
from xero_integration.core.mapping.advance import (
	OVERPAYMENT_TYPES,
	allocation_hash,
	is_advance,
	overpayment_payload,
	party_amount,
	refund_payload,
	wanted_allocations,
)
from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.payment import payment_object
from xero_integration.core.money import money, to_decimal
from xero_integration.core.where import equals
from xero_integration.sync import events, links, outbox
from xero_integration.sync.outbound.base import Outbound, Work


class AdvancesOut(Outbound):
	HANDLES: ClassVar[dict] = {
		("Overpayment", "upsert"): "upsert_advances",
		("Overpayment", "refund"): "refund_advances",
	}

	def upsert_advances(self, rows: list[dict]):
		to_make, made = [], []
		for work in self.load(rows):
			with self.isolated(work):
				doc = work.doc
				if doc.docstatus == 2:
					self.skipped(work, _("Cancelled in ERPNext: its removal takes the advance out of Xero."))
					continue
				work.link = links.get_link(self.organisation, doc.doctype, doc.name, "Overpayment")
				if not work.link and not self.is_advance_now(work):
					continue
				if not work.link and work.row["uncertain"] and not self.replayable(work.row):
					work.link = self.adopt_overpayment(doc)
				if work.link:
					made.append(work)
					continue
				contact = links.get_link(self.organisation, doc.party_type, doc.party, "Contact")
				if not contact:
					self.party_missing(work)
					continue
				try:
					work.payload = overpayment_payload(doc, self.ctx, contact_id=contact["xero_id"])
				except MappingError as e:
					self.attention(work, e.problems)
					continue
				work.hash = content_hash(work.payload)
				to_make.append(work)
		made.extend(self.make_overpayments(to_make))
		for work in made:
			with self.isolated(work):
				self.allocate(work)

	def party_missing(self, work: Work) -> None:
		party_doctype, party = work.doc.party_type, work.doc.party
		if outbox.is_queued(self.organisation, party_doctype, party):
			self.wait(work, _("Waiting for {0} {1} to reach Xero first.").format(party_doctype, party))
		else:
			self.attention(
				work,
				_("{0} {1} is not in Xero. Fix its sync (see its log), then press Retry here.").format(
					party_doctype, party
				),
			)

	def is_advance_now(self, work: Work) -> bool:
		"""Whether this entry, not an overpayment in Xero, must become one: it has money left for later,
		and its plain payments, if any were sent, are no longer what it settles. Settles the work otherwise."""
		doc = work.doc
		if not is_advance(doc):
			if not self.live_payment_links(doc):
				events.queue_payments(self.organisation, doc.doctype, doc.name)
				self.skipped(
					work, _("Allocated in full before it reached Xero: sent as its payments instead.")
				)
				return False
			if self.direct_payments_hold(doc):
				self.skipped(work, _("Its payments in Xero are still what it settles: nothing to change."))
				return False
		sends = outbox.open_rows(self.organisation, "Payment", "create", doc.doctype, doc.name)
		if any(send.status == outbox.PROCESSING or send.uncertain for send in sends):
			self.wait(work, _("Its payments are still on their way to Xero; the advance waits for them."))
			return False
		outbox.withdraw([send.name for send in sends], _("Sent to Xero as an advance instead."))
		return self.delete_direct_payments(work)

	def direct_payments_hold(self, doc) -> bool:
		settled = {
			payment_object(ref)
			for ref in doc.references
			if to_decimal(ref.allocated_amount) and ref.reference_doctype in parties.INVOICE_DOCTYPES
		}
		return all(
			"Payment:{}:{}".format(*links.paid_document(link)) in settled
			for link in self.live_payment_links(doc)
		)

	def live_payment_links(self, doc) -> list[dict]:
		return [
			link
			for link in links.links_of(self.organisation, doc.doctype, doc.name, "Payment:")
			if link["xero_status"] != "DELETED"
		]

	def delete_direct_payments(self, work: Work) -> bool:
		"""The entry's plain payments in Xero give way to its overpayment. Returns whether they are gone."""
		failures = []
		for link in self.live_payment_links(work.doc):
			try:
				self.client.call("delete_payment", link["xero_id"], {"Status": "DELETED"})
			except XeroNotFound:
				pass  # removed in Xero meanwhile
			except XeroValidationError as e:
				failures.extend(e.messages)
				continue
			links.set_link_status(link["name"], "DELETED")
		if failures:
			self.attention(work, failures)
		return not failures

	def make_overpayments(self, works: list[Work]) -> list[Work]:
		"""Send the overpayments, in batches; returns the works whose overpayment Xero made."""
		made = []
		for work, result in self.send("BankTransaction", works, look_up_stale=True):
			if not result.ok:
				self.attention(work, result.errors, result.element)
				continue
			work.link = self.link_overpayment(work.doc, result.element["OverpaymentID"], work.hash)
			made.append(work)
		return made

	def link_overpayment(self, doc, overpayment_id: str, hash_: str | None = None) -> dict:
		links.save_link(
			self.organisation, doc.doctype, doc.name, "Overpayment", overpayment_id, "AUTHORISED", hash_
		)
		return links.get_link(self.organisation, doc.doctype, doc.name, "Overpayment")

	def adopt_overpayment(self, doc) -> dict | None:
		"""After an unanswered send: the overpayment Xero made of this entry (same type, contact, reference and
		amount), unless it already belongs to another document."""
		contact = links.get_link(self.organisation, doc.party_type, doc.party, "Contact")
		overpayment_type = OVERPAYMENT_TYPES.get((doc.payment_type, doc.party_type))
		if not contact or not overpayment_type:
			return None
		found = self.client.list_all(
			"BankTransaction", where=equals("Reference", doc.reference_no or doc.name)
		)
		candidates = [
			t
			for t in found
			if t.get("Type") == overpayment_type
			and (t.get("Contact") or {}).get("ContactID", "").lower() == contact["xero_id"].lower()
			and money(t.get("Total")) == party_amount(doc)
		]
		taken = links.linked_xero_ids(self.organisation, [t["OverpaymentID"] for t in candidates])
		kept = [t for t in candidates if t["OverpaymentID"].lower() not in taken]
		return self.link_overpayment(doc, kept[0]["OverpaymentID"]) if kept else None

	def allocate(self, work: Work) -> None:
		"""Bring the overpayment's allocations in line with what the entry settles now."""
		doc, overpayment_id = work.doc, work.link["xero_id"]
		try:
			wanted = self.allocations_of(doc)
		except MappingError as e:
			waiting = any(
				outbox.is_queued(self.organisation, ref.reference_doctype, ref.reference_name)
				for ref in doc.references
			)
			if waiting and all("not in Xero yet" in p for p in e.problems):
				self.wait(work, " ".join(e.problems))
			else:
				self.attention(work, e.problems)
			return
		current = {
			link["xero_object"]: link
			for link in links.links_of(self.organisation, doc.doctype, doc.name, f"{links.ALLOCATION}:")
			if link["xero_status"] != "DELETED"
		}
		if work.row["uncertain"]:
			self.adopt_allocations(doc, overpayment_id, wanted, current)
		stale = [
			link
			for xero_object, link in current.items()
			if xero_object not in wanted or link["content_hash"] != allocation_hash(wanted[xero_object])
		]
		for link in stale:
			try:
				self.client.call("delete_overpayment_allocations", overpayment_id, link["xero_id"])
			except XeroNotFound:
				pass  # removed in Xero meanwhile: what ERPNext wants
			links.set_link_status(link["name"], "DELETED")
		kept = {link["xero_object"] for link in current.values() if link not in stale}
		new = {
			xero_object: allocation for xero_object, allocation in wanted.items() if xero_object not in kept
		}
		if new:
			work.payload = {"Allocations": list(new.values())}
			try:
				answer = self.client.call(
					"create_overpayment_allocations",
					overpayment_id,
					work.payload,
					idempotency_key=batching.idempotency_key(
						self.organisation, "allocate", [f"{work.row['name']}:{work.row['claimed_at']}"]
					),
				)
			except XeroValidationError as e:
				self.attention(work, e.messages, e.body)
				return
			for (xero_object, allocation), made in zip(new.items(), answer.body["Allocations"], strict=True):
				self.save_allocation(doc, xero_object, made["AllocationID"], allocation)
		work.hash = work.link["content_hash"]
		work.notes.append(describe(doc, wanted))
		self.done(work, "Overpayment", overpayment_id, "AUTHORISED")

	def allocations_of(self, doc) -> dict[str, dict]:
		"""Allocation link object -> the allocation the overpayment should have for each invoice the entry
		settles now (core/mapping/advance.py)."""
		keys = {
			(ref.reference_doctype, ref.reference_name)
			for ref in doc.references
			if ref.reference_doctype in parties.INVOICE_DOCTYPES
		}
		targets = {
			key: link["xero_id"]
			for key in keys
			if (link := links.get_link(self.organisation, *key, "Invoice"))
		}
		dates = {key: frappe.db.get_value(key[0], key[1], "posting_date") for key in keys}
		return {
			links.allocation_object(*key): allocation
			for key, allocation in wanted_allocations(doc, xero_ids=targets, dates=dates).items()
		}

	def save_allocation(self, doc, xero_object: str, allocation_id: str, allocation: dict) -> None:
		links.save_link(
			self.organisation,
			doc.doctype,
			doc.name,
			xero_object,
			allocation_id,
			"AUTHORISED",
			allocation_hash(allocation),
		)

	def adopt_allocations(self, doc, overpayment_id: str, wanted: dict, current: dict) -> None:
		"""After an unanswered allocation: link those Xero made (same invoice and amount)."""
		overpayment = self.client.get("Overpayment", overpayment_id) or {}
		known = {link["xero_id"].lower() for link in current.values()}
		for xero_object, allocation in wanted.items():
			if xero_object in current:
				continue
			for made in overpayment.get("Allocations") or []:
				same_invoice = (made.get("Invoice") or {}).get("InvoiceID", "").lower() == (
					allocation["Invoice"]["InvoiceID"].lower()
				)
				if same_invoice and money(made.get("Amount")) == allocation["Amount"]:
					if made["AllocationID"].lower() not in known:
						self.save_allocation(doc, xero_object, made["AllocationID"], allocation)
						known.add(made["AllocationID"].lower())
						current[xero_object] = links.get_link(
							self.organisation, doc.doctype, doc.name, xero_object
						)
						break

	def refund_advances(self, rows: list[dict]):
		for work in self.load(rows, removal=True):
			with self.isolated(work):
				row = work.row
				if not self.absorb_open_sends(work, lambda w: self.adopt_overpayment(w.doc)):
					continue
				work.link = links.get_link(
					self.organisation, row["reference_doctype"], row["reference_name"], "Overpayment"
				)
				if not work.link:
					self.finish(work, "Skipped", None, _("Nothing of it reached Xero: nothing to take back."))
					continue
				self.refund(work)

	def refund(self, work: Work) -> None:
		row, overpayment_id = work.row, work.link["xero_id"]
		for link in links.links_of(
			self.organisation, row["reference_doctype"], row["reference_name"], f"{links.ALLOCATION}:"
		):
			if link["xero_status"] == "DELETED":
				continue
			try:
				self.client.call("delete_overpayment_allocations", overpayment_id, link["xero_id"])
			except XeroNotFound:
				pass
			links.set_link_status(link["name"], "DELETED")
		overpayment = self.client.get("Overpayment", overpayment_id)
		remaining = money((overpayment or {}).get("RemainingCredit") or 0)
		if remaining and work.doc is None:
			self.attention(
				work,
				_(
					"The Payment Entry was deleted in ERPNext: refund the overpayment of {0} in Xero by hand."
				).format(remaining),
			)
			return
		if remaining:
			work.payload = refund_payload(work.doc, self.ctx, overpayment_id=overpayment_id, amount=remaining)
			(result,) = [result for _work, result in self.send("Payment", [work], look_up_stale=False)]
			if not result.ok:
				self.attention(work, result.errors, result.element)
				return
			links.save_link(
				self.organisation,
				row["reference_doctype"],
				row["reference_name"],
				links.REFUND,
				result.xero_id,
				"AUTHORISED",
			)
		links.set_link_status(work.link["name"], "PAID")
		links.show_on_document(row["reference_doctype"], row["reference_name"], overpayment_id, "PAID")
		self.finish(
			work,
			"Success",
			overpayment_id,
			_("Allocations removed and the overpayment refunded in Xero: the advance is taken back."),
		)


def describe(doc, wanted: dict) -> str:
	settled = ", ".join(
		f"{xero_object.split(':', 2)[2]} ({allocation['Amount']})"
		for xero_object, allocation in wanted.items()
	)
	unallocated = money(to_decimal(doc.unallocated_amount))
	return _("In Xero as an overpayment; allocated to {0}; {1} left for later.").format(
		settled or _("nothing yet"), unallocated
	)
