"""ERPNext returns (Sales Invoice / Purchase Invoice with is_return) <-> Xero credit notes.

Lines, tax, currency rate and rounding are invoice.map_transaction's, with the sign flipped: an
ERPNext return carries negative quantities and totals, a Xero credit note positive ones.
"""

from collections.abc import Mapping
from decimal import Decimal

from xero_integration.core import parties
from xero_integration.core.mapping.context import MappingContext, MappingError
from xero_integration.core.mapping.invoice import (
	MappedDocument,
	PulledDocument,
	map_transaction,
	transaction_to_erpnext,
)
from xero_integration.core.money import money, to_date_string


def map_credit_note(
	doc: Mapping,
	ctx: MappingContext,
	*,
	contact_id: str,
	tax_rates: Mapping[str, Decimal],
	credit_note_id: str | None = None,
	status: str = "AUTHORISED",
) -> MappedDocument:
	"""A submitted return as a Xero credit note with positive amounts, and its rounding line."""
	if not doc.get("is_return"):
		raise MappingError(
			[f"{doc.get('name')} is not a return: it becomes a Xero invoice, not a credit note."]
		)
	header = {
		"Type": parties.of_invoice(doc["doctype"]).xero_credit_note_type,
		"Contact": {"ContactID": contact_id},
		"Status": status,
		"CreditNoteNumber": doc["name"],
	}
	if doc.get("return_against"):
		header["Reference"] = doc["return_against"]
	if credit_note_id:
		header["CreditNoteID"] = credit_note_id
	return map_transaction(doc, ctx, header=header, sign=-1, tax_rates=tax_rates)


def allocation_payload(amount, invoice_id: str, date) -> dict:
	"""Body for PUT /CreditNotes/{id}/Allocations: apply `amount` of the credit to one invoice.

	amount is the credit note's total or the part of it being applied; a return's negative total
	is accepted and made positive.
	"""
	return {
		"Allocations": [
			{"Invoice": {"InvoiceID": invoice_id}, "Amount": abs(money(amount)), "Date": to_date_string(date)}
		]
	}


def credit_note_to_erpnext(
	credit_note: Mapping,
	ctx: MappingContext,
	*,
	reverse_accounts: Mapping[str, str],
	reverse_tax: Mapping[str, tuple[str, Decimal]],
) -> PulledDocument:
	"""A Xero credit note as an ERPNext return (is_return, negative quantities).

	return_against is left to the caller, which knows the ERPNext names of the invoices listed in
	allocated_invoice_ids.
	"""
	if credit_note.get("Type") not in [side.xero_credit_note_type for side in parties.SIDES]:
		raise MappingError([f"Xero document type {credit_note.get('Type')!r} is not a credit note."])
	pulled = transaction_to_erpnext(
		credit_note, ctx, sign=-1, reverse_accounts=reverse_accounts, reverse_tax=reverse_tax
	)
	pulled.values["is_return"] = 1
	pulled.allocated_invoice_ids = [
		(allocation.get("Invoice") or {}).get("InvoiceID")
		for allocation in credit_note.get("Allocations") or []
	]
	if credit_note["Type"] == "ACCPAYCREDIT":
		pulled.values["bill_no"] = credit_note.get("CreditNoteNumber")
	return pulled
