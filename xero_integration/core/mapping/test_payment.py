from decimal import Decimal

import pytest

from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.payment import payment_payloads, payment_to_erpnext
from xero_integration.core.mapping.test_invoice import CTX

D = Decimal
ACCOUNTS = CTX.account_codes | {"Bank - TC": "090", "Debtors - TC": "610"}
PAY_CTX = type(CTX)(**{**CTX.__dict__, "account_codes": ACCOUNTS})
XERO_IDS = {
	("Sales Invoice", "SINV-1"): "inv-1",
	("Sales Invoice", "SINV-2"): "inv-2",
	("Sales Invoice", "SINV-RET-1"): "cn-1",
}


def receipt(**extra):
	pe = {
		"name": "PE-1",
		"payment_type": "Receive",
		"posting_date": "2024-06-01",
		"reference_no": "DD 42",
		"paid_from": "Debtors - TC",
		"paid_to": "Bank - TC",
		"paid_from_account_currency": "NZD",
		"paid_amount": 150.0,
		"received_amount": 150.0,
		"source_exchange_rate": 1.0,
		"target_exchange_rate": 1.0,
		"unallocated_amount": 0.0,
		"references": [
			{"reference_doctype": "Sales Invoice", "reference_name": "SINV-1", "allocated_amount": 100.0},
			{"reference_doctype": "Sales Invoice", "reference_name": "SINV-2", "allocated_amount": 50.0},
		],
	}
	return pe | extra


def test_one_xero_payment_per_reference_including_partial_ones():
	assert payment_payloads(receipt(), PAY_CTX, xero_ids=XERO_IDS) == [
		{
			"Invoice": {"InvoiceID": "inv-1"},
			"Account": {"Code": "090"},
			"Date": "2024-06-01",
			"Amount": D("100.00"),
			"Reference": "DD 42",
		},
		{
			"Invoice": {"InvoiceID": "inv-2"},
			"Account": {"Code": "090"},
			"Date": "2024-06-01",
			"Amount": D("50.00"),
			"Reference": "DD 42",
		},
	]


def test_refund_of_a_return_is_a_credit_note_payment():
	refund = receipt(
		payment_type="Pay",
		paid_from="Bank - TC",
		paid_to="Debtors - TC",
		paid_to_account_currency="NZD",
		references=[
			{"reference_doctype": "Sales Invoice", "reference_name": "SINV-RET-1", "allocated_amount": -20.0}
		],
	)
	assert payment_payloads(refund, PAY_CTX, xero_ids=XERO_IDS) == [
		{
			"CreditNote": {"CreditNoteID": "cn-1"},
			"Account": {"Code": "090"},
			"Date": "2024-06-01",
			"Amount": D("20.00"),
			"Reference": "DD 42",
		}
	]


def test_foreign_currency_payment_sends_xeros_rate():
	pe = receipt(paid_from_account_currency="USD", source_exchange_rate=1.6)
	assert {p["CurrencyRate"] for p in payment_payloads(pe, PAY_CTX, xero_ids=XERO_IDS)} == {D("0.625000")}
	assert "CurrencyRate" not in payment_payloads(receipt(), PAY_CTX, xero_ids=XERO_IDS)[0]


def test_every_problem_of_a_payment_is_reported_at_once():
	pe = receipt(
		paid_to="Petty Cash - TC",
		references=[
			{"reference_doctype": "Sales Invoice", "reference_name": "SINV-9", "allocated_amount": 5.0},
			{"reference_doctype": "Sales Order", "reference_name": "SO-1", "allocated_amount": 5.0},
		],
	)
	with pytest.raises(MappingError) as error:
		payment_payloads(pe, PAY_CTX, xero_ids=XERO_IDS)
	assert error.value.problems == [
		"Account 'Petty Cash - TC' has no Xero account code: add it in Xero Account Mapping.",
		"Sales Invoice SINV-9 is not in Xero yet: sync it before Payment Entry PE-1.",
		"Sales Order SO-1 on Payment Entry PE-1 cannot be paid in Xero: only invoices can.",
	]


def test_xero_payment_to_erpnext_receipt_in_foreign_currency():
	payment = {
		"PaymentID": "p-1",
		"PaymentType": "ACCRECPAYMENT",
		"Status": "AUTHORISED",
		"Date": "/Date(1717200000000+0000)/",
		"Amount": D("40.00"),
		"CurrencyRate": D("0.625"),
		"Reference": "DD 42",
		"Account": {"Code": "090"},
		"Invoice": {"InvoiceID": "inv-1", "CurrencyCode": "USD", "Contact": {"ContactID": "c1"}},
	}
	pulled = payment_to_erpnext(payment, PAY_CTX, reverse_accounts={"090": "Bank - TC"})
	result = pulled.values
	assert (result["payment_type"], result["party_type"], result["paid_to"]) == (
		"Receive",
		"Customer",
		"Bank - TC",
	)
	assert (result["paid_amount"], result["source_exchange_rate"]) == (D("40.00"), D("1.6"))
	assert (result["received_amount"], result["target_exchange_rate"]) == (D("64.00"), D(1))
	assert (pulled.pays_kind, pulled.pays_xero_id, pulled.allocated_amount) == (
		"Invoice",
		"inv-1",
		D("40.00"),
	)
	assert result["posting_date"] == "2024-06-01"


def test_xero_credit_note_refund_to_erpnext_is_a_negative_allocation():
	payment = {
		"PaymentID": "p-2",
		"PaymentType": "ARCREDITPAYMENT",
		"Date": "2024-06-02",
		"Amount": D("20"),
		"Account": {"Code": "090"},
		"CreditNote": {"CreditNoteID": "cn-1"},
	}
	pulled = payment_to_erpnext(payment, PAY_CTX, reverse_accounts={"090": "Bank - TC"})
	assert (pulled.values["payment_type"], pulled.values["paid_from"], pulled.values["paid_amount"]) == (
		"Pay",
		"Bank - TC",
		D("20.00"),
	)
	assert (pulled.pays_kind, pulled.allocated_amount) == ("CreditNote", D("-20.00"))


def test_xero_payment_with_unmapped_bank_is_an_error():
	payment = {
		"PaymentID": "p-3",
		"PaymentType": "ACCPAYPAYMENT",
		"Amount": 5,
		"Account": {"Code": "091"},
		"Invoice": {"InvoiceID": "bill-1"},
	}
	with pytest.raises(MappingError, match="'091'"):
		payment_to_erpnext(payment, PAY_CTX, reverse_accounts={})
