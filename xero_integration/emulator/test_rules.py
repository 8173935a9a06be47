"""Xero's data rules, driven through the real xero-python SDK over HTTP."""

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
	Account,
	Allocation,
	Allocations,
	Contact,
	Contacts,
	CreditNote,
	CreditNotes,
	CurrencyCode,
	Invoice,
	Invoices,
	LineAmountTypes,
	LineItem,
	Payment,
	PaymentDelete,
	Payments,
)
from xero_python.exceptions import AccountingBadRequestException


def validation_messages(error: AccountingBadRequestException) -> list[str]:
	return [m["Message"] for element in error.error_data["Elements"] for m in element["ValidationErrors"]]


def new_contact(xero, tenant_id, name="Acme Ltd", **fields) -> Contact:
	return xero.accounting.create_contacts(
		tenant_id, Contacts(contacts=[Contact(name=name, **fields)])
	).contacts[0]


def sales_invoice(contact_id, status="AUTHORISED", amount="100.00", **fields) -> Invoice:
	return Invoice(
		type="ACCREC",
		contact=Contact(contact_id=contact_id),
		date=date(2024, 3, 1),
		due_date=date(2024, 3, 31),
		status=status,
		line_items=[
			LineItem(
				description="Consulting",
				quantity=Decimal("1"),
				unit_amount=Decimal(amount),
				account_code="200",
			)
		],
		**fields,
	)


def create_invoice(xero, tenant_id, invoice: Invoice) -> Invoice:
	return xero.accounting.create_invoices(tenant_id, Invoices(invoices=[invoice])).invoices[0]


def pay(xero, tenant_id, invoice_id, amount) -> Payment:
	payment = Payment(
		invoice=Invoice(invoice_id=invoice_id),
		account=Account(code="090"),
		amount=Decimal(amount),
		date=date(2024, 3, 5),
	)
	return xero.accounting.create_payment(tenant_id, payment).payments[0]


def test_duplicate_active_contact_name_is_refused(xero, tenant_id):
	new_contact(xero, tenant_id, "Acme Ltd")
	with pytest.raises(AccountingBadRequestException) as refused:
		new_contact(xero, tenant_id, "ACME LTD")
	assert validation_messages(refused.value) == [
		"The contact name ACME LTD is already assigned to another contact. "
		"The contact name must be unique across all active contacts."
	]


def test_archived_contact_frees_its_name_and_cannot_be_invoiced(xero, emulator, tenant_id):
	acme = new_contact(xero, tenant_id, "Acme Ltd")
	xero.accounting.update_contact(
		tenant_id,
		acme.contact_id,
		Contacts(contacts=[Contact(contact_id=acme.contact_id, contact_status="ARCHIVED")]),
	)
	assert new_contact(xero, tenant_id, "Acme Ltd").contact_id != acme.contact_id
	with pytest.raises(AccountingBadRequestException) as refused:
		create_invoice(xero, tenant_id, sales_invoice(acme.contact_id))
	assert validation_messages(refused.value) == ["Unable to assign an Archived contact."]
	assert not emulator.org(tenant_id).invoices


def test_contact_number_is_unique_across_contacts(xero, tenant_id):
	new_contact(xero, tenant_id, "Acme Ltd", contact_number="CUST-1")
	with pytest.raises(AccountingBadRequestException) as refused:
		new_contact(xero, tenant_id, "Other Ltd", contact_number="CUST-1")
	assert validation_messages(refused.value) == [
		"The contact number CUST-1 is already assigned to another contact."
	]


def test_sales_invoice_number_must_be_unique_but_bill_numbers_may_repeat(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	create_invoice(xero, tenant_id, sales_invoice(contact_id, invoice_number="INV-100"))
	with pytest.raises(AccountingBadRequestException) as refused:
		create_invoice(xero, tenant_id, sales_invoice(contact_id, invoice_number="INV-100"))
	assert validation_messages(refused.value) == ["Invoice # must be unique."]
	for _ in range(2):
		bill = sales_invoice(contact_id, invoice_number="SUP-7")
		bill.type = "ACCPAY"
		assert create_invoice(xero, tenant_id, bill).invoice_number == "SUP-7"


def test_tax_is_rounded_per_line_then_summed(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	invoice = sales_invoice(contact_id)
	# 15% of 2.22 is 0.333: three lines give 0.99 of tax, not the 1.00 a total-level rounding would give.
	invoice.line_items = [
		LineItem(
			description=f"Line {n}", quantity=Decimal("1"), unit_amount=Decimal("2.22"), account_code="200"
		)
		for n in range(3)
	]
	created = create_invoice(xero, tenant_id, invoice)
	assert [line.tax_amount for line in created.line_items] == [Decimal("0.33")] * 3
	assert (created.sub_total, created.total_tax, created.total) == (
		Decimal("6.66"),
		Decimal("0.99"),
		Decimal("7.65"),
	)


def test_inclusive_amounts_and_four_decimal_unit_prices(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	invoice = sales_invoice(contact_id, line_amount_types=LineAmountTypes.INCLUSIVE)
	invoice.line_items = [
		LineItem(
			description="Widget", quantity=Decimal("3"), unit_amount=Decimal("1.2345"), account_code="200"
		)
	]
	created = xero.accounting.create_invoices(tenant_id, Invoices(invoices=[invoice]), unitdp=4).invoices[0]
	line = created.line_items[0]
	assert (line.unit_amount, line.line_amount, line.tax_amount) == (
		Decimal("1.2345"),
		Decimal("3.70"),
		Decimal("0.48"),
	)
	assert (created.sub_total, created.total) == (Decimal("3.22"), Decimal("3.70"))
	assert xero.accounting.get_invoice(tenant_id, created.invoice_id).invoices[0].line_items[
		0
	].unit_amount == Decimal("1.23")


def test_a_total_that_disagrees_with_the_lines_is_refused(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	with pytest.raises(AccountingBadRequestException):
		create_invoice(xero, tenant_id, sales_invoice(contact_id, amount="10.00", total=Decimal("11.00")))


def test_currency_must_be_enabled_and_an_omitted_rate_uses_the_daily_rate(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	with pytest.raises(AccountingBadRequestException):
		create_invoice(xero, tenant_id, sales_invoice(contact_id, currency_code=CurrencyCode.GBP))
	usd = create_invoice(xero, tenant_id, sales_invoice(contact_id, currency_code=CurrencyCode.USD))
	assert usd.currency_rate not in (None, Decimal("1"))


def test_payment_marks_invoice_paid_and_deleting_it_restores_amount_due(xero, emulator, tenant_id):
	invoice = create_invoice(xero, tenant_id, sales_invoice(new_contact(xero, tenant_id).contact_id))
	assert invoice.total == Decimal("115.00")
	pay(xero, tenant_id, invoice.invoice_id, "15.00")
	part_paid = xero.accounting.get_invoice(tenant_id, invoice.invoice_id).invoices[0]
	assert (part_paid.status, part_paid.amount_due, part_paid.amount_paid) == (
		"AUTHORISED",
		Decimal("100.00"),
		Decimal("15.00"),
	)
	final = pay(xero, tenant_id, invoice.invoice_id, "100.00")
	assert xero.accounting.get_invoice(tenant_id, invoice.invoice_id).invoices[0].status == "PAID"

	xero.accounting.delete_payment(tenant_id, final.payment_id, PaymentDelete(status="DELETED"))
	reopened = xero.accounting.get_invoice(tenant_id, invoice.invoice_id).invoices[0]
	assert (reopened.status, reopened.amount_due) == ("AUTHORISED", Decimal("100.00"))
	assert emulator.org(tenant_id).payments[final.payment_id]["Status"] == "DELETED"


def test_a_payment_is_deleted_in_the_wrapped_form_of_the_specs_example(xero, emulator, tenant_id):
	"""deletePayment's example body is {"Payments": [{"Status": "DELETED"}]}; its schema names the bare form."""
	invoice = create_invoice(xero, tenant_id, sales_invoice(new_contact(xero, tenant_id).contact_id))
	payment = pay(xero, tenant_id, invoice.invoice_id, "115.00")

	deleted = xero.accounting.delete_payment(
		tenant_id, payment.payment_id, Payments(payments=[Payment(status="DELETED")])
	).payments[0]
	assert (deleted.payment_id, deleted.status) == (payment.payment_id, "DELETED")
	reopened = xero.accounting.get_invoice(tenant_id, invoice.invoice_id).invoices[0]
	assert (reopened.status, reopened.amount_due) == ("AUTHORISED", Decimal("115.00"))


def test_overpayment_and_payment_on_a_draft_are_refused(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	authorised = create_invoice(xero, tenant_id, sales_invoice(contact_id))
	with pytest.raises(AccountingBadRequestException) as refused:
		pay(xero, tenant_id, authorised.invoice_id, "115.01")
	assert validation_messages(refused.value) == [
		"Payment amount exceeds the amount outstanding on this document"
	]
	draft = create_invoice(xero, tenant_id, sales_invoice(contact_id, status="DRAFT"))
	with pytest.raises(AccountingBadRequestException):
		pay(xero, tenant_id, draft.invoice_id, "1.00")


def test_void_is_refused_once_a_payment_exists(xero, tenant_id):
	invoice = create_invoice(xero, tenant_id, sales_invoice(new_contact(xero, tenant_id).contact_id))
	pay(xero, tenant_id, invoice.invoice_id, "10.00")
	void = Invoices(invoices=[Invoice(invoice_id=invoice.invoice_id, status="VOIDED")])
	with pytest.raises(AccountingBadRequestException) as refused:
		xero.accounting.update_invoice(tenant_id, invoice.invoice_id, void)
	assert validation_messages(refused.value) == [
		"This document cannot be edited as it has a payment or credit note allocated to it"
	]


def test_delete_only_from_draft_and_void_only_from_authorised(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	draft = create_invoice(xero, tenant_id, sales_invoice(contact_id, status="DRAFT"))
	authorised = create_invoice(xero, tenant_id, sales_invoice(contact_id))

	def set_status(invoice, status):
		body = Invoices(invoices=[Invoice(invoice_id=invoice.invoice_id, status=status)])
		return xero.accounting.update_invoice(tenant_id, invoice.invoice_id, body).invoices[0]

	for invoice, status in ((authorised, "DELETED"), (draft, "VOIDED")):
		with pytest.raises(AccountingBadRequestException):
			set_status(invoice, status)
	assert set_status(draft, "DELETED").status == "DELETED"
	voided = set_status(authorised, "VOIDED")
	assert (voided.status, voided.amount_due) == ("VOIDED", Decimal("0.00"))


def test_batch_without_summarised_errors_saves_the_good_elements(xero, emulator, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	bad = sales_invoice(contact_id)
	bad.line_items[0].account_code = "999"
	batch = Invoices(invoices=[sales_invoice(contact_id), bad, sales_invoice(contact_id)])
	answer = xero.accounting.create_invoices(tenant_id, batch, summarize_errors=False).invoices
	assert [i.status_attribute_string for i in answer] == ["OK", "ERROR", "OK"]
	assert [i.has_errors for i in answer] == [False, True, False]
	assert (
		answer[1].validation_errors[0].message == "Account code '999' is not a valid code for this document."
	)
	assert len(emulator.org(tenant_id).invoices) == 2


def test_summarised_batch_answers_400_yet_saves_the_valid_elements(xero, emulator, tenant_id):
	batch = Contacts(contacts=[Contact(name="Good One"), Contact(name=""), Contact(name="Good Two")])
	with pytest.raises(AccountingBadRequestException) as refused:
		xero.accounting.create_contacts(tenant_id, batch)
	error = refused.value.error_data
	assert (error["ErrorNumber"], error["Type"]) == (10, "ValidationException")
	assert len(error["Elements"]) == 1
	assert sorted(c["Name"] for c in emulator.org(tenant_id).contacts.values()) == ["Good One", "Good Two"]


def test_credit_note_allocation_reduces_amount_due_and_blocks_void(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	invoice = create_invoice(xero, tenant_id, sales_invoice(contact_id))
	credit = CreditNote(
		type="ACCRECCREDIT",
		contact=Contact(contact_id=contact_id),
		date=date(2024, 3, 2),
		status="AUTHORISED",
		line_items=[
			LineItem(
				description="Refund", quantity=Decimal("1"), unit_amount=Decimal("20"), account_code="200"
			)
		],
	)
	credit_note = xero.accounting.create_credit_notes(
		tenant_id, CreditNotes(credit_notes=[credit])
	).credit_notes[0]
	assert credit_note.remaining_credit == Decimal("23.00")
	allocation = Allocation(
		invoice=Invoice(invoice_id=invoice.invoice_id), amount=Decimal("23.00"), date=date(2024, 3, 3)
	)
	xero.accounting.create_credit_note_allocation(
		tenant_id, credit_note.credit_note_id, Allocations(allocations=[allocation])
	)
	after = xero.accounting.get_invoice(tenant_id, invoice.invoice_id).invoices[0]
	assert (after.amount_due, after.amount_credited) == (Decimal("92.00"), Decimal("23.00"))
	assert (
		xero.accounting.get_credit_note(tenant_id, credit_note.credit_note_id).credit_notes[0].status
		== "PAID"
	)
	with pytest.raises(AccountingBadRequestException):
		xero.accounting.update_invoice(
			tenant_id,
			invoice.invoice_id,
			Invoices(invoices=[Invoice(invoice_id=invoice.invoice_id, status="VOIDED")]),
		)


def test_batch_payments_and_lookup_by_invoice_number(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	first = create_invoice(xero, tenant_id, sales_invoice(contact_id, invoice_number="INV-1"))
	second = create_invoice(xero, tenant_id, sales_invoice(contact_id, invoice_number="INV-2"))
	payments = Payments(
		payments=[
			Payment(invoice=Invoice(invoice_id=i.invoice_id), account=Account(code="090"), amount=i.total)
			for i in (first, second)
		]
	)
	made = xero.accounting.create_payments(tenant_id, payments, summarize_errors=False).payments
	assert [p.status_attribute_string for p in made] == ["OK", "OK"]
	assert xero.accounting.get_invoice(tenant_id, "INV-2").invoices[0].status == "PAID"


def test_status_change_keeps_four_decimal_lines_intact(xero, emulator, tenant_id):
	invoice = sales_invoice(new_contact(xero, tenant_id).contact_id, status="DRAFT")
	invoice.line_items = [
		LineItem(description="Bolt", quantity=Decimal("3"), unit_amount=Decimal("1.2345"), account_code="200")
	]
	draft = xero.accounting.create_invoices(tenant_id, Invoices(invoices=[invoice]), unitdp=4).invoices[0]
	approve = Invoices(invoices=[Invoice(invoice_id=draft.invoice_id, status="AUTHORISED")])
	approved = xero.accounting.update_invoice(tenant_id, draft.invoice_id, approve).invoices[0]
	assert (approved.status, approved.total) == ("AUTHORISED", Decimal("4.26"))
	stored = emulator.org(tenant_id).invoices[draft.invoice_id]["LineItems"][0]
	assert stored["UnitAmount"] == Decimal("1.2345")


def test_payments_go_to_bank_accounts_or_accounts_with_payments_enabled(xero, tenant_id):
	"""A write-off booked as a payment from Bad Debts (415, payments enabled); Advertising (400) has none."""
	invoice = create_invoice(xero, tenant_id, sales_invoice(new_contact(xero, tenant_id).contact_id))

	def pay_from(code, amount):
		payment = Payment(
			invoice=Invoice(invoice_id=invoice.invoice_id), account=Account(code=code), amount=amount
		)
		return xero.accounting.create_payment(tenant_id, payment).payments[0]

	with pytest.raises(AccountingBadRequestException) as refused:
		pay_from("400", Decimal("15.00"))
	assert validation_messages(refused.value) == [
		"Account code '400' is not a bank account and payments to it are not enabled."
	]
	written_off = pay_from("415", Decimal("15.00"))
	assert (written_off.account.code, written_off.payment_type) == ("415", "ACCRECPAYMENT")
	pay_from("091", Decimal("100.00"))  # a bank account without the flag
	assert xero.accounting.get_invoice(tenant_id, invoice.invoice_id).invoices[0].status == "PAID"


def test_deleting_a_credit_note_allocation_reopens_the_invoice(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	invoice = create_invoice(xero, tenant_id, sales_invoice(contact_id, amount="20.00"))
	credit = CreditNote(
		type="ACCRECCREDIT",
		contact=Contact(contact_id=contact_id),
		status="AUTHORISED",
		line_items=[
			LineItem(description="Refund", quantity=1, unit_amount=Decimal("20"), account_code="200")
		],
	)
	credit_note = xero.accounting.create_credit_notes(
		tenant_id, CreditNotes(credit_notes=[credit])
	).credit_notes[0]
	allocation = Allocation(
		invoice=Invoice(invoice_id=invoice.invoice_id), amount=Decimal("23.00"), date=date.today()
	)
	made = xero.accounting.create_credit_note_allocation(
		tenant_id, credit_note.credit_note_id, Allocations(allocations=[allocation])
	).allocations[0]
	removed = xero.accounting.delete_credit_note_allocations(
		tenant_id, credit_note.credit_note_id, made.allocation_id
	)
	assert removed.is_deleted is True
	reopened = xero.accounting.get_invoice(tenant_id, invoice.invoice_id).invoices[0]
	assert (reopened.status, reopened.amount_due, reopened.credit_notes) == (
		"AUTHORISED",
		Decimal("23.00"),
		[],
	)
	after = xero.accounting.get_credit_note(tenant_id, credit_note.credit_note_id).credit_notes[0]
	assert (after.status, after.remaining_credit, after.allocations) == ("AUTHORISED", Decimal("23.00"), [])


def test_a_contact_is_a_customer_by_receivable_documents_and_a_supplier_by_payable_ones(xero, tenant_id):
	def roles(contact_id) -> tuple[bool, bool]:
		contact = xero.accounting.get_contact(tenant_id, contact_id).contacts[0]
		return contact.is_customer, contact.is_supplier

	def credit_note(type_: str, contact_id: str) -> CreditNote:
		return CreditNote(
			type=type_,
			contact=Contact(contact_id=contact_id),
			date=date(2024, 3, 2),
			status="AUTHORISED",
			line_items=[
				LineItem(
					description="Credit", quantity=Decimal("1"), unit_amount=Decimal("5"), account_code="400"
				)
			],
		)

	customer = new_contact(xero, tenant_id, name="Credited Customer").contact_id
	supplier = new_contact(xero, tenant_id, name="Credited Supplier").contact_id
	xero.accounting.create_credit_notes(
		tenant_id,
		CreditNotes(
			credit_notes=[credit_note("ACCRECCREDIT", customer), credit_note("ACCPAYCREDIT", supplier)]
		),
	)
	assert roles(customer) == (True, False)
	assert roles(supplier) == (False, True)
