import json
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xero_integration.core.mapping.context import MappingContext, MappingError
from xero_integration.core.mapping.invoice import invoice_to_erpnext, map_invoice, rounding_row
from xero_integration.core.money import CENT, ZERO, erpnext_rounded_total, line_amount, line_tax, xero_totals

D = Decimal
TEMPLATES = {
	"Zero": ("ZERORATED", D(0)),
	"VAT 9": ("REDUCED", D(9)),
	"VAT 12.5": ("MID", D("12.5")),
	"GST 15": ("OUTPUT2", D(15)),
	"VAT 20": ("OUTPUT", D(20)),
}
TAX_RATES = {tax_type: rate for tax_type, rate in TEMPLATES.values()}
CTX = MappingContext(
	base_currency="NZD",
	enabled_currencies=frozenset({"NZD", "USD"}),
	account_codes={
		"Sales - TC": "200",
		"Cost - TC": "310",
		"Tax - TC": "820",
		"Freight - TC": "425",
		"Round Off - TC": "860",
	},
	tax_types={template: tax_type for template, (tax_type, _) in TEMPLATES.items()} | {"Tax - TC": "OUTPUT2"},
	item_codes={"WIDGET": "W-1"},
	tracking={"Main - TC": ("Region", "North")},
	rounding_account_code="860",
)
REVERSE_ACCOUNTS = {code: account for account, code in CTX.account_codes.items()}
REVERSE_TAX = {tax_type: ("Tax - TC", rate) for tax_type, rate in TAX_RATES.items()}


def cents(value, rounding):
	return D(value).quantize(CENT, rounding=rounding)


def erpnext_grand_total(net_amounts, item_amounts, tax_rows, *, discount=ZERO, rounding=ROUND_HALF_UP):
	"""Test oracle for ERPNext's taxes_and_totals, written apart from core.money on purpose.

	tax_rows: (rate per item, inclusive, actual amount or None)."""
	grand = sum(net_amounts, D(0))
	non_inclusive = D(0)
	for rates, inclusive, actual in tax_rows:
		tax = (
			actual
			if actual is not None
			else cents(sum(r / 100 * n for r, n in zip(rates, net_amounts, strict=True)), rounding)
		)
		grand += tax
		non_inclusive += D(0) if inclusive else tax
	if any(inclusive for _, inclusive, _ in tax_rows):
		diff = sum(item_amounts, D(0)) + non_inclusive - discount - grand
		if diff and abs(diff) <= D("0.05"):
			grand += diff
	return grand


def sales_invoice(
	lines, template, *, inclusive=False, discount=ZERO, rounded=False, rounding=ROUND_HALF_UP, **extra
):
	"""An ERPNext Sales Invoice as doc.as_dict() gives it, totals computed the way ERPNext does.

	lines: (qty, price_list_rate, discount_percentage)."""
	rate_percent = TEMPLATES[template][1] if template else D(0)
	items, amounts, nets = [], [], []
	for idx, (qty, price, item_discount) in enumerate(lines, start=1):
		rate = cents(price * (1 - item_discount / 100), rounding)
		amount = cents(rate * qty, rounding)
		net = cents(amount / (1 + rate_percent / 100), rounding) if inclusive else amount
		items.append(
			{
				"idx": idx,
				"item_code": "WIDGET" if idx == 1 else f"ITEM-{idx}",
				"description": f"<p>Item {idx}</p>",
				"qty": float(qty),
				"rate": float(rate),
				"amount": float(amount),
				"income_account": "Sales - TC",
				"cost_center": "Main - TC",
			}
		)
		amounts.append(amount)
		nets.append(net)
	if discount:  # ERPNext's apply_discount_amount on Net Total
		total, expected, running = sum(nets, D(0)), D(0), D(0)
		for i, net in enumerate(nets):
			share = discount * net / total
			expected += net - share
			nets[i] = cents(net - share, rounding)
			running += nets[i]
			if difference := cents(expected - running, rounding):
				nets[i] += difference
				running += difference
	for item, net in zip(items, nets, strict=True):
		item["net_amount"] = float(net)
		item["net_rate"] = float(cents(net / D(item["qty"]), rounding))
	taxes = []
	tax_rows = []
	if template:
		taxes.append(
			{
				"idx": 1,
				"charge_type": "On Net Total",
				"account_head": "Tax - TC",
				"rate": float(rate_percent),
				"included_in_print_rate": int(inclusive),
			}
		)
		tax_rows.append(([rate_percent] * len(nets), inclusive, None))
	grand = erpnext_grand_total(nets, amounts, tax_rows, discount=discount, rounding=rounding)
	doc = {
		"doctype": "Sales Invoice",
		"name": "SINV-0001",
		"posting_date": "2024-05-01",
		"due_date": "2024-05-31",
		"currency": "NZD",
		"conversion_rate": 1.0,
		"taxes_and_charges": template,
		"items": items,
		"taxes": taxes,
		"discount_amount": float(discount),
		"grand_total": float(grand),
		"rounded_total": float(erpnext_rounded_total(grand)) if rounded else 0.0,
		"disable_rounded_total": int(not rounded),
	}
	return doc | extra


def target(doc):
	return D(str(doc["rounded_total"] or doc["grand_total"])).quantize(CENT)


def test_invoice_payload_maps_header_lines_and_tracking():
	doc = sales_invoice([(D(3), D("10.33"), D(0)), (D(1), D(20), D(0))], "GST 15", po_no="PO-7")
	payload = map_invoice(doc, CTX, contact_id="contact-1", tax_rates=TAX_RATES).payload
	assert {k: v for k, v in payload.items() if k != "LineItems"} == {
		"Type": "ACCREC",
		"Contact": {"ContactID": "contact-1"},
		"Status": "AUTHORISED",
		"InvoiceNumber": "SINV-0001",
		"Reference": "PO-7",
		"Date": "2024-05-01",
		"DueDate": "2024-05-31",
		"LineAmountTypes": "Exclusive",
		"CurrencyCode": "NZD",
	}
	assert payload["LineItems"][0] == {
		"Description": "Item 1",
		"Quantity": D(3),
		"UnitAmount": D("10.3300"),
		"AccountCode": "200",
		"TaxType": "OUTPUT2",
		"ItemCode": "W-1",
		"Tracking": [{"Name": "Region", "Option": "North"}],
	}
	assert "ItemCode" not in payload["LineItems"][1]


def test_rounding_line_appears_exactly_when_xero_per_line_rounding_differs():
	# Three lines of 0.10 at 15%: Xero taxes 0.02 each (0.36 total), ERPNext 0.045 -> 0.05 once (0.35).
	doc = sales_invoice([(D(1), D("0.10"), D(0))] * 3, "GST 15")
	mapped = map_invoice(doc, CTX, contact_id="c", tax_rates=TAX_RATES)
	assert D(str(doc["grand_total"])) == D("0.35")
	assert mapped.rounding_difference == D("-0.01")
	assert mapped.rounding_lines == [
		{
			"Description": "Rounding adjustment",
			"Quantity": D(1),
			"UnitAmount": D("-0.01"),
			"AccountCode": "860",
			"TaxType": "NONE",
		}
	]
	assert mapped.xero_totals.total == D("0.35")

	clean = map_invoice(
		sales_invoice([(D(2), D(10), D(0))], "GST 15"), CTX, contact_id="c", tax_rates=TAX_RATES
	)
	assert clean.rounding_lines == [] and len(clean.payload["LineItems"]) == 1


def test_rounded_total_is_reached_with_a_rounding_line():
	doc = sales_invoice([(D(1), D("10.33"), D(0))], "GST 15", rounded=True)
	mapped = map_invoice(doc, CTX, contact_id="c", tax_rates=TAX_RATES)
	assert mapped.xero_totals.total == D("12.00") == target(doc)
	assert mapped.rounding_difference == D("0.12")  # 10.33 + 1.55 = 11.88


def test_missing_rounding_account_is_an_error():
	doc = sales_invoice([(D(1), D("0.10"), D(0))] * 3, "GST 15")
	ctx = MappingContext(**{**CTX.__dict__, "rounding_account_code": None})
	with pytest.raises(MappingError, match="no rounding account"):
		map_invoice(doc, ctx, contact_id="c", tax_rates=TAX_RATES)


def test_foreign_currency_sends_xeros_rate_and_base_currency_sends_none():
	doc = sales_invoice([(D(1), D(100), D(0))], "GST 15", currency="USD", conversion_rate=1.6)
	assert map_invoice(doc, CTX, contact_id="c", tax_rates=TAX_RATES).payload["CurrencyRate"] == D("0.625000")
	base = sales_invoice([(D(1), D(100), D(0))], "GST 15")
	assert "CurrencyRate" not in map_invoice(base, CTX, contact_id="c", tax_rates=TAX_RATES).payload
	with pytest.raises(MappingError, match="exchange rate 1"):
		map_invoice(base | {"currency": "USD"}, CTX, contact_id="c", tax_rates=TAX_RATES).payload


def test_missing_mappings_are_reported_together_by_name():
	doc = sales_invoice(
		[(D(1), D(100), D(0)), (D(1), D(5), D(0))], None, currency="JPY", conversion_rate=0.011
	)
	doc["items"][0]["income_account"] = "Consulting - TC"
	doc["items"][1]["item_tax_template"] = "Luxury 30"
	doc["taxes"] = [{"idx": 1, "charge_type": "On Net Total", "account_head": "Levy - TC", "rate": 2}]
	with pytest.raises(MappingError) as error:
		map_invoice(doc, CTX, contact_id="c", tax_rates=TAX_RATES)
	problems = "\n".join(error.value.problems)
	assert "Currency JPY is not enabled" in problems
	assert "Account 'Consulting - TC' has no Xero account code" in problems
	assert "Item Tax Template 'Luxury 30' has no Xero tax type" in problems
	assert "Tax account 'Levy - TC' has no Xero tax type" in problems
	assert len(error.value.problems) == 4


def test_tax_rate_mismatch_is_an_error_not_a_rounding_line():
	doc = sales_invoice([(D(1), D(100), D(0))], "GST 15")
	with pytest.raises(MappingError, match=r"taxed at 15% in ERPNext but Xero tax type 'OUTPUT2' is 12\.5%"):
		map_invoice(doc, CTX, contact_id="c", tax_rates=TAX_RATES | {"OUTPUT2": D("12.5")})


def test_actual_charges_become_their_own_lines_and_no_taxes_means_notax():
	doc = sales_invoice([(D(1), D(100), D(0))], None)
	doc["taxes"] = [
		{
			"idx": 1,
			"charge_type": "Actual",
			"account_head": "Freight - TC",
			"description": "Freight",
			"tax_amount": 12.5,
			"tax_amount_after_discount_amount": 12.5,
		}
	]
	doc["grand_total"] = 112.5
	payload = map_invoice(doc, CTX, contact_id="c", tax_rates=TAX_RATES).payload
	assert payload["LineAmountTypes"] == "NoTax"
	assert payload["LineItems"][1] == {
		"Description": "Freight",
		"Quantity": D(1),
		"UnitAmount": D("12.50"),
		"AccountCode": "425",
		"TaxType": "NONE",
	}


def test_purchase_invoice_is_a_bill_numbered_by_supplier_invoice():
	doc = sales_invoice([(D(1), D(100), D(0))], "GST 15") | {
		"doctype": "Purchase Invoice",
		"name": "PINV-1",
		"bill_no": "S-99",
	}
	for item in doc["items"]:
		item["expense_account"] = "Cost - TC"
	payload = map_invoice(doc, CTX, contact_id="c", tax_rates=TAX_RATES).payload
	assert (payload["Type"], payload["InvoiceNumber"], payload["Reference"]) == ("ACCPAY", "S-99", "PINV-1")
	assert payload["LineItems"][0]["AccountCode"] == "310"


line_strategy = st.tuples(
	st.decimals(min_value=D("0.001"), max_value=D(500), places=3),
	st.decimals(min_value=D("0.0001"), max_value=D(5000), places=4),
	st.sampled_from([D(0), D(0), D(5), D("12.5"), D(33)]),
)


@settings(max_examples=300, deadline=None)
@given(
	lines=st.lists(line_strategy, min_size=1, max_size=20),
	template=st.sampled_from([None, *TEMPLATES]),
	inclusive=st.booleans(),
	discount_share=st.sampled_from([D(0), D(0), D("0.1"), D("0.033")]),
	rounded=st.booleans(),
	rounding=st.sampled_from([ROUND_HALF_UP, ROUND_HALF_EVEN]),
)
def test_xero_total_equals_erpnext_total_to_the_cent(
	lines, template, inclusive, discount_share, rounded, rounding
):
	undiscounted = sum((cents(cents(p * (1 - d / 100), rounding) * q, rounding) for q, p, d in lines), D(0))
	discount = cents(undiscounted * discount_share, rounding)
	doc = sales_invoice(
		lines,
		template,
		inclusive=inclusive and bool(template),
		discount=discount,
		rounded=rounded,
		rounding=rounding,
	)
	mapped = map_invoice(doc, CTX, contact_id="c", tax_rates=TAX_RATES)
	totals = xero_totals(
		mapped.payload["LineItems"], mapped.payload["LineAmountTypes"], TAX_RATES | {"NONE": D(0)}
	)
	assert totals.total == target(doc)
	assert bool(mapped.rounding_lines) == (mapped.rounding_difference != 0)
	before_rounding = xero_totals(
		mapped.payload["LineItems"][: len(lines)], mapped.payload["LineAmountTypes"], TAX_RATES
	)
	assert mapped.rounding_difference == target(doc) - before_rounding.total


def xero_invoice(lines, line_amount_types, status="AUTHORISED"):
	"""A Xero invoice as GET /Invoices returns it; lines: (qty, unit_amount, tax_type)."""
	items = []
	for qty, unit, tax_type in lines:
		amount = line_amount(qty, unit)
		items.append(
			{
				"Description": "Thing",
				"Quantity": qty,
				"UnitAmount": unit,
				"AccountCode": "200",
				"TaxType": tax_type,
				"LineAmount": amount,
				"TaxAmount": line_tax(amount, TAX_RATES[tax_type], line_amount_types),
			}
		)
	sub_total, total_tax, total = xero_totals(items, line_amount_types, TAX_RATES)
	return {
		"Type": "ACCREC",
		"InvoiceID": "inv-1",
		"InvoiceNumber": "INV-1",
		"Status": status,
		"Date": "2024-05-01",
		"DueDate": "2024-05-31",
		"CurrencyCode": "NZD",
		"LineAmountTypes": line_amount_types,
		"LineItems": items,
		"SubTotal": sub_total,
		"TotalTax": total_tax,
		"Total": total,
		"Contact": {"ContactID": "c1"},
	}


def with_rounding_row(pulled) -> dict:
	"""The document as ERPNext holds it once its rounding row is booked."""
	rounding = [rounding_row(pulled.rounding_account, pulled.rounding)] if pulled.rounding else []
	return {**pulled.values, "taxes": [*pulled.values["taxes"], *rounding]}


def erpnext_total_of(pulled):
	"""Oracle: ERPNext's grand total of the pulled document, as taxes_and_totals would compute it."""
	result = with_rounding_row(pulled)
	amounts = [cents(D(i["qty"]) * D(i["rate"]), ROUND_HALF_UP) for i in result["items"]]
	item_rates = [
		{h: D(str(r)) for h, r in json.loads(i.get("item_tax_rate") or "{}").items()} for i in result["items"]
	]
	inclusive_fraction = [
		sum(
			(
				r.get(t["account_head"], D(t["rate"])) / 100
				for t in result["taxes"]
				if t["charge_type"] == "On Net Total" and t["included_in_print_rate"]
			),
			D(0),
		)
		for r in item_rates
	]
	nets = [
		cents(a / (1 + f), ROUND_HALF_UP) if f else a
		for a, f in zip(amounts, inclusive_fraction, strict=True)
	]
	rows = [
		(
			[r.get(t["account_head"], D(t.get("rate", 0))) for r in item_rates],
			bool(t.get("included_in_print_rate")),
			D(t["tax_amount"]) if t["charge_type"] == "Actual" else None,
		)
		for t in result["taxes"]
	]
	return erpnext_grand_total(nets, amounts, rows)


def test_invoice_to_erpnext_says_how_much_rounding_to_book():
	invoice = xero_invoice([(D(1), D("0.10"), "OUTPUT2")] * 3, "Exclusive")
	pulled = invoice_to_erpnext(invoice, CTX, reverse_accounts=REVERSE_ACCOUNTS, reverse_tax=REVERSE_TAX)
	assert (pulled.rounding, pulled.rounding_account) == (D("0.01"), "Round Off - TC")
	assert with_rounding_row(pulled)["taxes"][-1] == {
		"charge_type": "Actual",
		"account_head": "Round Off - TC",
		"tax_amount": D("0.01"),
		"description": "Rounding adjustment",
	}
	assert erpnext_total_of(pulled) == D("0.36")
	assert (pulled.values["doctype"], pulled.docstatus, pulled.values["items"][0]["income_account"]) == (
		"Sales Invoice",
		1,
		"Sales - TC",
	)


@pytest.mark.parametrize(
	"status, docstatus", [("DRAFT", 0), ("SUBMITTED", 0), ("PAID", 1), ("VOIDED", 2), ("DELETED", 2)]
)
def test_invoice_to_erpnext_docstatus_intent(status, docstatus):
	invoice = xero_invoice([(D(1), D(10), "OUTPUT2")], "Exclusive", status)
	pulled = invoice_to_erpnext(invoice, CTX, reverse_accounts=REVERSE_ACCOUNTS, reverse_tax=REVERSE_TAX)
	assert pulled.docstatus == docstatus


def test_invoice_to_erpnext_foreign_rate_and_unmapped_codes():
	invoice = xero_invoice([(D(1), D(10), "OUTPUT2")], "Exclusive") | {
		"CurrencyCode": "USD",
		"CurrencyRate": D("0.625"),
	}
	pulled = invoice_to_erpnext(invoice, CTX, reverse_accounts=REVERSE_ACCOUNTS, reverse_tax=REVERSE_TAX)
	assert pulled.values["conversion_rate"] == D("1.6")
	invoice["LineItems"][0]["AccountCode"] = "999"
	with pytest.raises(MappingError) as error:
		invoice_to_erpnext(invoice, CTX, reverse_accounts=REVERSE_ACCOUNTS, reverse_tax={})
	assert len(error.value.problems) == 2


@settings(max_examples=300, deadline=None)
@given(
	lines=st.lists(
		st.tuples(
			st.decimals(min_value=D("0.01"), max_value=D(500), places=2),
			st.decimals(min_value=D("0.0001"), max_value=D(5000), places=4),
			st.sampled_from(sorted(TAX_RATES)),
		),
		min_size=1,
		max_size=20,
	),
	line_amount_types=st.sampled_from(["Exclusive", "Inclusive", "NoTax"]),
)
def test_erpnext_total_of_a_pulled_invoice_equals_xero_total(lines, line_amount_types):
	invoice = xero_invoice(lines, line_amount_types)
	pulled = invoice_to_erpnext(invoice, CTX, reverse_accounts=REVERSE_ACCOUNTS, reverse_tax=REVERSE_TAX)
	assert erpnext_total_of(pulled) == invoice["Total"]


def test_pulled_rate_kept_at_erpnexts_precision_and_the_loss_booked_as_rounding():
	# 39.75 h at 12.3456 is 490.74 in Xero; ERPNext keeps the rate as 12.35 (490.91): the row says so.
	invoice = xero_invoice([(D("39.75"), D("12.3456"), "OUTPUT2")], "Exclusive")
	pulled = invoice_to_erpnext(invoice, CTX, reverse_accounts=REVERSE_ACCOUNTS, reverse_tax=REVERSE_TAX)
	assert pulled.values["items"][0]["rate"] == D("12.35")
	assert pulled.rounding
	assert erpnext_total_of(pulled) == invoice["Total"]
