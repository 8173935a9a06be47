"""Xero prepayments and overpayments into ERPNext advances: a Payment Entry left unallocated on the
party's account, reconciled against each invoice Xero allocates it to, as ERPNext's Payment Reconciliation
does (the invoice's outstanding drops), and unreconciled when the allocation is deleted in Xero (as the
Unreconcile Payment document does). A voided one is cancelled. Refunds are payments (payments.py), and
settle the advance through the same reconciliation.

The push sends an advance made in ERPNext the same way (links.py names the links), so an allocation
already linked, or one ERPNext already holds, is left as it is: nothing echoes back.
"""

from decimal import Decimal
from typing import ClassVar

import frappe
from frappe import _
from frappe.utils import flt

from xero_integration.core.mapping.advance import (
	GONE_STATUSES,
	PulledAdvance,
	advance_to_erpnext,
	allocation_hash,
	allocations_by_invoice,
	kind_of,
	made_by,
)
from xero_integration.core.money import ZERO, money
from xero_integration.sync import links
from xero_integration.sync.inbound import documents
from xero_integration.sync.inbound.base import Inbound, NeedsAttention, Outcome, Result, pulls


class AdvancesIn(Inbound):
	APPLIES: ClassVar[dict] = {"Overpayment": "apply_advance", "Prepayment": "apply_advance"}
	BRINGS_FIRST: ClassVar[dict] = {
		"Overpayment": "bring_what_advances_need",
		"Prepayment": "bring_what_advances_need",
	}

	def bring_what_advances_need(self, records: list[dict]) -> None:
		"""The contacts of these advances and the invoices they are allocated to, not linked yet."""
		standing = [record for record in records if record.get("Status") not in GONE_STATUSES]
		self.bring_contacts_of(standing)  # invoices.py
		self.bring(
			"Invoice", [invoice_id for record in standing for invoice_id in allocations_by_invoice(record)]
		)

	def apply_advance(self, record: dict) -> Outcome:
		kind = kind_of(record)
		xero_id, stamp = record[f"{kind}ID"], record.get("UpdatedDateUTC")
		if not pulls("sync_payments"):
			return Outcome(xero_id, stamp, Result.SKIPPED)
		found = self.links_of(kind, xero_id)
		if found:
			advance = frappe.get_doc("Payment Entry", found[0].reference_name)
			if advance.docstatus != 1:
				# Cancelled in ERPNext: the push refunds or removes it in Xero, nothing comes back.
				return Outcome(xero_id, stamp, Result.UNCHANGED)
			if record.get("Status") in GONE_STATUSES:
				documents.cancel(advance)
				self.link("Payment Entry", advance.name, kind, record)
				return self.done(
					Result.UPDATED,
					kind,
					record,
					"Payment Entry",
					advance.name,
					_("Cancelled: {0} in Xero.").format(record["Status"]),
				)
			changes = self.settle_allocations(advance, record)
			self.link("Payment Entry", advance.name, kind, record)
			if not changes:
				return Outcome(xero_id, stamp, Result.UNCHANGED)
			return self.done(Result.UPDATED, kind, record, "Payment Entry", advance.name, " ".join(changes))
		if record.get("Status") in GONE_STATUSES:
			return Outcome(xero_id, stamp, Result.SKIPPED, _("Voided in Xero before it reached ERPNext."))
		made_it = self.client.list_all("BankTransaction", where=made_by(kind, xero_id))
		pulled = advance_to_erpnext(
			record, made_it[0] if made_it else None, self.ctx, reverse_accounts=self.reverse_accounts
		)
		advance = self.advance_entry(pulled)
		self.link("Payment Entry", advance.name, kind, record)
		changes = self.settle_allocations(advance, record)
		return self.done(
			Result.CREATED, kind, record, "Payment Entry", advance.name, " ".join(changes) or None
		)

	def advance_entry(self, pulled: PulledAdvance):
		"""The advance's Payment Entry, on the party's default account (which must be in the advance's
		currency), submitted."""
		from erpnext.accounts.party import get_party_account

		party_type = pulled.values["party_type"]
		party = self.party_for(pulled.contact_id, party_type)  # contacts.py
		party_account = get_party_account(party_type, party, self.company)
		currency = frappe.get_cached_value("Account", party_account, "account_currency")
		if currency != pulled.currency:
			raise NeedsAttention(
				_(
					"It is in {0}, but {1} {2} is booked on {3}, in {4}: give the {1} the billing currency "
					"{0} and a {0} account in its Accounting tab, then press Sync now."
				).format(pulled.currency, party_type, party, party_account, currency)
			)
		advance = documents.payment_entry(
			pulled.values,
			company=self.company,
			party=party,
			party_account=party_account,
			cost_center=self.cost_center,
		)
		documents.save(advance)
		documents.submit(advance)
		return advance

	def settle_allocations(self, advance, record: dict) -> list[str]:
		"""Make what the advance settles of each invoice what Xero's standing allocations say; returns what
		changed, in words. An allocation linked already (made here or by the push) is left alone, and so
		is one ERPNext holds already (the push's, not linked yet): the pull never echoes the push."""
		kind = kind_of(record)
		standing = {}
		for invoice_id, allocation in allocations_by_invoice(record).items():
			doctype, name = self.linked_document("Invoice", invoice_id)
			standing[links.allocation_object(doctype, name)] = allocation
		linked = {
			link.xero_object: link
			for link in links.links_of(self.organisation, "Payment Entry", advance.name, links.ALLOCATION)
		}
		changes = []
		for xero_object in [*standing, *(key for key in linked if key not in standing)]:
			allocation, link = standing.get(xero_object), linked.get(xero_object)
			if link and allocation and link.xero_id in allocation.allocation_ids:
				continue
			doctype, name = links.allocated_document(xero_object)
			target = allocation.amount if allocation else ZERO
			held = settled_amount(advance, doctype, name)
			if held != target:
				if held > target:
					unreconcile(advance, doctype, name)
					held = ZERO
				if held < target:
					reconcile(advance, doctype, name, target - held)
				advance.reload()
				changes.append(
					_("{0} {1} now settles {2} of {3} {4}, as Xero's allocations say.").format(
						kind, advance.name, target, doctype, name
					)
				)
			if allocation:
				links.save_link(
					self.organisation,
					"Payment Entry",
					advance.name,
					xero_object,
					allocation.allocation_ids[0],
					"AUTHORISED",
					# Fingerprinted as the push fingerprints its own, so that the push keeps it.
					allocation_hash(
						{"Invoice": {"InvoiceID": allocation.invoice_xero_id}, "Amount": allocation.amount}
					),
				)
			else:
				links.delete_link(link.name)
		return changes


def settled_amount(advance, doctype: str, name: str) -> Decimal:
	"""What an advance settles of one document in ERPNext, in the party account's currency."""
	return sum(
		(
			money(flt(row.allocated_amount, 2))
			for row in advance.references
			if (row.reference_doctype, row.reference_name) == (doctype, name)
		),
		ZERO,
	)


def reconcile(advance, doctype: str, name: str, amount: Decimal) -> None:
	"""Allocate `amount` of an advance to an invoice, or to the Payment Entry refunding it, as ERPNext's
	Payment Reconciliation does: the advance gets a reference, the invoice's outstanding drops, and any
	exchange difference is booked by ERPNext."""
	from erpnext import get_party_account_type
	from erpnext.accounts.utils import reconcile_against_document

	unallocated = frappe.db.get_value("Payment Entry", advance.name, "unallocated_amount")
	receivable = get_party_account_type(advance.party_type) == "Receivable"
	entry = frappe._dict(
		{
			"voucher_type": "Payment Entry",
			"voucher_no": advance.name,
			"voucher_detail_no": None,
			"against_voucher_type": doctype,
			"against_voucher": name,
			"account": advance.paid_from if advance.payment_type == "Receive" else advance.paid_to,
			"party_type": advance.party_type,
			"party": advance.party,
			"dr_or_cr": "credit_in_account_currency" if receivable else "debit_in_account_currency",
			"unreconciled_amount": unallocated,
			"unadjusted_amount": unallocated,
			"allocated_amount": flt(amount, 2),
			"difference_amount": None,
			"cost_center": advance.cost_center,
		}
	)
	with documents.writing_from_xero():
		reconcile_against_document([entry])


def unreconcile(advance, doctype: str, name: str) -> None:
	"""Take back all an advance settles of one document, as ERPNext's Unreconcile Payment does."""
	undo = frappe.new_doc("Unreconcile Payment")
	undo.update({"company": advance.company, "voucher_type": "Payment Entry", "voucher_no": advance.name})
	undo.add_references()
	undo.allocations = [
		row for row in undo.allocations if (row.reference_doctype, row.reference_name) == (doctype, name)
	]
	if not undo.allocations:
		return
	undo.flags.ignore_permissions = True
	with documents.writing_from_xero():
		documents.save(undo)
		documents.submit(undo)
