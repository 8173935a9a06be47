from decimal import Decimal

import pytest

from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.credit_note import (
	allocation_payload,
	credit_note_to_erpnext,
	map_credit_note,
)
from xero_integration.core.mapping.invoice import map_invoice
from xero_integration.core.mapping.test_invoice import (
	CTX,
	REVERSE_ACCOUNTS,
	REVERSE_TAX,
	TAX_RATES,
	sales_invoice,
)
from xero_integration.core.money import xero_totals

D = Decimal


def as_return(doc):
	"""ERPNext's make_return_doc: quantities and totals negated, pointing at the original."""
	returned = doc | {"name": "SINV-RET-1", "is_return": 1, "return_against": doc["name"]}
	returned["items"] = [
		item | {"qty": -item["qty"], "amount": -item["amount"], "net_amount": -item["net_amount"]}
		for item in doc["items"]
	]
	returned["grand_total"] = -doc["grand_total"]
	returned["rounded_total"] = -doc["rounded_total"]
	return returned


def test_return_becomes_a_positive_credit_note_mirroring_the_invoice():
	invoice = sales_invoice([(D(1), D("0.10"), D(0))] * 3, "GST 15")
	credit = map_credit_note(as_return(invoice), CTX, contact_id="c", tax_rates=TAX_RATES)
	original = map_invoice(invoice, CTX, contact_id="c", tax_rates=TAX_RATES)
	payload = credit.payload
	assert (payload["Type"], payload["CreditNoteNumber"], payload["Reference"]) == (
		"ACCRECCREDIT",
		"SINV-RET-1",
		"SINV-0001",
	)
	assert payload["LineItems"] == original.payload["LineItems"]
	assert all(line["Quantity"] > 0 for line in payload["LineItems"][:3])
	assert credit.xero_totals.total == D("0.35") == -D(str(as_return(invoice)["grand_total"]))


def test_purchase_return_is_an_accpaycredit():
	bill = sales_invoice([(D(2), D(10), D(0))], "GST 15") | {"doctype": "Purchase Invoice", "name": "PINV-1"}
	for item in bill["items"]:
		item["expense_account"] = "Cost - TC"
	payload = map_credit_note(
		as_return(bill), CTX, contact_id="c", tax_rates=TAX_RATES, credit_note_id="cn-1"
	).payload
	assert (payload["Type"], payload["CreditNoteID"]) == ("ACCPAYCREDIT", "cn-1")
	assert xero_totals(payload["LineItems"], payload["LineAmountTypes"], TAX_RATES).total == D("23.00")


def test_invoice_and_credit_note_refuse_each_other():
	invoice = sales_invoice([(D(1), D(10), D(0))], "GST 15")
	with pytest.raises(MappingError, match="not a return"):
		map_credit_note(invoice, CTX, contact_id="c", tax_rates=TAX_RATES)
	with pytest.raises(MappingError, match="becomes a Xero credit note"):
		map_invoice(as_return(invoice), CTX, contact_id="c", tax_rates=TAX_RATES)


def test_allocation_payload_is_positive():
	assert allocation_payload(-57.5, "inv-1", "2024-05-02") == {
		"Allocations": [{"Invoice": {"InvoiceID": "inv-1"}, "Amount": D("57.50"), "Date": "2024-05-02"}]
	}


def test_credit_note_to_erpnext_is_a_return_with_negative_quantities():
	credit_note = {
		"Type": "ACCRECCREDIT",
		"CreditNoteID": "cn-1",
		"CreditNoteNumber": "CN-1",
		"Status": "AUTHORISED",
		"Date": "2024-05-02",
		"LineAmountTypes": "Exclusive",
		"Total": D("0.36"),
		"Contact": {"ContactID": "c1"},
		"LineItems": [
			{
				"Description": "x",
				"Quantity": 1,
				"UnitAmount": D("0.10"),
				"AccountCode": "200",
				"TaxType": "OUTPUT2",
				"LineAmount": D("0.10"),
				"TaxAmount": D("0.02"),
			}
		]
		* 3,
		"Allocations": [{"Invoice": {"InvoiceID": "inv-1"}, "Amount": D("0.36")}],
	}
	pulled = credit_note_to_erpnext(
		credit_note, CTX, reverse_accounts=REVERSE_ACCOUNTS, reverse_tax=REVERSE_TAX
	)
	assert pulled.values["is_return"] == 1 and pulled.allocated_invoice_ids == ["inv-1"]
	assert [item["qty"] for item in pulled.values["items"]] == [D(-1)] * 3
	# ERPNext: -0.30 net, tax -0.045 rounds to -0.05 -> -0.35; Xero says 0.36, so one cent more credit.
	assert pulled.rounding == D("-0.01")
