"""Xero Payments into Payment Entries: one entry per payment, allocated to the invoice or credit note it
pays (brought in first when it is not in ERPNext yet), cancelled when the payment is deleted in Xero.
Payments of prepayments and overpayments are not applied (logged once)."""

from typing import ClassVar

import frappe
from frappe import _
from frappe.utils import flt

from xero_integration.core.mapping.payment import PulledPayment, payment_to_erpnext
from xero_integration.core.pull import unapplied_payment_target
from xero_integration.sync import links
from xero_integration.sync.inbound import documents
from xero_integration.sync.inbound.base import Inbound, NeedsAttention, Outcome, Result, pulls


class PaymentsIn(Inbound):
	APPLIES: ClassVar[dict] = {"Payment": "apply_payment"}
	BRINGS_FIRST: ClassVar[dict] = {"Payment": "bring_invoices_of"}

	def bring_invoices_of(self, payments: list[dict]) -> None:
		"""The invoices these payments pay not linked yet, fetched together and applied."""
		ids = [(p.get("Invoice") or {}).get("InvoiceID") for p in payments if p.get("Status") != "DELETED"]
		missing = links.unlinked(self.organisation, "Invoice", ids)
		if missing:
			for invoice in self.fetch("Invoice", missing).values():
				self.apply("Invoice", invoice)

	def apply_payment(self, payment: dict) -> Outcome:
		xero_id, stamp = payment["PaymentID"], payment.get("UpdatedDateUTC")
		if not pulls("sync_payments"):
			return Outcome(xero_id, stamp, Result.SKIPPED)
		target = unapplied_payment_target(payment)
		if target:
			return self.not_applied(payment, target)
		deleted = payment.get("Status") == "DELETED"
		found = self.links_of("Payment", xero_id)
		if found:
			link = found[0]
			entry = frappe.get_doc(link.reference_doctype, link.reference_name)
			if deleted and entry.docstatus == 1 and entry.doctype != "Payment Entry":
				# Part of an invoice paid at once (POS): cancelling the invoice is not Xero's call.
				raise NeedsAttention(
					_(
						"The payment of {0} {1} was deleted in Xero, but in ERPNext it is part of the "
						"invoice: cancel the invoice in ERPNext, or record the payment in Xero again."
					).format(entry.doctype, entry.name)
				)
			if deleted and entry.docstatus == 1:
				documents.cancel(entry)
				self.link(entry.doctype, entry.name, link.xero_object, payment, "DELETED")
				return self.done(
					Result.UPDATED,
					"Payment",
					payment,
					"Payment Entry",
					entry.name,
					_("Cancelled: deleted in Xero."),
				)
			self.link(entry.doctype, entry.name, link.xero_object, payment)
			return Outcome(xero_id, stamp, Result.UNCHANGED)
		if deleted:
			return Outcome(xero_id, stamp, Result.SKIPPED, _("Deleted in Xero before it reached ERPNext."))
		pulled = payment_to_erpnext(payment, self.ctx, reverse_accounts=self.reverse_accounts)
		doctype, name = self.paid_document(pulled.pays_kind, pulled.pays_xero_id)
		entry = self.payment_entry(pulled, doctype, name)
		self.link("Payment Entry", entry.name, f"Payment:{doctype}:{name}", payment, "AUTHORISED")
		return self.done(Result.CREATED, "Payment", payment, "Payment Entry", entry.name)

	def not_applied(self, payment: dict, target: str) -> Outcome:
		"""A payment of a prepayment or overpayment: skipped, and logged the first time it is read."""
		xero_id, stamp = payment["PaymentID"], payment.get("UpdatedDateUTC")
		message = _(
			"Xero payment {0} pays a {1}, not an invoice or credit note: the app does not apply payments of "
			"prepayments or overpayments. Record it in ERPNext by hand if your books need it."
		).format(xero_id, target)
		if self.held.note_not_applied("Payment", xero_id, stamp, message):
			self.log("Skipped", "Payment", xero_id, message, request=payment)
		return Outcome(xero_id, stamp, Result.SKIPPED, message)

	def paid_document(self, kind: str, xero_id: str | None) -> tuple[str, str]:
		if not xero_id:
			raise NeedsAttention(_("It does not say which invoice it pays."))
		found = self.links_of(kind, xero_id)
		if not found:
			record = self.fetch(kind, [xero_id]).get(xero_id.lower())
			if record:
				self.apply(kind, record)
			found = self.links_of(kind, xero_id)
		if not found:
			raise NeedsAttention(
				_(
					"It pays Xero {0} {1}, which is not in ERPNext: fix that document first (see its log)."
				).format(kind, xero_id)
			)
		return found[0].reference_doctype, found[0].reference_name

	def payment_entry(self, pulled: PulledPayment, doctype: str, name: str):
		"""The Payment Entry, built from the paid document's own party and accounts and submitted.

		Not with get_payment_entry: it computes the party's and both accounts' balances at today's date
		(validate keeps them) and carries its own guesses (the company's default bank account, open
		payment requests, early-payment discounts). Built here, validate computes the balances at the
		payment's own date. It costs the same: both compute them once (see README, Benchmarks)."""
		from erpnext.accounts.doctype.payment_entry.payment_entry import (
			set_party_account,
			set_party_account_currency,
			update_accounting_dimensions,
		)

		invoice = frappe.get_doc(doctype, name)
		mapped = pulled.values
		allocated = flt(pulled.allocated_amount, 2)
		outstanding = flt(invoice.outstanding_amount, 2)
		if not outstanding or (outstanding > 0) != (allocated > 0):
			raise NeedsAttention(
				_("{0} {1} has nothing outstanding to pay in ERPNext.").format(doctype, name)
			)
		party_type = mapped["party_type"]
		party_account = set_party_account(doctype, name, invoice, party_type)
		bank = mapped.get("paid_to") or mapped.get("paid_from")
		receive = mapped["payment_type"] == "Receive"
		entry = frappe.new_doc("Payment Entry")
		entry.update(
			{
				"payment_type": mapped["payment_type"],
				"company": invoice.company,
				"cost_center": invoice.get("cost_center"),
				"party_type": party_type,
				"party": invoice.get(frappe.scrub(party_type)),
				"paid_from": party_account if receive else bank,
				"paid_to": bank if receive else party_account,
				f"paid_{'from' if receive else 'to'}_account_currency": set_party_account_currency(
					doctype, party_account, invoice
				),
				"posting_date": mapped["posting_date"],
				"reference_no": mapped["reference_no"],
				"reference_date": mapped["reference_date"],
				"paid_amount": flt(mapped["paid_amount"], 2),
				"received_amount": flt(mapped["received_amount"], 2),
				"source_exchange_rate": flt(mapped["source_exchange_rate"], 9),
				"target_exchange_rate": flt(mapped["target_exchange_rate"], 9),
			}
		)
		entry.append(
			"references",
			{
				"reference_doctype": doctype,
				"reference_name": name,
				"due_date": invoice.get("due_date"),
				"bill_no": invoice.get("bill_no"),
				"total_amount": invoice.grand_total,
				"outstanding_amount": outstanding,
				"allocated_amount": allocated,
			},
		)
		update_accounting_dimensions(entry, invoice)
		documents.save(entry)
		documents.submit(entry)
		return entry
