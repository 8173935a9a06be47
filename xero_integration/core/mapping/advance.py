"""An advance (a Payment Entry that leaves money unallocated, or pays an order) as a Xero overpayment, and
what it settles as the overpayment's allocations. Frappe-free.

Xero can't edit a payment and has nothing like ERPNext's unallocated amount on one. A Payment Entry
with an advance therefore goes to Xero whole, as one RECEIVE-/SPEND-OVERPAYMENT bank transaction of its
amount, and every invoice it settles, at submit or later (Payment Reconciliation, an invoice's advances
table), is an allocation of that overpayment; Unreconcile Payment removes the allocation. A cancelled
one is taken back by removing its allocations and refunding the overpayment on the same date, so that
the bank account nets to nothing.
"""

from collections.abc import Mapping
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
from xero_integration.core.mapping.payment import INVOICE_DIRECTION, PAY, RECEIVE, party_side
from xero_integration.core.money import ZERO, money, to_date_string, to_decimal

# What an order's advance is paid against: in Xero it is credit of the party until an invoice takes it.
ORDER_DOCTYPES = ("Sales Order", "Purchase Order")
OVERPAYMENT_TYPES = {(RECEIVE, "Customer"): "RECEIVE-OVERPAYMENT", (PAY, "Supplier"): "SPEND-OVERPAYMENT"}


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
		{"InvoiceID": allocation["Invoice"]["InvoiceID"], "Amount": str(allocation["Amount"])}
	)


def allocation_object(doctype: str, name: str) -> str:
	"""How the app names, in its Xero Document Links, the allocation of an advance to one invoice."""
	return f"Allocation:{doctype}:{name}"


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
