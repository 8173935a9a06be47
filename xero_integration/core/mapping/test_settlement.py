from decimal import Decimal

import pytest

from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.payment import payment_object, payment_payloads
from xero_integration.core.mapping.settlement import (
	journal_settlements,
	paid_at_once,
	return_applied,
	settlements,
	takes_payments,
	write_off_credit_note,
)
from xero_integration.core.mapping.test_invoice import CTX
from xero_integration.core.mapping.test_payment import ACCOUNTS, PAY_CTX, XERO_IDS, receipt

D = Decimal
WRITE_OFF_CTX = type(CTX)(
	**{**CTX.__dict__, "account_codes": ACCOUNTS | {"Write Off - TC": "420", "Cash - TC": "091"}}
)


def sent(entries, ctx=WRITE_OFF_CTX, xero_ids=XERO_IDS) -> list[tuple[str, str, Decimal]]:
	"""(paid document, account code, amount) of each Xero payment the entries make."""
	return [
		(next(iter(p.get("Invoice", p.get("CreditNote", {})).values())), p["Account"]["Code"], p["Amount"])
		for entry in entries
		for p in payment_payloads(entry, ctx, xero_ids=xero_ids)
	]


def test_a_deduction_is_paid_from_its_own_account_and_the_bank_pays_what_reached_it():
	pe = receipt(
		paid_amount=145.0,
		received_amount=145.0,
		deductions=[{"name": "d-1", "account": "Write Off - TC", "amount": 5.0}],
	)
	entries = settlements({**pe, "doctype": "Payment Entry"})
	assert sent(entries) == [
		("inv-1", "090", D("100.00")),
		("inv-2", "090", D("45.00")),
		("inv-2", "420", D("5.00")),
	]
	# Each part is its own Xero payment of the invoice.
	assert payment_object(entries[1]["references"][0]) == "Payment:Sales Invoice:SINV-2:d-1"


def test_a_deduction_larger_than_the_last_invoice_takes_from_the_one_before():
	pe = receipt(paid_amount=90.0, deductions=[{"name": "d-1", "account": "Write Off - TC", "amount": 60.0}])
	entries = settlements({**pe, "doctype": "Payment Entry"})
	assert sent(entries) == [
		("inv-1", "090", D("90.00")),
		("inv-1", "420", D("10.00")),
		("inv-2", "420", D("50.00")),
	]


def write_off_journal(currency="NZD", rate=1.0) -> dict:
	return {
		"doctype": "Journal Entry",
		"name": "JV-1",
		"posting_date": "2024-06-05",
		"accounts": [
			{
				"name": "r1",
				"account": "Write Off - TC",
				"debit_in_account_currency": 200.0,
				"credit_in_account_currency": 0,
			},
			{
				"name": "r2",
				"account": "Debtors - TC",
				"party_type": "Customer",
				"party": "Acme",
				"account_currency": currency,
				"exchange_rate": rate,
				"credit_in_account_currency": 200.0,
				"debit_in_account_currency": 0,
				"reference_type": "Sales Invoice",
				"reference_name": "SINV-1",
			},
		],
	}


def test_xero_pays_invoices_from_bank_accounts_and_accounts_with_payments_enabled_only():
	assert takes_payments({"Code": "090", "Type": "BANK"})
	assert takes_payments({"Code": "415", "Type": "EXPENSE", "EnablePaymentsToAccount": True})
	assert not takes_payments({"Code": "420", "Type": "EXPENSE", "EnablePaymentsToAccount": False})
	assert not takes_payments({"Code": "400", "Type": "EXPENSE"})


def test_a_write_off_from_an_account_xero_pays_nothing_from_is_an_untaxed_credit_note_of_the_amount():
	((entry, reference),) = [
		(entry, ref) for entry in journal_settlements(write_off_journal()) for ref in entry["references"]
	]
	note = write_off_credit_note(entry, reference, WRITE_OFF_CTX, contact_id="c-1")
	assert note == {
		"Type": "ACCRECCREDIT",
		"Contact": {"ContactID": "c-1"},
		"Date": "2024-06-05",
		"Status": "AUTHORISED",
		"CreditNoteNumber": "JV-1-SINV-1",
		"LineAmountTypes": "NoTax",
		"LineItems": [
			{
				"Description": "Written off by Journal Entry JV-1: Sales Invoice SINV-1",
				"Quantity": 1,
				"UnitAmount": D("200.00"),
				"AccountCode": "420",
				"TaxType": WRITE_OFF_CTX.no_tax_type,
			}
		],
	}
	assert (entry["party_type"], entry["party"]) == ("Customer", "Acme")


def test_a_foreign_currency_write_off_credit_note_carries_the_journals_rate():
	((entry, reference),) = [
		(entry, ref)
		for entry in journal_settlements(write_off_journal("USD", 1.6))
		for ref in entry["references"]
	]
	note = write_off_credit_note(entry, reference, WRITE_OFF_CTX, contact_id="c-1")
	assert (note["CurrencyCode"], note["CurrencyRate"]) == ("USD", D("0.625"))
	with pytest.raises(MappingError, match="exchange rate 1"):
		entry = journal_settlements(write_off_journal("USD", 1.0))[0]
		write_off_credit_note(entry, entry["references"][0], WRITE_OFF_CTX, contact_id="c-1")


def test_a_journal_writing_off_an_invoice_pays_it_from_the_write_off_account():
	assert sent(journal_settlements(write_off_journal())) == [("inv-1", "420", D("200.00"))]


def test_erpnexts_exchange_gain_or_loss_journal_settles_nothing_in_xero():
	je = {
		"doctype": "Journal Entry",
		"name": "JV-3",
		"voucher_type": "Exchange Gain Or Loss",
		"accounts": [
			{"name": "r1", "account": "Exchange Gain/Loss - TC", "credit_in_account_currency": 3.0},
			{
				"name": "r2",
				"account": "Debtors - TC",
				"party_type": "Customer",
				"party": "Acme",
				"debit_in_account_currency": 0,
				"credit_in_account_currency": 0,
				"reference_type": "Sales Invoice",
				"reference_name": "SINV-1",
			},
		],
	}
	assert journal_settlements(je) == []


def test_a_contra_between_a_customer_and_a_supplier_waits_with_a_reason():
	party = {"party_type": "Customer", "party": "Acme", "account_currency": "NZD", "exchange_rate": 1.0}
	je = {
		"doctype": "Journal Entry",
		"name": "JV-2",
		"accounts": [
			{
				**party,
				"name": "r1",
				"account": "Debtors - TC",
				"credit_in_account_currency": 50.0,
				"reference_type": "Sales Invoice",
				"reference_name": "SINV-1",
			},
			{
				**party,
				"name": "r2",
				"party_type": "Supplier",
				"account": "Creditors - TC",
				"debit_in_account_currency": 50.0,
				"reference_type": "Purchase Invoice",
				"reference_name": "PINV-1",
			},
		],
	}
	with pytest.raises(MappingError, match="contra"):
		journal_settlements(je)


def pos_invoice(**extra):
	invoice = {
		"doctype": "Sales Invoice",
		"name": "SINV-POS-1",
		"posting_date": "2024-06-03",
		"currency": "NZD",
		"conversion_rate": 1.0,
		"debit_to": "Debtors - TC",
		"is_pos": 1,
		"grand_total": 115.0,
		"change_amount": 5.0,
		"account_for_change_amount": "Cash - TC",
		"payments": [
			{"name": "row-card", "mode_of_payment": "Card", "account": "Bank - TC", "amount": 80.0},
			{"name": "row-cash", "mode_of_payment": "Cash", "account": "Cash - TC", "amount": 40.0},
		],
	}
	return invoice | extra


def test_a_pos_invoice_is_paid_in_xero_once_per_mode_of_payment_less_the_change():
	entries = paid_at_once(pos_invoice())
	payloads = [
		payment_payloads(entry, WRITE_OFF_CTX, xero_ids={("Sales Invoice", "SINV-POS-1"): "inv-pos"})
		for entry in entries
	]
	assert [(p[0]["Account"]["Code"], p[0]["Amount"]) for p in payloads] == [
		("090", D("80.00")),
		("091", D("35.00")),
	]
	assert all(
		p[0]["Invoice"] == {"InvoiceID": "inv-pos"} and p[0]["Reference"] == "SINV-POS-1" for p in payloads
	)
	# Each payment is its own Xero record of the invoice: they are told apart by the payment row.
	assert [payment_object(entry["references"][0]) for entry in entries] == [
		"Payment:Sales Invoice:SINV-POS-1:row-card",
		"Payment:Sales Invoice:SINV-POS-1:row-cash",
	]


def test_a_paid_purchase_invoice_is_paid_from_its_cash_or_bank_account():
	bill = {
		"doctype": "Purchase Invoice",
		"name": "PINV-1",
		"posting_date": "2024-06-04",
		"currency": "NZD",
		"conversion_rate": 1.0,
		"credit_to": "Creditors - TC",
		"is_paid": 1,
		"paid_amount": 60.0,
		"cash_bank_account": "Bank - TC",
	}
	(entry,) = paid_at_once(bill)
	(payload,) = payment_payloads(entry, PAY_CTX, xero_ids={("Purchase Invoice", "PINV-1"): "bill-1"})
	assert (payload["Invoice"], payload["Account"], payload["Amount"]) == (
		{"InvoiceID": "bill-1"},
		{"Code": "090"},
		D("60.00"),
	)


def test_an_invoice_not_paid_at_once_carries_no_payment():
	assert paid_at_once(pos_invoice(is_pos=0)) == []
	assert paid_at_once({"doctype": "Purchase Invoice", "name": "PINV-2", "is_paid": 0}) == []


def credit_note_journal(return_row: dict, invoice_row: dict, **extra) -> dict:
	"""What Payment Reconciliation makes of a return applied to another invoice."""
	return {
		"doctype": "Journal Entry",
		"name": "JV-CN",
		"voucher_type": "Credit Note",
		"posting_date": "2024-07-01",
		"accounts": [
			{"account": "Debtors - TC", "party_type": "Customer", "party": "Acme", **invoice_row},
			{"account": "Debtors - TC", "party_type": "Customer", "party": "Acme", **return_row},
		],
	} | extra


def test_a_return_applied_to_another_invoice_is_its_credit_notes_allocation_not_a_payment():
	je = credit_note_journal(
		{"reference_type": "Sales Invoice", "reference_name": "SINV-RET-1", "debit_in_account_currency": 30},
		{"reference_type": "Sales Invoice", "reference_name": "SINV-2", "credit_in_account_currency": 30},
	)
	assert return_applied(je) == {
		"return": ("Sales Invoice", "SINV-RET-1"),
		"invoice": ("Sales Invoice", "SINV-2"),
		"amount": D("30.00"),
		"date": "2024-07-01",
	}
	assert settlements(je) == []


def test_a_debit_note_applied_to_another_bill_is_recognised_the_supplier_way_round():
	bill_row = {
		"reference_type": "Purchase Invoice",
		"reference_name": "PINV-2",
		"debit_in_account_currency": 12,
	}
	je = credit_note_journal(
		{
			"reference_type": "Purchase Invoice",
			"reference_name": "PINV-RET-1",
			"credit_in_account_currency": 12,
		},
		bill_row,
		voucher_type="Debit Note",
	)
	for row in je["accounts"]:
		row.update(account="Creditors - TC", party_type="Supplier", party="Parts Ltd")
	assert (return_applied(je)["return"], return_applied(je)["invoice"]) == (
		("Purchase Invoice", "PINV-RET-1"),
		("Purchase Invoice", "PINV-2"),
	)


def test_journals_that_only_look_like_it_are_not_a_return_applied():
	unequal = credit_note_journal(
		{"reference_type": "Sales Invoice", "reference_name": "SINV-RET-1", "debit_in_account_currency": 30},
		{"reference_type": "Sales Invoice", "reference_name": "SINV-2", "credit_in_account_currency": 20},
	)
	two_parties = credit_note_journal(
		{"reference_type": "Sales Invoice", "reference_name": "SINV-RET-1", "debit_in_account_currency": 30},
		{
			"reference_type": "Sales Invoice",
			"reference_name": "SINV-2",
			"credit_in_account_currency": 30,
			"party": "Someone Else",
		},
	)
	assert return_applied(unequal) is None
	assert return_applied(two_parties) is None
	with pytest.raises(MappingError, match="a contra"):
		settlements(two_parties)
