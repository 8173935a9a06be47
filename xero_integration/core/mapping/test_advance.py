"""Advances as Xero overpayments: the bank transaction, its allocations and the refund that undoes it,
mapped without Frappe and sent to the emulator through the app's client and xero-python."""

from decimal import Decimal

import pytest

from xero_integration.core.mapping.advance import (
	advance_amount,
	allocation_hash,
	is_advance,
	overpayment_payload,
	refund_payload,
	wanted_allocations,
)
from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.test_payment import PAY_CTX, XERO_IDS, receipt
from xero_integration.core.test_client import make_client

D = Decimal


def deposit(**extra):
	"""A customer's 150.00 of which 100.00 pays SINV-1 and 50.00 is left for later."""
	return (
		receipt(
			doctype="Payment Entry",
			party_type="Customer",
			party="Acme",
			unallocated_amount=50.0,
			references=[
				{"reference_doctype": "Sales Invoice", "reference_name": "SINV-1", "allocated_amount": 100.0}
			],
		)
		| extra
	)


def test_money_left_unallocated_or_paid_against_an_order_is_an_advance():
	assert advance_amount(deposit()) == D("50.00")
	on_order = deposit(
		unallocated_amount=0.0,
		references=[
			{"reference_doctype": "Sales Order", "reference_name": "SO-1", "allocated_amount": 150.0},
		],
	)
	assert (advance_amount(on_order), is_advance(on_order)) == (D("150.00"), True)
	assert not is_advance(receipt(doctype="Payment Entry", party_type="Customer"))


def test_the_whole_entry_is_one_overpayment_of_the_customer():
	payload = overpayment_payload(deposit(), PAY_CTX, contact_id="c-1")
	assert payload == {
		"Type": "RECEIVE-OVERPAYMENT",
		"Contact": {"ContactID": "c-1"},
		"BankAccount": {"Code": "090"},
		"Date": "2024-06-01",
		"Reference": "DD 42",
		"LineAmountTypes": "NoTax",
		"LineItems": [{"Description": "Advance PE-1", "Quantity": D(1), "UnitAmount": D("150.00")}],
	}


def test_a_supplier_advance_is_a_spend_overpayment_of_what_reached_the_supplier():
	pe = deposit(
		payment_type="Pay",
		party_type="Supplier",
		paid_from="Bank - TC",
		paid_to="Creditors - TC",
		paid_amount=80.0,
		received_amount=80.0,
	)
	payload = overpayment_payload(pe, PAY_CTX, contact_id="s-1")
	assert (payload["Type"], payload["LineItems"][0]["UnitAmount"]) == ("SPEND-OVERPAYMENT", D("80.00"))


def test_what_xero_cannot_hold_is_named_all_at_once():
	pe = deposit(
		payment_type="Pay",
		party_type="Customer",
		deductions=[{"account": "Write Off - TC", "amount": 5.0}],
	)
	with pytest.raises(MappingError) as refused:
		overpayment_payload(pe, PAY_CTX, contact_id="c-1")
	assert "Pay to or from a Customer" in refused.value.problems[0]
	with pytest.raises(MappingError) as refused:
		overpayment_payload(
			deposit(deductions=[{"amount": 5.0}], paid_to="Petty Cash"), PAY_CTX, contact_id=None
		)
	assert [p.split(":")[0] for p in refused.value.problems] == [
		"Payment Entry PE-1 has deductions and leaves money unallocated",
		"Account 'Petty Cash' has no Xero account code",
	]


def test_allocations_add_up_rows_of_one_invoice_and_are_dated_when_both_exist():
	pe = deposit(
		references=[
			{"reference_doctype": "Sales Order", "reference_name": "SO-1", "allocated_amount": 20.0},
			{"reference_doctype": "Sales Invoice", "reference_name": "SINV-1", "allocated_amount": 60.0},
			{"reference_doctype": "Sales Invoice", "reference_name": "SINV-1", "allocated_amount": 40.0},
			{"reference_doctype": "Sales Invoice", "reference_name": "SINV-2", "allocated_amount": 0.0},
		]
	)
	wanted = wanted_allocations(pe, xero_ids=XERO_IDS, dates={("Sales Invoice", "SINV-1"): "2024-06-20"})
	assert wanted == {
		("Sales Invoice", "SINV-1"): {
			"Invoice": {"InvoiceID": "inv-1"},
			"Amount": D("100.00"),
			"Date": "2024-06-20",
		}
	}
	# The same invoice and amount is the same allocation, whenever it was made.
	assert allocation_hash(wanted[("Sales Invoice", "SINV-1")]) == allocation_hash(
		{"Invoice": {"InvoiceID": "inv-1"}, "Amount": D("100.00"), "Date": "2024-06-01"}
	)


def test_returns_and_invoices_not_in_xero_are_refused_with_what_to_do():
	pe = deposit(
		references=[
			{"reference_doctype": "Sales Invoice", "reference_name": "SINV-RET-1", "allocated_amount": -10.0},
			{"reference_doctype": "Sales Invoice", "reference_name": "SINV-9", "allocated_amount": 10.0},
		]
	)
	with pytest.raises(MappingError) as refused:
		wanted_allocations(pe, xero_ids=XERO_IDS, dates={})
	assert refused.value.problems == [
		"Sales Invoice SINV-RET-1 is a return: Xero allocates an advance to invoices only. Refund the credit "
		"note in Xero by hand, or take it off Payment Entry PE-1.",
		"Sales Invoice SINV-9 is not in Xero yet: sync it before Payment Entry PE-1.",
	]


def test_in_xero_the_advance_settles_the_invoice_and_its_refund_empties_it(emulator, tenant_id):
	"""What the app sends, through its own client, as Xero takes it."""
	client, _ = make_client(emulator, tenant_id)
	contact_id = client.send("Contact", [{"Name": "Acme"}])[0].xero_id
	invoice = client.send(
		"Invoice",
		[
			{
				"Type": "ACCREC",
				"Contact": {"ContactID": contact_id},
				"Status": "AUTHORISED",
				"Date": "2024-06-01",
				"LineAmountTypes": "NoTax",
				"LineItems": [
					{"Description": "Work", "Quantity": 1, "UnitAmount": 120, "AccountCode": "200"}
				],
			}
		],
	)[0].element
	(sent,) = client.send("BankTransaction", [overpayment_payload(deposit(), PAY_CTX, contact_id=contact_id)])
	assert sent.ok, sent.errors
	overpayment_id = sent.element["OverpaymentID"]

	xero_ids = {("Sales Invoice", "SINV-1"): invoice["InvoiceID"]}
	wanted = wanted_allocations(
		deposit(), xero_ids=xero_ids, dates={("Sales Invoice", "SINV-1"): "2024-06-05"}
	)
	made = client.call(
		"create_overpayment_allocations", overpayment_id, {"Allocations": list(wanted.values())}
	).body["Allocations"]
	assert [a["Amount"] for a in made] == [100.0]
	assert client.get("Invoice", invoice["InvoiceID"])["AmountDue"] == 20.0
	assert client.get("Overpayment", overpayment_id)["RemainingCredit"] == 50.0

	client.call("delete_overpayment_allocations", overpayment_id, made[0]["AllocationID"])
	(refund,) = client.send(
		"Payment", [refund_payload(deposit(), PAY_CTX, overpayment_id=overpayment_id, amount=150)]
	)
	assert refund.ok, refund.errors
	assert client.get("Invoice", invoice["InvoiceID"])["AmountDue"] == 120.0
	assert client.get("Overpayment", overpayment_id)["RemainingCredit"] == 0.0
