"""Advances both ways. Out: the overpayment bank transaction, its allocations and the refund that undoes
it, mapped without Frappe and sent to the emulator through the app's client and xero-python. In:
prepayments, overpayments, their allocations and refunds made in (emulated) Xero through the real
xero-python SDK, read back through the app's client and mapped to ERPNext."""

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
	Account,
	Allocation,
	Allocations,
	CurrencyCode,
	Invoice,
	LineAmountTypes,
	Overpayment,
	Payment,
	Prepayment,
)

from xero_integration.core.mapping.advance import (
	advance_amount,
	advance_to_erpnext,
	allocation_hash,
	allocations_by_invoice,
	is_advance,
	kind_of,
	made_by,
	overpayment_payload,
	refund_payload,
	wanted_allocations,
)
from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.payment import payment_to_erpnext
from xero_integration.core.mapping.test_payment import PAY_CTX, XERO_IDS, receipt
from xero_integration.core.test_client import make_client
from xero_integration.emulator.pytest_plugin import connect
from xero_integration.emulator.test_bank_transactions import bank_transaction, create, line
from xero_integration.emulator.test_rules import create_invoice, new_contact, sales_invoice

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


D = Decimal
BANKS = {"090": "Bank - TC"}


@pytest.fixture
def xero(emulator, tenant_id):
	"""The SDK for what a bookkeeper does in Xero, the app's client for what the pull reads."""
	sdk, _tenant = connect(emulator, tenant_id)
	app, _tokens = make_client(emulator, tenant_id)
	return sdk, app


def advance(xero, tenant_id, contact_id, type_, amount="50.00", account="200", **fields) -> tuple[dict, dict]:
	"""A prepayment or overpayment made in Xero, and the bank transaction that made it, as the pull reads
	them."""
	sdk, app = xero
	(made,) = create(sdk, tenant_id, bank_transaction(contact_id, type_, [line(amount, account)], **fields))
	kind = "Prepayment" if made.prepayment_id else "Overpayment"
	xero_id = str(made.prepayment_id or made.overpayment_id)
	record = app.get(kind, xero_id)
	(transaction,) = app.list_all("BankTransaction", where=made_by(kind, xero_id))
	return record, transaction


def test_a_customer_overpayment_is_an_advance_received_into_its_bank_account(xero, tenant_id):
	contact_id = str(new_contact(xero[0], tenant_id).contact_id)
	record, transaction = advance(
		xero, tenant_id, contact_id, "RECEIVE-OVERPAYMENT", "80.00", reference="Paid twice"
	)
	assert kind_of(record) == "Overpayment"
	assert transaction["OverpaymentID"] == record["OverpaymentID"]
	pulled = advance_to_erpnext(record, transaction, PAY_CTX, reverse_accounts=BANKS)
	assert pulled.values == {
		"doctype": "Payment Entry",
		"payment_type": "Receive",
		"party_type": "Customer",
		"posting_date": "2024-03-01",
		"reference_no": "Paid twice",
		"reference_date": "2024-03-01",
		"paid_amount": D("80.00"),
		"source_exchange_rate": D("1.000000000"),
		"received_amount": D("80.00"),
		"target_exchange_rate": D("1.000000000"),
		"paid_to": "Bank - TC",
	}
	assert (pulled.contact_id, pulled.currency, pulled.gone) == (contact_id, "NZD", False)


def test_a_supplier_prepayment_without_tax_is_an_advance_paid_out_of_the_bank(xero, tenant_id):
	contact_id = str(new_contact(xero[0], tenant_id).contact_id)
	record, transaction = advance(
		xero,
		tenant_id,
		contact_id,
		"SPEND-PREPAYMENT",
		"120.00",
		"400",
		line_amount_types=LineAmountTypes.NOTAX,
	)
	pulled = advance_to_erpnext(record, transaction, PAY_CTX, reverse_accounts=BANKS)
	values = pulled.values
	assert (values["payment_type"], values["party_type"], values["paid_from"]) == (
		"Pay",
		"Supplier",
		"Bank - TC",
	)
	assert (values["paid_amount"], values["received_amount"]) == (D("120.00"), D("120.00"))
	# Without a reference of its own, the entry names the prepayment.
	assert values["reference_no"] == record["PrepaymentID"]


def test_a_foreign_currency_overpayment_is_in_its_currency_on_the_party_side(xero, tenant_id):
	contact_id = str(new_contact(xero[0], tenant_id).contact_id)
	record, transaction = advance(
		xero,
		tenant_id,
		contact_id,
		"RECEIVE-OVERPAYMENT",
		"40.00",
		currency_code=CurrencyCode.USD,
		currency_rate=D("0.625"),
	)
	pulled = advance_to_erpnext(record, transaction, PAY_CTX, reverse_accounts=BANKS)
	values = pulled.values
	assert pulled.currency == "USD"
	assert (values["paid_amount"], values["source_exchange_rate"]) == (D("40.00"), D("1.6"))
	assert (values["received_amount"], values["target_exchange_rate"]) == (D("64.00"), D(1))


def test_what_keeps_an_advance_out_of_erpnext_is_said_all_at_once(xero, tenant_id):
	contact_id = str(new_contact(xero[0], tenant_id).contact_id)
	record, transaction = advance(xero, tenant_id, contact_id, "RECEIVE-PREPAYMENT", "100.00")  # GST 15.00
	with pytest.raises(MappingError) as error:
		advance_to_erpnext(record, transaction, PAY_CTX, reverse_accounts={})
	assert error.value.problems == [
		f"Xero prepayment {record['PrepaymentID']} carries 15.00 of tax; an ERPNext advance carries none: "
		"record it in ERPNext by hand.",
		f"Xero account code '090' (prepayment {record['PrepaymentID']}) has no ERPNext account mapped.",
	]
	with pytest.raises(MappingError, match="no bank transaction"):
		advance_to_erpnext(record, None, PAY_CTX, reverse_accounts=BANKS)


def test_allocations_standing_in_xero_are_summed_per_invoice(xero, tenant_id):
	sdk, app = xero
	contact_id = str(new_contact(sdk, tenant_id).contact_id)
	record, _transaction = advance(xero, tenant_id, contact_id, "RECEIVE-OVERPAYMENT", "100.00")
	first, second = (
		create_invoice(sdk, tenant_id, sales_invoice(contact_id, amount="40.00")).invoice_id for _ in range(2)
	)

	def allocate(invoice_id, amount):
		body = Allocations(
			allocations=[
				Allocation(invoice=Invoice(invoice_id=invoice_id), amount=D(amount), date=date(2024, 3, 9))
			]
		)
		return sdk.accounting.create_overpayment_allocations(
			tenant_id, record["OverpaymentID"], body
		).allocations[0]

	kept, gone = allocate(first, "10.00"), allocate(first, "5.00")
	allocate(second, "20.00")
	sdk.accounting.delete_overpayment_allocations(tenant_id, record["OverpaymentID"], gone.allocation_id)
	standing = allocations_by_invoice(app.get("Overpayment", record["OverpaymentID"]))
	assert {invoice_id: (a.amount, len(a.allocation_ids)) for invoice_id, a in standing.items()} == {
		str(first): (D("10.00"), 1),
		str(second): (D("20.00"), 1),
	}
	assert standing[str(first)].allocation_ids == (str(kept.allocation_id),)
	# Xero may also answer a deleted allocation flagged IsDeleted rather than leave it out.
	flagged = {
		"Allocations": [
			{"AllocationID": "A-1", "Amount": 5, "Invoice": {"InvoiceID": "I-1"}, "IsDeleted": True}
		]
	}
	assert allocations_by_invoice(flagged) == {}


def test_a_refund_of_an_advance_is_money_going_back_the_other_way(xero, tenant_id):
	sdk, app = xero
	customer = str(new_contact(sdk, tenant_id).contact_id)
	supplier = str(new_contact(sdk, tenant_id, name="Supplier Ltd").contact_id)
	overpayment, _ = advance(xero, tenant_id, customer, "RECEIVE-OVERPAYMENT", "30.00")
	prepayment, _ = advance(
		xero, tenant_id, supplier, "SPEND-PREPAYMENT", "60.00", "400", line_amount_types=LineAmountTypes.NOTAX
	)

	def refund(amount, **credit):
		payment = Payment(account=Account(code="090"), amount=D(amount), date=date(2024, 3, 20), **credit)
		made = sdk.accounting.create_payment(tenant_id, payment).payments[0]
		return app.get("Payment", str(made.payment_id))

	to_customer = payment_to_erpnext(
		refund("25.00", overpayment=Overpayment(overpayment_id=overpayment["OverpaymentID"])),
		PAY_CTX,
		reverse_accounts=BANKS,
	)
	assert (to_customer.values["payment_type"], to_customer.values["party_type"]) == ("Pay", "Customer")
	assert (to_customer.values["paid_from"], to_customer.values["paid_amount"]) == ("Bank - TC", D("25.00"))
	assert (to_customer.pays_kind, to_customer.pays_xero_id, to_customer.allocated_amount) == (
		"Overpayment",
		overpayment["OverpaymentID"],
		D("25.00"),
	)
	from_supplier = payment_to_erpnext(
		refund("60.00", prepayment=Prepayment(prepayment_id=prepayment["PrepaymentID"])),
		PAY_CTX,
		reverse_accounts=BANKS,
	)
	assert (from_supplier.values["payment_type"], from_supplier.values["party_type"]) == (
		"Receive",
		"Supplier",
	)
	assert (from_supplier.values["paid_to"], from_supplier.pays_kind) == ("Bank - TC", "Prepayment")


def test_a_refund_without_a_payment_type_is_read_from_what_it_pays():
	refund = {
		"PaymentID": "p-9",
		"Amount": 12,
		"Account": {"Code": "090"},
		"Overpayment": {"OverpaymentID": "op-1", "Type": "SPEND-OVERPAYMENT"},
	}
	pulled = payment_to_erpnext(refund, PAY_CTX, reverse_accounts=BANKS)
	assert (pulled.values["payment_type"], pulled.values["party_type"], pulled.pays_kind) == (
		"Receive",
		"Supplier",
		"Overpayment",
	)
