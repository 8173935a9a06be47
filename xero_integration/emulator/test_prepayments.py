"""Prepayments and overpayments: allocations to invoices, their removal, and refunds, driven through the
real xero-python SDK over HTTP."""

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
	Account,
	Allocation,
	Allocations,
	Invoice,
	Overpayment,
	Payment,
	PaymentDelete,
	Prepayment,
)
from xero_python.exceptions import AccountingBadRequestException, NotFoundException

from .test_api import raw
from .test_bank_transactions import bank_transaction, create, line
from .test_rules import create_invoice, new_contact, sales_invoice, validation_messages


def prepayment_of(
	xero, tenant_id, contact_id, type_="RECEIVE-PREPAYMENT", amount="100.00", account_code="200"
):
	(created,) = create(xero, tenant_id, bank_transaction(contact_id, type_, [line(amount, account_code)]))
	return created.prepayment_id or created.overpayment_id


def bill(contact_id, amount="100.00") -> Invoice:
	invoice = sales_invoice(contact_id, amount=amount)
	invoice.type = "ACCPAY"
	invoice.line_items[0].account_code = "400"
	return invoice


def allocation(invoice_id, amount) -> Allocation:
	return Allocation(invoice=Invoice(invoice_id=invoice_id), amount=Decimal(amount), date=date(2024, 3, 10))


def allocate(xero, tenant_id, credit_id, *allocations, overpayment=False, **options) -> list[Allocation]:
	"""PUT /Prepayments/{id}/Allocations, or /Overpayments/{id}/Allocations."""
	accounting = xero.accounting
	put = (
		accounting.create_overpayment_allocations if overpayment else accounting.create_prepayment_allocations
	)
	return put(tenant_id, credit_id, Allocations(allocations=list(allocations)), **options).allocations


def get_prepayment(xero, tenant_id, prepayment_id) -> Prepayment:
	return xero.accounting.get_prepayment(tenant_id, prepayment_id).prepayments[0]


def get_invoice(xero, tenant_id, invoice_id) -> Invoice:
	return xero.accounting.get_invoice(tenant_id, invoice_id).invoices[0]


def test_allocations_reduce_the_credit_and_the_invoices_amount_due(xero, emulator, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	prepayment_id = prepayment_of(xero, tenant_id, contact_id)  # 115.00
	first = create_invoice(xero, tenant_id, sales_invoice(contact_id, amount="40.00"))  # 46.00
	second = create_invoice(xero, tenant_id, sales_invoice(contact_id, amount="100.00"))  # 115.00
	made = allocate(
		xero,
		tenant_id,
		prepayment_id,
		allocation(first.invoice_id, "46.00"),
		allocation(second.invoice_id, "50.00"),
	)
	assert [(a.amount, a.invoice.invoice_id, a.prepayment.prepayment_id) for a in made] == [
		(Decimal("46.00"), first.invoice_id, prepayment_id),
		(Decimal("50.00"), second.invoice_id, prepayment_id),
	]
	prepayment = get_prepayment(xero, tenant_id, prepayment_id)
	assert (prepayment.remaining_credit, prepayment.status) == (Decimal("19.00"), "AUTHORISED")
	assert [(a.amount, a.invoice.invoice_id) for a in prepayment.allocations] == [
		(Decimal("46.00"), first.invoice_id),
		(Decimal("50.00"), second.invoice_id),
	]
	paid = get_invoice(xero, tenant_id, first.invoice_id)
	assert (paid.status, paid.amount_due, paid.amount_credited, paid.amount_paid) == (
		"PAID",
		Decimal("0.00"),
		Decimal("46.00"),
		Decimal("0.00"),
	)
	assert [(p.prepayment_id, p.applied_amount) for p in paid.prepayments] == [
		(prepayment_id, Decimal("46.00"))
	]
	part = get_invoice(xero, tenant_id, second.invoice_id)
	assert (part.status, part.amount_due) == ("AUTHORISED", Decimal("65.00"))

	allocate(xero, tenant_id, prepayment_id, allocation(second.invoice_id, "19.00"))
	assert get_prepayment(xero, tenant_id, prepayment_id).status == "PAID"
	assert emulator.org(tenant_id).prepayments[prepayment_id]["RemainingCredit"] == Decimal("0.00")


def test_allocations_stay_within_the_credit_the_amount_due_the_contact_and_the_side(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	other_id = new_contact(xero, tenant_id, "Other Ltd").contact_id
	prepayment_id = prepayment_of(xero, tenant_id, contact_id, amount="20.00")  # 23.00
	big = create_invoice(xero, tenant_id, sales_invoice(contact_id))  # 115.00
	small = create_invoice(xero, tenant_id, sales_invoice(contact_id, amount="10.00"))  # 11.50
	others = create_invoice(xero, tenant_id, sales_invoice(other_id))
	draft = create_invoice(xero, tenant_id, sales_invoice(contact_id, status="DRAFT"))
	purchase = create_invoice(xero, tenant_id, bill(contact_id))
	cases = [
		(
			allocation(big.invoice_id, "23.01"),
			"The amount allocated exceeds the remaining credit on the prepayment",
		),
		(
			allocation(small.invoice_id, "12.00"),
			"Payment amount exceeds the amount outstanding on this document",
		),
		(
			allocation(others.invoice_id, "1.00"),
			"The prepayment and the invoice must belong to the same contact",
		),
		(allocation(draft.invoice_id, "1.00"), "Allocations can only be made between Authorised documents"),
		(
			allocation(purchase.invoice_id, "1.00"),
			"A RECEIVE-PREPAYMENT prepayment can only be allocated to an ACCREC",
		),
		(allocation(big.invoice_id, "0"), "Allocation amount must be greater than zero"),
	]
	answer = allocate(xero, tenant_id, prepayment_id, *(a for a, _ in cases), summarize_errors=False)
	assert [a.validation_errors[0].message for a in answer] == [message for _, message in cases]
	assert get_prepayment(xero, tenant_id, prepayment_id).remaining_credit == Decimal("23.00")
	with pytest.raises(AccountingBadRequestException) as summarised:
		allocate(xero, tenant_id, prepayment_id, allocation(big.invoice_id, "30.00"))
	assert validation_messages(summarised.value) == [
		"The amount allocated exceeds the remaining credit on the prepayment"
	]


def test_a_supplier_overpayment_is_allocated_to_bills(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	overpayment_id = prepayment_of(xero, tenant_id, contact_id, "SPEND-OVERPAYMENT", "30.00", "400")
	purchase = create_invoice(xero, tenant_id, bill(contact_id))
	sale = create_invoice(xero, tenant_id, sales_invoice(contact_id))
	to_sale, to_bill = allocation(sale.invoice_id, "1.00"), allocation(purchase.invoice_id, "30.00")
	answer = allocate(
		xero, tenant_id, overpayment_id, to_sale, to_bill, overpayment=True, summarize_errors=False
	)
	assert [a.status_attribute_string for a in answer] == ["ERROR", "OK"]
	assert answer[0].validation_errors[0].message == (
		"A SPEND-OVERPAYMENT overpayment can only be allocated to an ACCPAY"
	)
	overpayment = xero.accounting.get_overpayment(tenant_id, overpayment_id).overpayments[0]
	assert (overpayment.remaining_credit, overpayment.status) == (Decimal("0.00"), "PAID")
	after = get_invoice(xero, tenant_id, purchase.invoice_id)
	assert (after.amount_due, after.amount_credited) == (Decimal("85.00"), Decimal("30.00"))
	assert [(o.overpayment_id, o.applied_amount) for o in after.overpayments] == [
		(overpayment_id, Decimal("30.00"))
	]


def test_deleting_an_allocation_restores_the_credit_and_the_amount_due(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	prepayment_id = prepayment_of(xero, tenant_id, contact_id)
	overpayment_id = prepayment_of(xero, tenant_id, contact_id, "RECEIVE-OVERPAYMENT", "15.00")
	invoice = create_invoice(xero, tenant_id, sales_invoice(contact_id))  # 115.00
	(by_prepayment,) = allocate(xero, tenant_id, prepayment_id, allocation(invoice.invoice_id, "100.00"))
	(by_overpayment,) = allocate(
		xero, tenant_id, overpayment_id, allocation(invoice.invoice_id, "15.00"), overpayment=True
	)
	assert get_invoice(xero, tenant_id, invoice.invoice_id).status == "PAID"

	removed = xero.accounting.delete_overpayment_allocations(
		tenant_id, overpayment_id, by_overpayment.allocation_id
	)
	assert (removed.allocation_id, removed.is_deleted, removed.amount) == (
		by_overpayment.allocation_id,
		True,
		Decimal("15.00"),
	)
	xero.accounting.delete_prepayment_allocations(tenant_id, prepayment_id, by_prepayment.allocation_id)
	reopened = get_invoice(xero, tenant_id, invoice.invoice_id)
	assert (reopened.status, reopened.amount_due, reopened.amount_credited) == (
		"AUTHORISED",
		Decimal("115.00"),
		Decimal("0.00"),
	)
	assert (reopened.prepayments, reopened.overpayments) == ([], [])
	prepayment = get_prepayment(xero, tenant_id, prepayment_id)
	assert (prepayment.remaining_credit, prepayment.status, prepayment.allocations) == (
		Decimal("115.00"),
		"AUTHORISED",
		[],
	)
	with pytest.raises(AccountingBadRequestException) as again:
		xero.accounting.delete_prepayment_allocations(tenant_id, prepayment_id, by_prepayment.allocation_id)
	assert again.value.error_data["Message"] == "This allocation has already been deleted"


def test_an_allocation_is_deleted_only_through_its_own_prepayment(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	prepayment_id = prepayment_of(xero, tenant_id, contact_id)
	other_id = prepayment_of(xero, tenant_id, contact_id)
	invoice = create_invoice(xero, tenant_id, sales_invoice(contact_id))
	(made,) = allocate(xero, tenant_id, prepayment_id, allocation(invoice.invoice_id, "10.00"))
	with pytest.raises(NotFoundException):
		xero.accounting.delete_prepayment_allocations(tenant_id, other_id, made.allocation_id)


def refund(xero, tenant_id, amount, **credit) -> Payment:
	payment = Payment(account=Account(code="090"), amount=Decimal(amount), date=date(2024, 3, 20), **credit)
	return xero.accounting.create_payment(tenant_id, payment).payments[0]


def test_a_refund_is_a_payment_against_the_prepayment_or_overpayment(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	prepayment_id = prepayment_of(xero, tenant_id, contact_id)  # 115.00
	overpayment_id = prepayment_of(xero, tenant_id, contact_id, "SPEND-OVERPAYMENT", "30.00", "400")
	paid_back = refund(xero, tenant_id, "15.00", prepayment=Prepayment(prepayment_id=prepayment_id))
	assert (paid_back.payment_type, paid_back.prepayment.prepayment_id) == (
		"ARPREPAYMENTPAYMENT",
		prepayment_id,
	)
	prepayment = get_prepayment(xero, tenant_id, prepayment_id)
	assert prepayment.remaining_credit == Decimal("100.00")
	assert [(p.payment_id, p.amount) for p in prepayment.payments] == [
		(paid_back.payment_id, Decimal("15.00"))
	]

	refunded = refund(xero, tenant_id, "30.00", overpayment=Overpayment(overpayment_id=overpayment_id))
	assert refunded.payment_type == "APOVERPAYMENTPAYMENT"
	assert xero.accounting.get_overpayment(tenant_id, overpayment_id).overpayments[0].status == "PAID"

	with pytest.raises(AccountingBadRequestException) as too_much:
		refund(xero, tenant_id, "100.01", prepayment=Prepayment(prepayment_id=prepayment_id))
	assert validation_messages(too_much.value) == [
		"Payment amount exceeds the amount outstanding on this document"
	]

	xero.accounting.delete_payment(tenant_id, refunded.payment_id, PaymentDelete(status="DELETED"))
	restored = xero.accounting.get_overpayment(tenant_id, overpayment_id).overpayments[0]
	assert (restored.remaining_credit, restored.status, restored.payments) == (
		Decimal("30.00"),
		"AUTHORISED",
		[],
	)


def test_lists_are_paged_filtered_and_incremental_and_allocations_touch_them(xero, emulator, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	ids = [prepayment_of(xero, tenant_id, contact_id, amount=f"{n}0.00") for n in (1, 2, 3)]
	overpayment_id = prepayment_of(xero, tenant_id, contact_id, "RECEIVE-OVERPAYMENT")
	page = xero.accounting.get_prepayments(tenant_id, page=1, page_size=2, order="Total DESC")
	assert [p.prepayment_id for p in page.prepayments] == [ids[2], ids[1]]
	assert (page.pagination.item_count, bool(page.prepayments[0].line_items)) == (3, True)
	unpaged = xero.accounting.get_prepayments(tenant_id, where='Status=="AUTHORISED"')
	assert len(unpaged.prepayments) == 3 and all(p.line_items for p in unpaged.prepayments)
	numbered = xero.accounting.get_prepayments(
		tenant_id, invoice_numbers=[unpaged.prepayments[1].invoice_number]
	)
	assert [p.prepayment_id for p in numbered.prepayments] == [unpaged.prepayments[1].prepayment_id]
	assert [o.overpayment_id for o in xero.accounting.get_overpayments(tenant_id).overpayments] == [
		overpayment_id
	]

	invoice = create_invoice(xero, tenant_id, sales_invoice(contact_id))
	emulator.clock.advance(10)
	since = emulator.clock.utcnow().replace(tzinfo=None)
	emulator.clock.advance(10)
	allocate(xero, tenant_id, ids[0], allocation(invoice.invoice_id, "5.00"))
	changed = xero.accounting.get_prepayments(tenant_id, if_modified_since=since)
	assert [p.prepayment_id for p in changed.prepayments] == [ids[0]]
	assert xero.accounting.get_overpayments(tenant_id, if_modified_since=since).overpayments == []


def test_xero_sends_webhooks_for_the_invoice_an_allocation_changes_only(xero, emulator, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	prepayment_id = prepayment_of(xero, tenant_id, contact_id)
	invoice = create_invoice(xero, tenant_id, sales_invoice(contact_id))
	before = len(emulator.pending_events(tenant_id))
	allocate(xero, tenant_id, prepayment_id, allocation(invoice.invoice_id, "5.00"))
	assert [(e["eventCategory"], e["resourceId"]) for e in emulator.pending_events(tenant_id)[before:]] == [
		("INVOICE", invoice.invoice_id)
	]


def test_an_allocation_the_spec_refuses_fails(emulator, xero, tenant_id):
	"""Amount, Invoice and Date are required by the spec's Allocation schema."""
	contact_id = new_contact(xero, tenant_id).contact_id
	prepayment_id = prepayment_of(xero, tenant_id, contact_id)
	invoice = create_invoice(xero, tenant_id, sales_invoice(contact_id))
	body = {"Allocations": [{"Invoice": {"InvoiceID": invoice.invoice_id}, "Amount": 5}]}
	answer = raw(emulator, xero, tenant_id, "PUT", f"/Prepayments/{prepayment_id}/Allocations", json=body)
	assert answer.status_code == 400
	assert "'Date' is a required property" in emulator.violations[0].message
	assert get_prepayment(xero, tenant_id, prepayment_id).allocations == []
	emulator.violations.clear()
