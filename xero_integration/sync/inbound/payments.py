"""Xero Payments into Payment Entries: one entry per payment, allocated to the invoice or credit note it
pays (brought in first when it is not in ERPNext yet), cancelled when the payment is deleted in Xero. A
refund of a prepayment or overpayment is money going back the other way, reconciled against the advance
it refunds (advances.py), and unreconciled and cancelled when deleted in Xero."""

from typing import ClassVar

import frappe
from frappe import _
from frappe.utils import flt

from xero_integration.core.mapping.payment import (
	ADVANCE_KINDS,
	PAID_KINDS,
	PulledPayment,
	payment_kind,
	payment_to_erpnext,
)
from xero_integration.sync import links
from xero_integration.sync.inbound import documents
from xero_integration.sync.inbound.advances import reconcile, unreconcile
from xero_integration.sync.inbound.base import Inbound, NeedsAttention, Outcome, Result, pulls


class PaymentsIn(Inbound):
	APPLIES: ClassVar[dict] = {"Payment": "apply_payment"}
	BRINGS_FIRST: ClassVar[dict] = {"Payment": "bring_what_payments_pay"}

	def bring_what_payments_pay(self, payments: list[dict]) -> None:
		"""The invoices, credit notes and advances these payments pay not linked yet, fetched together and
		applied."""
		standing = [p for p in payments if p.get("Status") != "DELETED"]
		for kind in PAID_KINDS:
			self.bring(kind, [(p.get(kind) or {}).get(f"{kind}ID") for p in standing])

	def apply_payment(self, payment: dict) -> Outcome:
		xero_id, stamp = payment["PaymentID"], payment.get("UpdatedDateUTC")
		if not pulls("sync_payments"):
			return Outcome(xero_id, stamp, Result.SKIPPED)
		refund = payment_kind(payment)[2] in ADVANCE_KINDS
		deleted = payment.get("Status") == "DELETED"
		found = self.links_of(links.REFUND if refund else "Payment", xero_id)
		if found:
			link = found[0]
			if deleted and link.xero_status == "DELETED":
				# Known already: the push deleted it (a Payment Entry unreconciled into an advance keeps
				# standing), or an earlier pull cancelled its entry.
				return Outcome(xero_id, stamp, Result.UNCHANGED)
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
				if refund:
					advance = self.advance_refunded(payment)
					unreconcile(advance, entry.doctype, entry.name)
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
		if refund:
			entry = self.refund_entry(pulled, self.advance_refunded(payment))
			self.link("Payment Entry", entry.name, links.REFUND, payment, "AUTHORISED")
		else:
			doctype, name = self.linked_document(pulled.pays_kind, pulled.pays_xero_id)
			entry = self.payment_entry(pulled, doctype, name)
			self.link("Payment Entry", entry.name, f"Payment:{doctype}:{name}", payment, "AUTHORISED")
		return self.done(Result.CREATED, "Payment", payment, "Payment Entry", entry.name)

	def advance_refunded(self, payment: dict):
		"""The advance (a submitted Payment Entry) a refund pays back."""
		kind = payment_kind(payment)[2]
		_doctype, name = self.linked_document(kind, (payment.get(kind) or {}).get(f"{kind}ID"))
		advance = frappe.get_doc("Payment Entry", name)
		if advance.docstatus != 1:
			raise NeedsAttention(
				_("It refunds Payment Entry {0}, which is cancelled in ERPNext.").format(advance.name)
			)
		return advance

	def refund_entry(self, pulled: PulledPayment, advance):
		"""The refund's Payment Entry, on the advance's party and account, submitted and reconciled against
		the advance (ERPNext's reverse payment): the advance's unallocated amount drops by the refund."""
		entry = documents.payment_entry(
			pulled.values,
			company=advance.company,
			party=advance.party,
			party_account=advance.paid_from if advance.payment_type == "Receive" else advance.paid_to,
			cost_center=advance.cost_center,
		)
		documents.save(entry)
		documents.submit(entry)
		reconcile(advance, "Payment Entry", entry.name, pulled.allocated_amount)
		return entry

	def payment_entry(self, pulled: PulledPayment, doctype: str, name: str):
		"""The Payment Entry, built from the paid document's own party and accounts and submitted.

		Not with get_payment_entry: it computes the party's and both accounts' balances at today's date
		(validate keeps them) and carries its own guesses (the company's default bank account, open
		payment requests, early-payment discounts). Built here, validate computes the balances at the
		payment's own date. It costs the same: both compute them once (see README, Benchmarks)."""
		from erpnext.accounts.doctype.payment_entry.payment_entry import (
			set_party_account,
			update_accounting_dimensions,
		)

		invoice = frappe.get_doc(doctype, name)
		allocated = flt(pulled.allocated_amount, 2)
		outstanding = flt(invoice.outstanding_amount, 2)
		if not outstanding or (outstanding > 0) != (allocated > 0):
			raise NeedsAttention(
				_("{0} {1} has nothing outstanding to pay in ERPNext.").format(doctype, name)
			)
		party_type = pulled.values["party_type"]
		entry = documents.payment_entry(
			pulled.values,
			company=invoice.company,
			party=invoice.get(frappe.scrub(party_type)),
			party_account=set_party_account(doctype, name, invoice, party_type),
			cost_center=invoice.get("cost_center"),
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
