"""Bank transactions (spend and receive money, prepayments, overpayments), driven through the real
xero-python SDK over HTTP."""

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
	Account,
	AccountType,
	BankTransaction,
	BankTransactions,
	Contact,
	Contacts,
	CurrencyCode,
	LineAmountTypes,
	LineItem,
)
from xero_python.exceptions import AccountingBadRequestException, HTTPStatusException

from .identity import DEFAULT_SCOPES
from .pytest_plugin import connect
from .test_api import raw
from .test_rules import new_contact, validation_messages

# The app's scopes before it sent advances: everything but bank transactions.
WITHOUT_BANK_SCOPES = " ".join(s for s in DEFAULT_SCOPES.split() if s != "accounting.banktransactions")


def line(amount="100.00", account_code="200", **fields) -> LineItem:
	return LineItem(
		description="Deposit",
		quantity=Decimal("1"),
		unit_amount=Decimal(amount),
		account_code=account_code,
		**fields,
	)


def bank_transaction(contact_id, type_="RECEIVE", lines=None, bank="090", **fields) -> BankTransaction:
	return BankTransaction(
		type=type_,
		contact=Contact(contact_id=contact_id),
		bank_account=Account(code=bank),
		date=date(2024, 3, 1),
		line_items=lines or [line()],
		**fields,
	)


def create(xero, tenant_id, *transactions: BankTransaction, **options) -> list[BankTransaction]:
	body = BankTransactions(bank_transactions=list(transactions))
	return xero.accounting.create_bank_transactions(tenant_id, body, **options).bank_transactions


def refused(xero, tenant_id, transaction: BankTransaction) -> list[str]:
	with pytest.raises(AccountingBadRequestException) as error:
		create(xero, tenant_id, transaction)
	return validation_messages(error.value)


def update(xero, tenant_id, transaction: BankTransaction, **changes) -> BankTransaction:
	"""POST the transaction with changes; xero-python (and the spec) want its Type, LineItems and BankAccount."""
	fields = {"type": transaction.type, "line_items": transaction.line_items, **changes}
	edited = BankTransaction(
		bank_transaction_id=transaction.bank_transaction_id,
		bank_account=Account(code=transaction.bank_account.code),
		**fields,
	)
	body = BankTransactions(bank_transactions=[edited])
	return xero.accounting.update_bank_transaction(
		tenant_id, transaction.bank_transaction_id, body
	).bank_transactions[0]


def test_receive_money_is_totalled_like_an_invoice(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	lines = [line("2.22"), line("2.22"), line("10.00", "260", tax_type="NONE")]
	(created,) = create(xero, tenant_id, bank_transaction(contact_id, lines=lines, reference="Deposit 7"))
	assert (created.status, created.is_reconciled, created.reference) == ("AUTHORISED", False, "Deposit 7")
	assert [item.tax_amount for item in created.line_items] == [
		Decimal("0.33"),
		Decimal("0.33"),
		Decimal("0"),
	]
	assert (created.sub_total, created.total_tax, created.total) == (
		Decimal("14.44"),
		Decimal("0.66"),
		Decimal("15.10"),
	)
	assert (created.bank_account.code, created.bank_account.name) == ("090", "Business Bank Account")
	assert (created.prepayment_id, created.overpayment_id) == (None, None)
	fetched = xero.accounting.get_bank_transaction(tenant_id, created.bank_transaction_id).bank_transactions[
		0
	]
	assert (fetched.contact.contact_id, fetched.total) == (contact_id, Decimal("15.10"))


def test_inclusive_spend_money_by_bank_account_id(xero, emulator, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	savings = next(a for a in emulator.org(tenant_id).accounts.values() if a["Code"] == "091")
	spend = bank_transaction(
		contact_id, "SPEND", [line("11.50", "400")], line_amount_types=LineAmountTypes.INCLUSIVE
	)
	spend.bank_account = Account(account_id=savings["AccountID"])
	(created,) = create(xero, tenant_id, spend)
	assert (created.bank_account.code, created.sub_total, created.total_tax, created.total) == (
		"091",
		Decimal("10.00"),
		Decimal("1.50"),
		Decimal("11.50"),
	)


def test_the_bank_account_must_be_a_bank_account(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	assert refused(xero, tenant_id, bank_transaction(contact_id, bank="200")) == [
		"Account code '200' is not a bank account."
	]
	assert refused(xero, tenant_id, bank_transaction(contact_id, bank="999")) == [
		"The bank account could not be found."
	]


def test_a_contact_is_required_and_must_be_active(xero, emulator, tenant_id):
	no_contact = bank_transaction(None)
	no_contact.contact = None
	assert refused(xero, tenant_id, no_contact) == [
		"A Contact must be specified for this type of transaction"
	]
	archived = new_contact(xero, tenant_id, "Gone Ltd")
	xero.accounting.update_contact(
		tenant_id,
		archived.contact_id,
		Contacts(contacts=[Contact(contact_id=archived.contact_id, contact_status="ARCHIVED")]),
	)
	assert refused(xero, tenant_id, bank_transaction(archived.contact_id)) == [
		"Unable to assign an Archived contact."
	]
	assert not emulator.org(tenant_id).bank_transactions


def test_transfers_are_read_only(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	assert refused(xero, tenant_id, bank_transaction(contact_id, "RECEIVE-TRANSFER")) == [
		"Bank transfers cannot be created through BankTransactions; use BankTransfers."
	]


def test_lines_and_a_total_are_checked_like_an_invoices(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	assert refused(xero, tenant_id, bank_transaction(contact_id, lines=[line(account_code="610")])) == [
		"Account code '610' is not a valid code for this document."
	]
	assert refused(xero, tenant_id, bank_transaction(contact_id, total=Decimal("99.00"))) == [
		"The document total 99.0 does not equal the sum of the line amounts and tax 115.00."
	]


def test_a_post_without_line_item_ids_replaces_the_lines_and_reconciled_is_settable(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	(created,) = create(xero, tenant_id, bank_transaction(contact_id, is_reconciled=True))
	assert created.is_reconciled is True
	changed = update(
		xero,
		tenant_id,
		created,
		line_items=[line("40.00"), line("60.00")],
		is_reconciled=False,
	)
	assert (len(changed.line_items), changed.total, changed.is_reconciled) == (2, Decimal("115.00"), False)
	assert {item.line_item_id for item in changed.line_items}.isdisjoint({created.line_items[0].line_item_id})


def test_only_spend_and_receive_money_can_be_deleted(xero, emulator, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	receive, prepayment = create(
		xero, tenant_id, bank_transaction(contact_id), bank_transaction(contact_id, "RECEIVE-PREPAYMENT")
	)
	deleted = update(xero, tenant_id, receive, status="DELETED")
	assert deleted.status == "DELETED"
	with pytest.raises(AccountingBadRequestException) as again:
		update(xero, tenant_id, receive, reference="Edited")
	assert validation_messages(again.value) == [
		"This Bank Transaction has been deleted and cannot be edited."
	]
	for change in ({"status": "DELETED"}, {"reference": "Edited"}, {"is_reconciled": True}):
		with pytest.raises(AccountingBadRequestException) as locked:
			update(xero, tenant_id, prepayment, **change)
		assert validation_messages(locked.value) == [
			"A prepayment or overpayment cannot be edited or deleted through BankTransactions."
		]
	assert emulator.org(tenant_id).bank_transactions[prepayment.bank_transaction_id]["Status"] == "AUTHORISED"


def test_a_bank_transaction_is_authorised_or_deleted_and_keeps_its_type(xero, emulator, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	assert refused(xero, tenant_id, bank_transaction(contact_id, status="DELETED")) == [
		"Bank Transaction not of valid status for creation"
	]
	(receive,) = create(xero, tenant_id, bank_transaction(contact_id))
	for change, message in (
		({"status": "VOIDED"}, "Bank Transaction not of valid status for modification"),
		({"type": "SPEND"}, "The Type of a Bank Transaction cannot be changed."),
	):
		with pytest.raises(AccountingBadRequestException) as refused_change:
			update(xero, tenant_id, receive, **change)
		assert validation_messages(refused_change.value) == [message]
	assert emulator.org(tenant_id).bank_transactions[receive.bank_transaction_id]["Type"] == "RECEIVE"


def test_a_bank_transaction_takes_its_bank_accounts_currency_but_an_overpayment_may_differ(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	usd_bank = next(
		a
		for a in xero.accounting.get_accounts(tenant_id).accounts
		if a.type == AccountType.BANK and a.currency_code == CurrencyCode.USD
	)
	assert refused(xero, tenant_id, bank_transaction(contact_id, currency_code=CurrencyCode.USD)) == [
		"The currency USD is not the currency of bank account 090 (NZD)."
	]
	in_usd = bank_transaction(contact_id, "RECEIVE-PREPAYMENT", bank=usd_bank.code)
	foreign_overpayment = bank_transaction(contact_id, "RECEIVE-OVERPAYMENT", currency_code=CurrencyCode.AUD)
	usd, aud = create(xero, tenant_id, in_usd, foreign_overpayment)
	assert (usd.currency_code, aud.currency_code) == (CurrencyCode.USD, CurrencyCode.AUD)
	assert usd.currency_rate not in (None, Decimal("1"))
	prepayment = xero.accounting.get_prepayment(tenant_id, usd.prepayment_id).prepayments[0]
	assert (prepayment.currency_code, prepayment.currency_rate) == (CurrencyCode.USD, usd.currency_rate)


def test_receive_prepayment_creates_a_prepayment_with_the_same_lines(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	(created,) = create(
		xero, tenant_id, bank_transaction(contact_id, "RECEIVE-PREPAYMENT", reference="Deposit")
	)
	assert created.prepayment_id and created.overpayment_id is None
	prepayment = xero.accounting.get_prepayment(tenant_id, created.prepayment_id).prepayments[0]
	assert (prepayment.type, prepayment.status, prepayment.contact.contact_id) == (
		"RECEIVE-PREPAYMENT",
		"AUTHORISED",
		contact_id,
	)
	assert (prepayment.sub_total, prepayment.total_tax, prepayment.total, prepayment.remaining_credit) == (
		Decimal("100.00"),
		Decimal("15.00"),
		Decimal("115.00"),
		Decimal("115.00"),
	)
	assert [(i.account_code, i.tax_type, i.line_amount) for i in prepayment.line_items] == [
		("200", "OUTPUT2", Decimal("100.00"))
	]
	# A receive prepayment is numbered as Xero numbers invoices; its Reference returns that number.
	assert prepayment.invoice_number.startswith("INV-") and prepayment.reference == prepayment.invoice_number
	assert (prepayment.allocations, prepayment.payments) == ([], [])


def test_spend_prepayment_keeps_its_reference(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	spend = bank_transaction(
		contact_id, "SPEND-PREPAYMENT", [line("50.00", "400")], reference="PO 12 deposit"
	)
	(created,) = create(xero, tenant_id, spend)
	prepayment = xero.accounting.get_prepayment(tenant_id, created.prepayment_id).prepayments[0]
	assert (prepayment.type, prepayment.reference, prepayment.invoice_number) == (
		"SPEND-PREPAYMENT",
		"PO 12 deposit",
		None,
	)


def test_an_overpayment_has_one_line_coded_to_receivables_or_payables_without_tax(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	assert refused(
		xero, tenant_id, bank_transaction(contact_id, "RECEIVE-OVERPAYMENT", [line(), line()])
	) == ["An overpayment must have exactly one line item."]
	receive, spend = create(
		xero,
		tenant_id,
		bank_transaction(contact_id, "RECEIVE-OVERPAYMENT", [line("40.00")], reference="Paid twice"),
		bank_transaction(contact_id, "SPEND-OVERPAYMENT", [line("25.00", "400")]),
	)
	for created, type_, code in (
		(receive, "RECEIVE-OVERPAYMENT", "610"),
		(spend, "SPEND-OVERPAYMENT", "800"),
	):
		assert created.overpayment_id and created.prepayment_id is None
		overpayment = xero.accounting.get_overpayment(tenant_id, created.overpayment_id).overpayments[0]
		assert (overpayment.type, overpayment.line_amount_types, overpayment.total_tax) == (
			type_,
			LineAmountTypes.NOTAX,
			Decimal("0.00"),
		)
		assert [(i.account_code, i.tax_type) for i in overpayment.line_items] == [(code, "NONE")]
		assert overpayment.remaining_credit == overpayment.total == created.total
	assert xero.accounting.get_overpayment(tenant_id, receive.overpayment_id).overpayments[0].reference == (
		"Paid twice"
	)


def test_item_codes_only_on_spend_and_receive_money(xero, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	assert refused(
		xero, tenant_id, bank_transaction(contact_id, "RECEIVE-PREPAYMENT", [line(item_code="ANY")])
	) == ["ItemCode can only be used on SPEND and RECEIVE bank transactions."]


def test_batches_answer_per_element_without_summarised_errors(xero, emulator, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	batch = [
		bank_transaction(contact_id),
		bank_transaction(contact_id, bank="200"),
		bank_transaction(contact_id),
	]
	answer = create(xero, tenant_id, *batch, summarize_errors=False)
	assert [t.status_attribute_string for t in answer] == ["OK", "ERROR", "OK"]
	assert answer[1].validation_errors[0].message == "Account code '200' is not a bank account."
	assert len(emulator.org(tenant_id).bank_transactions) == 2


def test_lists_are_paged_filtered_ordered_and_incremental(xero, emulator, tenant_id):
	contact_id = new_contact(xero, tenant_id).contact_id
	made = create(
		xero,
		tenant_id,
		*(bank_transaction(contact_id, lines=[line(f"{n}0.00")], reference=f"R{n}") for n in range(1, 4)),
		bank_transaction(contact_id, "SPEND", [line("5.00", "400")]),
	)
	page = xero.accounting.get_bank_transactions(tenant_id, page=1, page_size=2, order="Total DESC")
	assert [t.reference for t in page.bank_transactions] == ["R3", "R2"]
	assert (page.pagination.page_count, page.pagination.item_count) == (2, 4)
	assert page.bank_transactions[0].line_items
	spent = xero.accounting.get_bank_transactions(tenant_id, where='Type=="SPEND"')
	assert [t.bank_transaction_id for t in spent.bank_transactions] == [made[3].bank_transaction_id]

	emulator.clock.advance(10)
	since = emulator.clock.utcnow().replace(tzinfo=None)
	emulator.clock.advance(10)
	update(xero, tenant_id, made[0], is_reconciled=True)
	changed = xero.accounting.get_bank_transactions(tenant_id, if_modified_since=since)
	assert [t.bank_transaction_id for t in changed.bank_transactions] == [made[0].bank_transaction_id]


def test_bank_transactions_need_their_scope_and_send_no_webhooks(emulator, tenant_id):
	without_bank, _ = connect(emulator, tenant_id, WITHOUT_BANK_SCOPES)
	with pytest.raises(HTTPStatusException) as denied:
		without_bank.accounting.get_bank_transactions(tenant_id)
	assert denied.value.status == 401
	legacy, _ = connect(emulator, tenant_id, "accounting.transactions accounting.contacts")
	contact_id = new_contact(legacy, tenant_id).contact_id
	before = len(emulator.pending_events(tenant_id))
	create(
		legacy, tenant_id, bank_transaction(contact_id), bank_transaction(contact_id, "RECEIVE-PREPAYMENT")
	)
	assert len(emulator.pending_events(tenant_id)) == before


def test_a_request_the_spec_refuses_fails(emulator, xero, tenant_id):
	"""BankAccount and LineItems are required by the spec's BankTransaction schema."""
	contact_id = new_contact(xero, tenant_id).contact_id
	body = {"BankTransactions": [{"Type": "RECEIVE", "Contact": {"ContactID": contact_id}}]}
	answer = raw(emulator, xero, tenant_id, "PUT", "/BankTransactions", json=body)
	assert answer.status_code == 400
	assert "'BankAccount' is a required property" in emulator.violations[0].message
	assert not emulator.org(tenant_id).bank_transactions
	emulator.violations.clear()
