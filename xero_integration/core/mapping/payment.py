"""Payment Entry <-> Xero Payments.

ERPNext pays several invoices with one Payment Entry; Xero has one Payment per invoice or credit
note. A reference is a credit note when money flows the "wrong" way for its doctype (paying a
customer, being paid by a supplier) or its allocated amount is negative: those are refunds of
returns. Amounts are in the party account's currency, which is the invoice's currency.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from xero_integration.core.mapping.context import (
	MappingContext,
	MappingError,
	Problems,
	account_code,
	check_currency,
)
from xero_integration.core.mapping.invoice import (
	CONVERSION_RATE_PLACES,
	PURCHASE,
	SALES,
	erpnext_conversion_rate,
	xero_currency_rate,
)
from xero_integration.core.money import ZERO, from_xero_date, money, to_date_string, to_decimal

RECEIVE, PAY = "Receive", "Pay"
# The direction money moves for an ordinary invoice of each doctype.
INVOICE_DIRECTION = {SALES: RECEIVE, PURCHASE: PAY}
# What a Xero payment can pay: an invoice, a credit note (a refund of a return), or a prepayment or
# overpayment (a refund of an advance).
PAID_KINDS = ("Invoice", "CreditNote", "Overpayment", "Prepayment")
ADVANCE_KINDS = ("Overpayment", "Prepayment")
# Xero PaymentType -> (ERPNext payment_type, party_type, what it pays)
PAYMENT_TYPES = {
	"ACCRECPAYMENT": (RECEIVE, "Customer", "Invoice"),
	"ACCPAYPAYMENT": (PAY, "Supplier", "Invoice"),
	"ARCREDITPAYMENT": (PAY, "Customer", "CreditNote"),
	"APCREDITPAYMENT": (RECEIVE, "Supplier", "CreditNote"),
	"AROVERPAYMENTPAYMENT": (PAY, "Customer", "Overpayment"),
	"APOVERPAYMENTPAYMENT": (RECEIVE, "Supplier", "Overpayment"),
	"ARPREPAYMENTPAYMENT": (PAY, "Customer", "Prepayment"),
	"APPREPAYMENTPAYMENT": (RECEIVE, "Supplier", "Prepayment"),
}


def party_side(pe: Mapping) -> tuple[str | None, Decimal]:
	"""The party account's currency and its rate to the company currency (company per 1 unit)."""
	if pe["payment_type"] == RECEIVE:
		currency = pe.get("party_account_currency") or pe.get("paid_from_account_currency")
		return currency, to_decimal(pe.get("source_exchange_rate"))
	currency = pe.get("party_account_currency") or pe.get("paid_to_account_currency")
	return currency, to_decimal(pe.get("target_exchange_rate"))


def payment_payloads(
	pe: Mapping, ctx: MappingContext, *, xero_ids: Mapping[tuple[str, str], str]
) -> list[dict]:
	"""One Xero Payment per invoice or return the Payment Entry settles, partial payments included.

	xero_ids maps (doctype, name) -> the Xero InvoiceID or CreditNoteID of that document.
	"""
	problems = Problems()
	name = pe.get("name")
	payment_type = pe.get("payment_type")
	if payment_type not in (RECEIVE, PAY):
		raise MappingError(
			[f"Payment Entry {name} is an '{payment_type}', which has no Xero payment equivalent."]
		)
	bank_account = pe.get("paid_to") if payment_type == RECEIVE else pe.get("paid_from")
	bank_code = account_code(ctx, bank_account, problems, purpose="bank")
	currency, exchange_rate = party_side(pe)
	check_currency(ctx, currency, problems)

	payments = []
	for reference in pe.get("references") or []:
		doctype, reference_name = reference.get("reference_doctype"), reference.get("reference_name")
		if doctype not in INVOICE_DIRECTION:
			problems.add(
				f"{doctype} {reference_name} on Payment Entry {name} cannot be paid in Xero: only invoices can."
			)
			continue
		allocated = to_decimal(reference.get("allocated_amount"))
		if not allocated:
			continue
		xero_id = xero_ids.get((doctype, reference_name))
		if not xero_id:
			problems.add(
				f"{doctype} {reference_name} is not in Xero yet: sync it before Payment Entry {name}."
			)
			continue
		is_credit_note = allocated < 0 or INVOICE_DIRECTION[doctype] != payment_type
		payment = {
			"CreditNote" if is_credit_note else "Invoice": {
				"CreditNoteID" if is_credit_note else "InvoiceID": xero_id
			},
			"Account": {"Code": bank_code},
			"Date": to_date_string(pe.get("posting_date")),
			"Amount": abs(money(allocated)),
			"Reference": pe.get("reference_no") or name,
		}
		if currency and currency != ctx.base_currency:
			if exchange_rate in (ZERO, Decimal(1)):
				problems.add(
					f"Payment Entry {name} is in {currency} with exchange rate {exchange_rate}; set the real rate."
				)
			else:
				payment["CurrencyRate"] = xero_currency_rate(exchange_rate)
		payments.append(payment)
	if not payments and not problems.items:
		problems.add(f"Payment Entry {name} settles no invoice, so there is nothing to send to Xero.")
	problems.raise_if_any()
	return payments


def payment_object(reference: Mapping) -> str:
	"""How the app names, in its Xero Document Links, the Xero payment of one settled reference: per paid
	document, or per payment row where a document pays itself several ways (a POS invoice)."""
	return reference.get("payment_object") or (
		f"Payment:{reference.get('reference_doctype')}:{reference.get('reference_name')}"
	)


@dataclass
class PulledPayment:
	"""A Xero Payment as an ERPNext Payment Entry settling its one invoice, credit note, prepayment or
	overpayment.

	values: the entry's own fields (what it settles is the caller's: it knows the ERPNext name of
	Xero's pays_xero_id, of a pays_kind in PAID_KINDS). A credit note refund is allocated as a negative
	amount, as ERPNext does for returns; the refund of an advance settles allocated_amount of it."""

	values: dict
	pays_kind: str
	pays_xero_id: str | None
	allocated_amount: Decimal
	deleted: bool


def payment_kind(payment: Mapping) -> tuple[str, str, str]:
	"""(ERPNext payment_type, party_type, what it pays) of a Xero payment: by its PaymentType or, without
	one, by the document it names (a bill, a supplier's credit note or advance: the purchase side)."""
	kind = PAYMENT_TYPES.get(payment.get("PaymentType") or "")
	if kind:
		return kind
	pays = next((key for key in PAID_KINDS if payment.get(key)), "Invoice")
	supplier = (payment.get(pays) or {}).get("Type", "").startswith(("ACCPAY", "SPEND"))
	return next(
		kind for kind in PAYMENT_TYPES.values() if kind[2] == pays and (kind[1] == "Supplier") == supplier
	)


def entry_values(
	payment_type: str,
	party_type: str,
	*,
	amount,
	currency_rate,
	bank_account: str | None,
	bank_amount=None,
	date,
	reference: str,
) -> dict:
	"""A Payment Entry's own fields for money that moves `amount` of the document's currency on the
	party's account and reaches (or leaves) a bank account in the base currency. currency_rate is
	Xero's (document currency per unit of base currency; None in the base currency); bank_amount what
	Xero says reached the bank."""
	amount = money(amount)
	if to_decimal(currency_rate):
		exchange_rate = erpnext_conversion_rate(currency_rate)
		base_amount = (
			money(bank_amount) if bank_amount is not None else money(amount / to_decimal(currency_rate))
		)
	else:
		exchange_rate, base_amount = to_decimal(1, CONVERSION_RATE_PLACES), amount
	party_side = {"amount": amount, "rate": exchange_rate}
	bank_side = {"amount": base_amount, "rate": to_decimal(1, CONVERSION_RATE_PLACES)}
	source, target = (party_side, bank_side) if payment_type == RECEIVE else (bank_side, party_side)
	return {
		"doctype": "Payment Entry",
		"payment_type": payment_type,
		"party_type": party_type,
		"posting_date": from_xero_date(date),
		"reference_no": reference,
		"reference_date": from_xero_date(date),
		"paid_amount": source["amount"],
		"source_exchange_rate": source["rate"],
		"received_amount": target["amount"],
		"target_exchange_rate": target["rate"],
		"paid_to" if payment_type == RECEIVE else "paid_from": bank_account,
	}


def payment_to_erpnext(
	payment: Mapping, ctx: MappingContext, *, reverse_accounts: Mapping[str, str]
) -> PulledPayment:
	"""A Xero Payment as a Payment Entry. The bank account is taken to be in the base currency; the
	party account is in the document's currency."""
	problems = Problems()
	payment_id = payment.get("PaymentID")
	payment_type, party_type, pays_kind = payment_kind(payment)
	document = payment.get(pays_kind) or {}
	xero_id = document.get(f"{pays_kind}ID")
	if not xero_id:
		problems.add(f"Xero payment {payment_id} does not say which invoice or credit note it pays.")
	code = (payment.get("Account") or {}).get("Code")
	bank_account = reverse_accounts.get(code)
	if not bank_account:
		problems.add(f"Xero account code '{code}' (payment {payment_id}) has no ERPNext account mapped.")
	currency = document.get("CurrencyCode") or ctx.base_currency
	check_currency(ctx, currency, problems)
	problems.raise_if_any()

	amount = money(payment.get("Amount"))
	values = entry_values(
		payment_type,
		party_type,
		amount=amount,
		currency_rate=payment.get("CurrencyRate") if currency != ctx.base_currency else None,
		bank_account=bank_account,
		bank_amount=payment.get("BankAmount"),
		date=payment.get("Date"),
		reference=payment.get("Reference") or payment_id,
	)
	return PulledPayment(
		values,
		pays_kind=pays_kind,
		pays_xero_id=xero_id,
		allocated_amount=-amount if pays_kind == "CreditNote" else amount,
		deleted=payment.get("Status") == "DELETED",
	)
