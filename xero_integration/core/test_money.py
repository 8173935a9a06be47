import datetime
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from xero_integration.core.money import (
	erpnext_rounded_total,
	erpnext_totals,
	from_xero_date,
	line_amount,
	line_tax,
	money,
	rounding_adjustment,
	to_date_string,
	to_decimal,
	xero_totals,
)

D = Decimal


@pytest.mark.parametrize(
	"value, expected",
	[
		(0.1, D("0.1")),
		(1.1 + 2.2, D("3.3000000000000003")),
		(3, D(3)),
		("1,234.50", D("1234.50")),
		(None, D(0)),
	],
)
def test_to_decimal_goes_through_text_not_binary(value, expected):
	assert to_decimal(value) == expected


def test_to_decimal_places_rounds_half_up():
	assert to_decimal("2.00005", 4) == D("2.0001")
	assert to_decimal(2.5, 0) == D(3)


def test_to_decimal_refuses_booleans():
	with pytest.raises(TypeError):
		to_decimal(True)


def test_money_rounds_half_away_from_zero():
	assert money("0.125") == D("0.13")
	assert money("-0.125") == D("-0.13")
	assert money("0.125", ROUND_HALF_EVEN) == D("0.12")


def test_line_amount_applies_discount_before_rounding():
	assert line_amount("3", "19.95", "10") == D("53.87")  # 59.85 * 0.9 = 53.865


@pytest.mark.parametrize(
	"amount, rate, kind, expected",
	[
		("30.99", 15, "Exclusive", D("4.65")),  # 4.6485
		("100", "12.5", "Inclusive", D("11.11")),  # 100 - 100/1.125
		("100", 15, "NoTax", D("0.00")),
		("-30.99", 15, "Exclusive", D("-4.65")),
	],
)
def test_line_tax(amount, rate, kind, expected):
	assert line_tax(amount, rate, kind) == expected


def test_xero_totals_round_each_line_then_sum():
	lines = [{"Quantity": 1, "UnitAmount": "0.10", "TaxType": "OUTPUT"} for _ in range(3)]
	# Each line's tax 0.015 rounds to 0.02; ERPNext would round the row once: 0.045 -> 0.05.
	assert tuple(xero_totals(lines, "Exclusive", {"OUTPUT": D(15)})) == (D("0.30"), D("0.06"), D("0.36"))


def test_xero_totals_inclusive_total_is_sum_of_line_amounts():
	lines = [{"LineAmount": "115.00", "TaxType": "OUTPUT"}, {"LineAmount": "10.00", "TaxType": "NONE"}]
	assert tuple(xero_totals(lines, "Inclusive", {"OUTPUT": 15, "NONE": 0})) == (
		D("110.00"),
		D("15.00"),
		D("125.00"),
	)


def test_xero_totals_reject_a_tax_type_without_rate():
	with pytest.raises(KeyError):
		xero_totals([{"LineAmount": 1, "TaxType": "MYSTERY"}], "Exclusive", {})


def test_rounding_adjustment():
	assert rounding_adjustment("0.35", "0.36") == D("-0.01")


def test_erpnext_rounds_each_tax_row_once():
	items = [{"qty": 1, "rate": "0.10"} for _ in range(3)]
	taxes = [{"charge_type": "On Net Total", "account_head": "VAT", "rate": 15}]
	assert erpnext_totals(items, taxes).grand_total == D("0.35")


def test_erpnext_item_tax_rate_overrides_the_row_rate():
	items = [{"qty": 1, "rate": 100, "item_tax_rate": '{"VAT": 0}'}, {"qty": 1, "rate": 100}]
	taxes = [{"charge_type": "On Net Total", "account_head": "VAT", "rate": 15}]
	assert erpnext_totals(items, taxes).tax_amounts == (D("15.00"),)


def test_erpnext_inclusive_grand_total_snaps_to_item_amounts():
	items = [{"qty": 1, "rate": "10.00"} for _ in range(3)]
	taxes = [{"charge_type": "On Net Total", "account_head": "VAT", "rate": 15, "included_in_print_rate": 1}]
	totals = erpnext_totals(items, taxes)
	assert totals.net_amounts == (D("8.70"),) * 3
	assert totals.grand_total == D("30.00")  # 26.10 + 3.92 = 30.02 snapped back


def test_erpnext_rounded_total_breaks_ties_to_even():
	assert erpnext_rounded_total("10.50") == D("10.00")
	assert erpnext_rounded_total("11.50") == D("12.00")


def test_dates():
	assert to_date_string(datetime.date(2024, 2, 29)) == "2024-02-29"
	assert to_date_string("2024-02-29 00:00:00") == "2024-02-29"
	assert from_xero_date("/Date(1571875200000+0000)/") == "2019-10-24"
	assert from_xero_date("2019-10-24T00:00:00") == "2019-10-24"
