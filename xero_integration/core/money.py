"""Exact money arithmetic shared by every mapping, and the two rounding rules we must reproduce.

Xero computes tax per line, rounds each line to the cent, then sums. ERPNext computes each tax row on
the unrounded per-item amounts and rounds once per row. Both are modelled here so the mappings can
predict the other side's total and make any difference an explicit rounding line.
"""

import datetime
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")

# Xero rounds line tax half away from zero (Decimal's ROUND_HALF_UP is away from zero for negatives).
XERO_ROUNDING = ROUND_HALF_UP

# Frappe's default "Banker's Rounding (legacy)" rounds a cent-precision half up, and only breaks an
# integer-precision tie (rounded_total) to even.
ERPNEXT_CENT_ROUNDING = ROUND_HALF_UP
ERPNEXT_WHOLE_ROUNDING = ROUND_HALF_EVEN

EXCLUSIVE = "Exclusive"
INCLUSIVE = "Inclusive"
NO_TAX = "NoTax"


def to_decimal(value, places: int | None = None, rounding: str = ROUND_HALF_UP) -> Decimal:
	"""Any number ERPNext or Xero hands us (float, int, str, Decimal, None) as an exact Decimal.

	Floats go through str() so 0.1 becomes Decimal("0.1"), not its binary approximation.
	"""
	if value is None or value == "":
		result = ZERO
	elif isinstance(value, Decimal):
		result = value
	elif isinstance(value, bool):
		raise TypeError(f"Expected a number, got {value!r}")
	elif isinstance(value, int | float | str):
		result = Decimal(str(value).strip().replace(",", ""))
	else:
		raise TypeError(f"Expected a number, got {value!r}")
	if places is not None:
		result = result.quantize(Decimal(1).scaleb(-places), rounding=rounding)
	return result


def money(value, rounding: str = XERO_ROUNDING) -> Decimal:
	return to_decimal(value).quantize(CENT, rounding=rounding)


def to_date_string(value) -> str | None:
	"""ERPNext dates arrive as datetime.date or "YYYY-MM-DD"; Xero wants "YYYY-MM-DD"."""
	if not value:
		return None
	if isinstance(value, datetime.datetime):
		return value.date().isoformat()
	if isinstance(value, datetime.date):
		return value.isoformat()
	return datetime.date.fromisoformat(str(value)[:10]).isoformat()


def line_amount(qty, unit_amount, discount_rate=None) -> Decimal:
	"""Xero's LineAmount: Quantity * UnitAmount * (100 - DiscountRate) / 100, to the cent."""
	amount = to_decimal(qty) * to_decimal(unit_amount)
	if discount_rate:
		amount = amount * (HUNDRED - to_decimal(discount_rate)) / HUNDRED
	return money(amount)


def line_tax(line_amount, rate_percent, line_amount_types: str) -> Decimal:
	"""Tax Xero puts on one line, rounded to the cent on its own."""
	amount = to_decimal(line_amount)
	rate = to_decimal(rate_percent) / HUNDRED
	if line_amount_types == NO_TAX or not rate:
		return ZERO.quantize(CENT)
	if line_amount_types == INCLUSIVE:
		return money(amount - amount / (1 + rate))
	if line_amount_types == EXCLUSIVE:
		return money(amount * rate)
	raise ValueError(f"Unknown LineAmountTypes {line_amount_types!r}")


@dataclass(frozen=True)
class XeroTotals:
	sub_total: Decimal
	total_tax: Decimal
	total: Decimal

	def __iter__(self):
		return iter((self.sub_total, self.total_tax, self.total))


def xero_line_amount(line: Mapping) -> Decimal:
	if line.get("LineAmount") is not None:
		return money(line["LineAmount"])
	return line_amount(line.get("Quantity", 1), line.get("UnitAmount", 0), line.get("DiscountRate"))


def xero_totals(
	lines: Iterable[Mapping], line_amount_types: str, tax_rates: Mapping[str, Decimal]
) -> XeroTotals:
	"""SubTotal, TotalTax and Total exactly as Xero computes them for these LineItems.

	tax_rates maps TaxType -> percentage; a line without TaxType, or with a TaxType missing from
	tax_rates, must not carry tax (KeyError otherwise, so a missing rate cannot pass unnoticed).
	"""
	sub_total = total_tax = total = ZERO.quantize(CENT)
	for line in lines:
		amount = xero_line_amount(line)
		tax_type = line.get("TaxType")
		rate = to_decimal(tax_rates[tax_type]) if tax_type and line_amount_types != NO_TAX else ZERO
		tax = line_tax(amount, rate, line_amount_types)
		total_tax += tax
		if line_amount_types == INCLUSIVE:
			sub_total += amount - tax
			total += amount
		else:
			sub_total += amount
			total += amount + tax
	return XeroTotals(sub_total, total_tax, total)


def rounding_adjustment(target_total, xero_total) -> Decimal:
	"""What must be added in Xero so its total equals target_total to the cent."""
	return money(target_total) - money(xero_total)


@dataclass(frozen=True)
class ERPNextTotals:
	net_amounts: tuple[Decimal, ...]
	tax_amounts: tuple[Decimal, ...]
	net_total: Decimal
	grand_total: Decimal


def item_tax_rates(item: Mapping) -> dict[str, Decimal]:
	"""ERPNext's item_tax_rate (JSON text or dict of account_head -> rate) as Decimals."""
	raw = item.get("item_tax_rate") or {}
	if isinstance(raw, str):
		raw = json.loads(raw)
	return {head: to_decimal(rate) for head, rate in raw.items()}


def erpnext_totals(
	items: Iterable[Mapping], taxes: Iterable[Mapping], *, cent_rounding=ERPNEXT_CENT_ROUNDING
) -> ERPNextTotals:
	"""ERPNext's taxes_and_totals for "On Net Total" and "Actual" rows added to the total.

	Each item's amount is qty * rate to the cent; with inclusive rows its net amount is the amount
	divided by (1 + the inclusive fractions); each tax row is its rate applied to every item's net
	amount, summed unrounded and rounded once; an inclusive invoice's grand total snaps back to the
	sum of item amounts when they differ by at most 5 cents (adjust_grand_total_for_inclusive_tax).
	"""
	items, taxes = list(items), list(taxes)

	def cents(value):
		return money(value, cent_rounding)

	def row_rate(tax, item):
		return item_tax_rates(item).get(tax["account_head"], to_decimal(tax.get("rate")))

	amounts = [cents(to_decimal(i.get("qty")) * to_decimal(i.get("rate"))) for i in items]
	net_amounts = []
	for item, amount in zip(items, amounts, strict=True):
		inclusive_fraction = sum(
			(
				row_rate(tax, item) / HUNDRED
				for tax in taxes
				if tax.get("included_in_print_rate") and tax["charge_type"] == "On Net Total"
			),
			ZERO,
		)
		net_amounts.append(cents(amount / (1 + inclusive_fraction)) if inclusive_fraction else amount)
	net_total = sum(net_amounts, ZERO.quantize(CENT))

	tax_amounts = []
	for tax in taxes:
		if tax["charge_type"] == "Actual":
			tax_amounts.append(cents(tax.get("tax_amount")))
		elif tax["charge_type"] == "On Net Total":
			unrounded = sum(
				(row_rate(tax, item) / HUNDRED * net for item, net in zip(items, net_amounts, strict=True)),
				ZERO,
			)
			tax_amounts.append(cents(unrounded))
		else:
			raise ValueError(f"Unsupported charge_type {tax['charge_type']!r}")
	grand_total = net_total + sum(tax_amounts, ZERO)

	if any(tax.get("included_in_print_rate") for tax in taxes):
		non_inclusive = sum(
			(
				amt
				for tax, amt in zip(taxes, tax_amounts, strict=True)
				if not tax.get("included_in_print_rate")
			),
			ZERO,
		)
		diff = sum(amounts, ZERO) + non_inclusive - grand_total
		if diff and abs(diff) <= Decimal("0.05"):
			grand_total += diff
	return ERPNextTotals(tuple(net_amounts), tuple(tax_amounts), net_total, grand_total)


def erpnext_rounded_total(grand_total, rounding=ERPNEXT_WHOLE_ROUNDING) -> Decimal:
	"""ERPNext's rounded_total for a currency without a smallest fraction: the nearest whole unit."""
	return to_decimal(grand_total).quantize(Decimal(1), rounding=rounding).quantize(CENT)


def json_ready(value):
	"""A payload with Decimals and dates turned into JSON types (Decimal -> float keeps the same
	shortest decimal text for the 2-6 decimal places we use)."""
	if isinstance(value, Mapping):
		return {key: json_ready(item) for key, item in value.items()}
	if isinstance(value, list | tuple):
		return [json_ready(item) for item in value]
	if isinstance(value, Decimal):
		return float(value)
	if isinstance(value, datetime.date):
		return value.isoformat()
	return value


def from_xero_date(value) -> str | None:
	"""A Xero date (date object, "YYYY-MM-DD[T...]" or the legacy "/Date(ms+zone)/") as "YYYY-MM-DD"."""
	if not value:
		return None
	if isinstance(value, str) and value.startswith("/Date("):
		millis = int(re.match(r"/Date\((-?\d+)", value).group(1))
		return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.timezone.utc).date().isoformat()
	return to_date_string(value)
