"""ERPNext advances <-> Xero overpayments and prepayments. Frappe-free.

Out: Xero can't edit a payment and has nothing like ERPNext's unallocated amount on one. A Payment Entry
with an advance (money left unallocated, or paid against an order) therefore goes to Xero whole, as one
RECEIVE-/SPEND-OVERPAYMENT bank transaction of its amount, and every invoice it settles, at submit or
later (Payment Reconciliation, an invoice's advances table), is an allocation of that overpayment;
Unreconcile Payment removes the allocation. A cancelled one is taken back by removing its allocations
and refunding the overpayment on the same date, so that the bank account nets to nothing.

In: a customer's (or supplier's) money received before, or beyond, what they owe is in Xero a
Prepayment or an Overpayment, made by a RECEIVE-/SPEND- bank transaction of that type and then
allocated to invoices or refunded. ERPNext keeps the same money as an advance: a Payment Entry left
unallocated on the party's account, reconciled against the invoices it settles. The bank account it
reached is the bank transaction's (a prepayment or overpayment does not name it). Refunds are payments
(payment.py).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from xero_integration.core.mapping import content_hash
from xero_integration.core.mapping.context import (
	MappingContext,
	MappingError,
	Problems,
	account_code,
	check_currency,
)
from xero_integration.core.mapping.invoice import xero_currency_rate
from xero_integration.core.mapping.payment import (
	ADVANCE_KINDS,
	INVOICE_DIRECTION,
	PAY,
	RECEIVE,
	entry_values,
	party_side,
)
from xero_integration.core.money import ZERO, money, to_date_string, to_decimal

# What an order's advance is paid against: in Xero it is credit of the party until an invoice takes it.
ORDER_DOCTYPES = ("Sales Order", "Purchase Order")
# Xero Type -> (ERPNext payment_type, party_type)
ADVANCE_TYPES = {
	"RECEIVE-OVERPAYMENT": (RECEIVE, "Customer"),
	"RECEIVE-PREPAYMENT": (RECEIVE, "Customer"),
	"SPEND-OVERPAYMENT": (PAY, "Supplier"),
	"SPEND-PREPAYMENT": (PAY, "Supplier"),
}
# What an advance is sent as: (payment_type, party_type) -> its overpayment's Type.
OVERPAYMENT_TYPES = {side: type_ for type_, side in ADVANCE_TYPES.items() if type_.endswith("-OVERPAYMENT")}


def advance_amount(pe: Mapping) -> Decimal:
	"""What the entry leaves for later: its unallocated amount and what it pays against orders."""
	on_orders = sum(
		(
			to_decimal(ref.get("allocated_amount"))
			for ref in pe.get("references") or []
			if ref.get("reference_doctype") in ORDER_DOCTYPES
		),
		ZERO,
	)
	return money(to_decimal(pe.get("unallocated_amount")) + on_orders)


def is_advance(pe: Mapping) -> bool:
	return pe.get("doctype") == "Payment Entry" and advance_amount(pe) > ZERO


def party_amount(pe: Mapping) -> Decimal:
	"""The entry's amount in the party's currency: what the overpayment is worth."""
	return money(pe.get("paid_amount") if pe.get("payment_type") == RECEIVE else pe.get("received_amount"))


def overpayment_payload(pe: Mapping, ctx: MappingContext, *, contact_id: str | None) -> dict:
	"""The bank transaction that makes the entry's overpayment in Xero. Xero codes its one line to
	receivables or payables itself, without tax."""
	problems = Problems()
	name = pe.get("name")
	overpayment_type = OVERPAYMENT_TYPES.get((pe.get("payment_type"), pe.get("party_type")))
	if not overpayment_type:
		raise MappingError(
			[
				f"Payment Entry {name} ({pe.get('payment_type')} to or from a {pe.get('party_type')}) leaves money "
				"unallocated, which Xero can hold only as money received from a customer or paid to a "
				"supplier: allocate it to invoices, or record it in Xero by hand."
			]
		)
	if any(to_decimal(row.get("amount")) for row in pe.get("deductions") or []):
		problems.add(
			f"Payment Entry {name} has deductions and leaves money unallocated: Xero's overpayment has one "
			"amount. Allocate it in full, or record the deduction in Xero by hand."
		)
	bank = pe.get("paid_to") if pe.get("payment_type") == RECEIVE else pe.get("paid_from")
	bank_code = account_code(ctx, bank, problems, purpose="bank")
	currency, exchange_rate = party_side(pe)
	check_currency(ctx, currency, problems)
	payload = {
		"Type": overpayment_type,
		"Contact": {"ContactID": contact_id},
		"BankAccount": {"Code": bank_code},
		"Date": to_date_string(pe.get("posting_date")),
		"Reference": pe.get("reference_no") or name,
		"LineAmountTypes": "NoTax",
		"LineItems": [
			{"Description": f"Advance {name}", "Quantity": Decimal(1), "UnitAmount": party_amount(pe)}
		],
	}
	if currency and currency != ctx.base_currency:
		if exchange_rate in (ZERO, Decimal(1)):
			problems.add(
				f"Payment Entry {name} is in {currency} with exchange rate {exchange_rate}; set the real rate."
			)
		else:
			payload["CurrencyCode"] = currency
			payload["CurrencyRate"] = xero_currency_rate(exchange_rate)
	problems.raise_if_any()
	return payload


def wanted_allocations(
	pe: Mapping, *, xero_ids: Mapping[tuple[str, str], str], dates: Mapping[tuple[str, str], object]
) -> dict[tuple[str, str], dict]:
	"""(doctype, name) -> the allocation of the overpayment to each invoice the entry settles now, several
	rows for one invoice together. xero_ids: InvoiceIDs of those in Xero; dates: their posting dates (an
	allocation is dated when both exist)."""
	problems = Problems()
	name = pe.get("name")
	amounts: dict[tuple[str, str], Decimal] = {}
	for ref in pe.get("references") or []:
		doctype, invoice = ref.get("reference_doctype"), ref.get("reference_name")
		allocated = to_decimal(ref.get("allocated_amount"))
		if not allocated or doctype in ORDER_DOCTYPES:
			continue
		if doctype not in INVOICE_DIRECTION:
			problems.add(
				f"{doctype} {invoice} on Payment Entry {name} cannot take an advance in Xero: only invoices can."
			)
			continue
		if allocated < 0:
			problems.add(
				f"{doctype} {invoice} is a return: Xero allocates an advance to invoices only. Refund the "
				f"credit note in Xero by hand, or take it off Payment Entry {name}."
			)
			continue
		amounts[(doctype, invoice)] = amounts.get((doctype, invoice), ZERO) + allocated
	wanted = {}
	for key, amount in amounts.items():
		if not xero_ids.get(key):
			problems.add(f"{key[0]} {key[1]} is not in Xero yet: sync it before Payment Entry {name}.")
			continue
		date = max(
			to_date_string(pe.get("posting_date")), to_date_string(dates.get(key) or pe.get("posting_date"))
		)
		wanted[key] = {"Invoice": {"InvoiceID": xero_ids[key]}, "Amount": money(amount), "Date": date}
	problems.raise_if_any()
	return wanted


def allocation_hash(allocation: Mapping) -> str:
	"""What makes an allocation the same one: its invoice and amount (not the date it was made)."""
	return content_hash(
		{"InvoiceID": allocation["Invoice"]["InvoiceID"].lower(), "Amount": str(money(allocation["Amount"]))}
	)


def refund_payload(pe: Mapping, ctx: MappingContext, *, overpayment_id: str, amount) -> dict:
	"""The payment that takes a cancelled entry's overpayment back out of the bank account, on the entry's
	own date and at its own rate."""
	problems = Problems()
	bank = pe.get("paid_to") if pe.get("payment_type") == RECEIVE else pe.get("paid_from")
	payload = {
		"Overpayment": {"OverpaymentID": overpayment_id},
		"Account": {"Code": account_code(ctx, bank, problems, purpose="bank")},
		"Date": to_date_string(pe.get("posting_date")),
		"Amount": money(amount),
		"Reference": f"Cancelled {pe.get('name')}",
	}
	currency, exchange_rate = party_side(pe)
	if currency and currency != ctx.base_currency and exchange_rate not in (ZERO, Decimal(1)):
		payload["CurrencyRate"] = xero_currency_rate(exchange_rate)
	problems.raise_if_any()
	return payload


# A Xero advance that no longer stands.
GONE_STATUSES = ("VOIDED", "DELETED")


def kind_of(record: Mapping) -> str:
	""" "Overpayment" or "Prepayment": which of the two a Xero record is."""
	return next(kind for kind in ADVANCE_KINDS if f"{kind}ID" in record)


def made_by(kind: str, xero_id: str) -> str:
	"""The `where` of the bank transaction that made this prepayment or overpayment."""
	return f'{kind}ID==Guid("{xero_id}")'


@dataclass(frozen=True)
class InvoiceAllocation:
	"""What a prepayment or overpayment settles of one invoice: the sum of its allocations to it still
	standing in Xero, and their AllocationIDs, in Xero's order."""

	invoice_xero_id: str
	allocation_ids: tuple[str, ...]
	amount: Decimal


def allocations_by_invoice(record: Mapping) -> dict[str, InvoiceAllocation]:
	"""The allocations of a prepayment or overpayment still standing (a deleted one is flagged IsDeleted
	or gone from the list), by the lowercase InvoiceID they settle."""
	found: dict[str, list[Mapping]] = {}
	for allocation in record.get("Allocations") or []:
		invoice_id = (allocation.get("Invoice") or {}).get("InvoiceID")
		if invoice_id and not allocation.get("IsDeleted"):
			found.setdefault(invoice_id.lower(), []).append(allocation)
	return {
		invoice_id: InvoiceAllocation(
			invoice_id,
			tuple(a["AllocationID"].lower() for a in allocations if a.get("AllocationID")),
			sum((money(a.get("Amount")) for a in allocations), ZERO),
		)
		for invoice_id, allocations in found.items()
	}


@dataclass
class PulledAdvance:
	"""A Xero prepayment or overpayment as the Payment Entry of an advance (values: its own fields; the
	party is the caller's, from contact_id), in `currency` on the party's side. gone: voided in Xero."""

	values: dict
	contact_id: str
	currency: str
	gone: bool


def advance_to_erpnext(
	record: Mapping,
	bank_transaction: Mapping | None,
	ctx: MappingContext,
	*,
	reverse_accounts: Mapping[str, str],
) -> PulledAdvance:
	"""A Xero prepayment or overpayment as the Payment Entry of an advance: its whole Total received from
	(or paid to) the party into (or out of) the bank account of the bank transaction that made it, with
	nothing allocated (allocations are reconciled afterwards, one invoice at a time). Like payments, the
	party side is in the advance's currency and the bank side in the base currency."""
	problems = Problems()
	kind = kind_of(record)
	xero_id = record[f"{kind}ID"]
	payment_type, party_type = ADVANCE_TYPES.get(record.get("Type"), (None, None))
	if payment_type is None:
		problems.add(
			f"Xero {kind.lower()} {xero_id} is of type {record.get('Type')}, which the app does not know."
		)
	if not (record.get("Contact") or {}).get("ContactID"):
		problems.add(f"Xero {kind.lower()} {xero_id} names no contact.")
	if to_decimal(record.get("TotalTax")):
		problems.add(
			f"Xero {kind.lower()} {xero_id} carries {money(record['TotalTax'])} of tax; an ERPNext advance "
			"carries none: record it in ERPNext by hand."
		)
	bank_account = None
	if bank_transaction is None:
		problems.add(f"Xero has no bank transaction that made {kind.lower()} {xero_id}.")
	else:
		code = (bank_transaction.get("BankAccount") or {}).get("Code")
		bank_account = reverse_accounts.get(code)
		if not bank_account:
			problems.add(
				f"Xero account code '{code}' ({kind.lower()} {xero_id}) has no ERPNext account mapped."
			)
	currency = record.get("CurrencyCode") or ctx.base_currency
	check_currency(ctx, currency, problems)
	problems.raise_if_any()

	values = entry_values(
		payment_type,
		party_type,
		amount=record.get("Total"),
		currency_rate=record.get("CurrencyRate") if currency != ctx.base_currency else None,
		bank_account=bank_account,
		date=record.get("Date"),
		reference=record.get("Reference") or record.get("InvoiceNumber") or xero_id,
	)
	return PulledAdvance(
		values, record["Contact"]["ContactID"], currency, gone=record.get("Status") in GONE_STATUSES
	)
