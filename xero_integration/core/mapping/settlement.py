"""What settles an invoice in ERPNext, as the entries Xero payments are made from. Frappe-free.

A Payment Entry settles invoices from its bank account, and what its deductions (write-off, discount,
bank charges) take off them from each deduction's account. A POS Sales Invoice or a Purchase Invoice
marked paid settles itself. A Journal Entry settles invoices from its other account (a write-off, a
bad debt, a payment booked by journal). Each entry has the shape of a Payment Entry that
payment.payment_payloads maps: payment_type, the paid_to (receive) or paid_from (pay) account, the
party account's currency and rate, and the references it allocates to. Xero takes a payment from a bank
account or an account with payments enabled (takes_payments). A journal's write-off from any other
account is a credit note of the amount, coded to that account, allocated to the invoice
(write_off_credit_note); a Payment Entry's deduction from one waits with Xero's words for a person
(enable payments to that account in Xero, or map it to one that has them).
"""

from collections.abc import Mapping

from xero_integration.core import parties
from xero_integration.core.mapping.context import (
	MappingContext,
	MappingError,
	Problems,
	account_code,
	check_currency,
)
from xero_integration.core.mapping.invoice import PURCHASE, SALES, xero_currency_rate
from xero_integration.core.mapping.payment import INVOICE_DIRECTION, PAY, RECEIVE, party_side
from xero_integration.core.money import ZERO, money, to_date_string, to_decimal


def settlements(doc: Mapping) -> list[dict]:
	"""The entries a document settles invoices with (none for an invoice paid later)."""
	if doc.get("doctype") == "Payment Entry":
		return payment_entry_settlements(doc)
	if doc.get("doctype") == "Journal Entry":
		return journal_settlements(doc)
	return paid_at_once(doc)


def payment_entry_settlements(pe: Mapping) -> list[dict]:
	"""The entry itself; with deductions, its bank part (what reached the bank) and one part per
	deduction account, each allocated from the last reference back."""
	deductions = [row for row in pe.get("deductions") or [] if to_decimal(row.get("amount"))]
	if not deductions:
		return [pe]
	rate = to_decimal(
		pe.get("source_exchange_rate" if pe.get("payment_type") == RECEIVE else "target_exchange_rate")
	)
	if rate not in (ZERO, to_decimal(1)):
		raise MappingError(
			[
				f"Payment Entry {pe.get('name')} is in a foreign currency and has deductions: the app sends "
				"deductions in the company's currency only. Record the deduction in Xero by hand."
			]
		)
	references = [dict(ref) for ref in pe.get("references") or [] if to_decimal(ref.get("allocated_amount"))]
	parts = []
	for deduction in deductions:
		taken = _take_from_last(references, money(deduction["amount"]))
		parts.append(
			{
				**pe,
				_account_field(pe): deduction.get("account"),
				"references": [
					{
						**ref,
						"payment_object": f"Payment:{ref['reference_doctype']}:{ref['reference_name']}:{deduction.get('name')}",
					}
					for ref in taken
				],
			}
		)
	bank = {**pe, "references": [ref for ref in references if to_decimal(ref.get("allocated_amount"))]}
	return [bank, *parts]


def _take_from_last(references: list[dict], amount) -> list[dict]:
	"""Take `amount` off the references' allocations, the last first; returns what was taken, as
	references of their own."""
	taken = []
	for ref in reversed(references):
		if amount <= ZERO:
			break
		share = min(money(ref["allocated_amount"]), amount)
		ref["allocated_amount"] = money(ref["allocated_amount"]) - share
		amount -= share
		taken.insert(0, {**ref, "allocated_amount": share})
	return taken


def _account_field(entry: Mapping) -> str:
	return "paid_to" if entry.get("payment_type") == RECEIVE else "paid_from"


def journal_settlements(je: Mapping) -> list[dict]:
	"""The invoices a Journal Entry settles: each party row against an invoice, paid from the entry's
	one other account (a write-off, a bad debt, a bank). Several other accounts, or none (a contra
	between a customer and a supplier), Xero can't take as a payment: the entry waits, saying so. A
	return applied to another invoice is no payment: it is its credit note's allocation."""
	rows = journal_rows(je)
	if not rows or return_applied(je):
		return []
	others = {row.get("account") for row in je.get("accounts") or [] if not row.get("party")}
	if len(others) != 1:
		raise MappingError(
			[
				f"Journal Entry {je.get('name')} settles invoices against "
				+ (
					f"several accounts ({', '.join(sorted(filter(None, others)))})"
					if others
					else "other parties (a contra)"
				)
				+ ": Xero pays an invoice from one account. Record it in Xero by hand, or as one journal per "
				"account (a contra through a clearing account with payments enabled)."
			]
		)
	(account,) = others
	entries = []
	for row in rows:
		doctype = row["reference_type"]
		amount = settled_by(row)
		if amount <= ZERO:
			raise MappingError(
				[
					f"Journal Entry {je.get('name')} adds to {doctype} {row['reference_name']}'s outstanding "
					"instead of settling it: Xero has no payment for that. Record it in Xero by hand."
				]
			)
		payment_type = INVOICE_DIRECTION[doctype]
		entries.append(
			{
				"name": je.get("name"),
				"party_type": row.get("party_type"),
				"party": row.get("party"),
				"payment_type": payment_type,
				"posting_date": je.get("posting_date"),
				"reference_no": je.get("cheque_no") or je.get("name"),
				"party_account_currency": row.get("account_currency"),
				_rate_field(payment_type): row.get("exchange_rate"),
				_account_field({"payment_type": payment_type}): account,
				"unallocated_amount": 0,
				"references": [
					{
						"reference_doctype": doctype,
						"reference_name": row["reference_name"],
						"allocated_amount": amount,
						"payment_object": f"Payment:{doctype}:{row['reference_name']}:{row.get('name')}",
					}
				],
			}
		)
	return entries


def takes_payments(account: Mapping) -> bool:
	"""Whether Xero pays an invoice from this account (a record of its Accounts list)."""
	return account.get("Type") == "BANK" or bool(account.get("EnablePaymentsToAccount"))


def write_off_number(entry: Mapping, reference: Mapping) -> str:
	"""The number of the credit note a journal's write-off of one invoice is in Xero."""
	return f"{entry.get('name')}-{reference.get('reference_name')}"


def write_off_credit_note(
	entry: Mapping, reference: Mapping, ctx: MappingContext, *, contact_id: str
) -> dict:
	"""A journal's write-off of one invoice (an entry of journal_settlements and its reference) as the Xero
	credit note that settles it where Xero takes no payment from the account: one untaxed line of the
	amount, coded to that account, in the invoice's currency at the journal's rate. It is allocated to
	the invoice afterwards."""
	problems = Problems()
	doctype, invoice = reference.get("reference_doctype"), reference.get("reference_name")
	account = entry.get("paid_to" if entry.get("payment_type") == RECEIVE else "paid_from")
	code = account_code(ctx, account, problems, purpose="write-off")
	currency, exchange_rate = party_side(entry)
	check_currency(ctx, currency, problems)
	payload = {
		"Type": parties.of_invoice(doctype).xero_credit_note_type,
		"Contact": {"ContactID": contact_id},
		"Date": to_date_string(entry.get("posting_date")),
		"Status": "AUTHORISED",
		"CreditNoteNumber": write_off_number(entry, reference),
		"LineAmountTypes": "NoTax",
		"LineItems": [
			{
				"Description": f"Written off by Journal Entry {entry.get('name')}: {doctype} {invoice}",
				"Quantity": 1,
				"UnitAmount": money(reference.get("allocated_amount")),
				"AccountCode": code,
				"TaxType": ctx.no_tax_type,
			}
		],
	}
	if currency and currency != ctx.base_currency:
		payload["CurrencyCode"] = currency
		if exchange_rate in (ZERO, to_decimal(1)):
			problems.add(
				f"Journal Entry {entry.get('name')} is in {currency} with exchange rate {exchange_rate}; "
				"set the real rate."
			)
		else:
			payload["CurrencyRate"] = xero_currency_rate(exchange_rate)
	problems.raise_if_any()
	return payload


def settled_by(row: Mapping):
	"""What a journal row takes off its document's outstanding: a credit to a customer, a debit to a
	supplier (negative: it adds to it)."""
	amount = to_decimal(row.get("credit_in_account_currency")) - to_decimal(
		row.get("debit_in_account_currency")
	)
	return -amount if row.get("reference_type") == PURCHASE else amount


def return_applied(je: Mapping) -> dict | None:
	"""What a Journal Entry (a dict or ERPNext's document: only .get is used) that applies a return to another invoice of the same party does (Payment
	Reconciliation makes one, a "Credit Note" or "Debit Note" entry of two party rows and nothing else):
	{"return": (doctype, name), "invoice": (doctype, name), "amount", "date"}; None for any other entry."""
	accounts = je.get("accounts") or []
	rows = journal_rows(je)
	if len(accounts) != 2 or len(rows) != 2:
		return None
	settled = {settled_by(row): row for row in rows}
	if len({(row.get("party_type"), row.get("party"), row.get("reference_type")) for row in rows}) != 1:
		return None
	taken, given = max(settled), min(settled)
	if len(settled) != 2 or taken <= ZERO or taken != -given:
		return None
	invoice, credit = settled[taken], settled[given]
	return {
		"return": (credit.get("reference_type"), credit.get("reference_name")),
		"invoice": (invoice.get("reference_type"), invoice.get("reference_name")),
		"amount": money(taken),
		"date": je.get("posting_date"),
	}


# ERPNext's own currency entries: Xero computes its own gains and losses, so these stay ERPNext's.
CURRENCY_JOURNALS = ("Exchange Gain Or Loss", "Exchange Rate Revaluation")


def journal_rows(je: Mapping) -> list:
	"""The rows of a Journal Entry that settle an invoice (none in ERPNext's currency journals)."""
	if je.get("voucher_type") in CURRENCY_JOURNALS:
		return []
	return [
		row
		for row in je.get("accounts") or []
		if row.get("reference_type") in INVOICE_DIRECTION and row.get("reference_name") and row.get("party")
	]


def _rate_field(payment_type: str) -> str:
	return "source_exchange_rate" if payment_type == RECEIVE else "target_exchange_rate"


def paid_at_once(invoice: Mapping) -> list[dict]:
	"""The payments an invoice carries itself, as Payment Entry-like dicts that payment_payloads maps, each
	settling the invoice: a POS Sales Invoice's, one per mode of payment (the change given back taken off
	the change account's, as ERPNext books it), or a Purchase Invoice marked paid, from its cash or bank
	account. An invoice paid later has none."""
	doctype, name = invoice.get("doctype"), invoice.get("name")
	common = {
		"name": name,
		"posting_date": invoice.get("posting_date"),
		"reference_no": name,
		"party_account_currency": invoice.get("currency"),
		"unallocated_amount": 0,
	}
	if doctype == PURCHASE and invoice.get("is_paid") and to_decimal(invoice.get("paid_amount")):
		return [
			{
				**common,
				"payment_type": PAY,
				"paid_from": invoice.get("cash_bank_account"),
				"target_exchange_rate": invoice.get("conversion_rate"),
				"references": [
					{
						"reference_doctype": doctype,
						"reference_name": name,
						"allocated_amount": invoice.get("paid_amount"),
					}
				],
			}
		]
	if doctype != SALES or not invoice.get("is_pos"):
		return []
	rows = [row for row in invoice.get("payments") or [] if to_decimal(row.get("amount"))]
	change = to_decimal(invoice.get("change_amount"))
	# The change is cash given back: off the last payment into the change account (else the last one).
	change_row = next(
		(r for r in reversed(rows) if r.get("account") == invoice.get("account_for_change_amount")), None
	)
	entries = []
	for row in rows:
		amount = to_decimal(row.get("amount")) - (change if row is (change_row or rows[-1]) else ZERO)
		if amount <= ZERO:
			continue
		reference = {
			"reference_doctype": doctype,
			"reference_name": name,
			"allocated_amount": amount,
			"payment_object": f"Payment:{doctype}:{name}:{row.get('name')}",
		}
		entries.append(
			{
				**common,
				"payment_type": RECEIVE,
				"paid_to": row.get("account"),
				"source_exchange_rate": invoice.get("conversion_rate"),
				"references": [reference],
			}
		)
	return entries
