"""Sales / Purchase Invoice <-> Xero Invoice (ACCREC / ACCPAY).

The same machinery maps returns to credit notes (credit_note.py): `map_transaction` builds the
lines, rate and rounding line of any of the four document types, with `sign` turning an ERPNext
return's negative amounts into a credit note's positive ones.
"""

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from xero_integration.core import parties
from xero_integration.core.mapping.context import (
	MappingContext,
	MappingError,
	Problems,
	account_code,
	check_currency,
)
from xero_integration.core.money import (
	CENT,
	EXCLUSIVE,
	HUNDRED,
	INCLUSIVE,
	NO_TAX,
	ZERO,
	XeroTotals,
	erpnext_totals,
	from_xero_date,
	item_tax_rates,
	money,
	rounding_adjustment,
	to_date_string,
	to_decimal,
	xero_line_amount,
	xero_totals,
)

ROUNDING_DESCRIPTION = "Rounding adjustment"
RATE_PLACES = 6  # Xero keeps CurrencyRate to 6 decimal places
CONVERSION_RATE_PLACES = 9  # ERPNext's conversion_rate precision

SALES, PURCHASE = parties.SALES.invoice, parties.PURCHASE.invoice
DOCSTATUS_OF_XERO_STATUS = {"DRAFT": 0, "SUBMITTED": 0, "AUTHORISED": 1, "PAID": 1, "VOIDED": 2, "DELETED": 2}


@dataclass
class PulledDocument:
	"""A Xero invoice or credit note as an ERPNext Sales or Purchase Invoice.

	values: the document's fields, items and tax rows as frappe.get_doc takes them. docstatus: what to
	do with it, 1 submit (AUTHORISED, PAID), 0 keep a draft (DRAFT, SUBMITTED), 2 cancel (VOIDED,
	DELETED). item_codes: Xero's ItemCode of each item, in order. rounding: what ERPNext, rounding each
	tax row once, would total short of Xero's per-line rounding, to be booked on rounding_account (the
	document's rounding row: see rounding_row)."""

	values: dict
	docstatus: int
	contact_id: str | None
	item_codes: list
	rounding: Decimal = ZERO
	rounding_account: str | None = None
	allocated_invoice_ids: list = field(default_factory=list)


def rounding_row(account: str | None, amount: Decimal) -> dict:
	"""The one tax row that books rounding on a pulled document."""
	return {
		"charge_type": "Actual",
		"account_head": account,
		"tax_amount": amount,
		"description": ROUNDING_DESCRIPTION,
	}


@dataclass(frozen=True)
class MappedDocument:
	"""A Xero payload with what it took to make Xero's total equal ERPNext's, for the sync log."""

	payload: dict
	rounding_lines: list[dict]
	rounding_difference: Decimal
	xero_totals: XeroTotals


def xero_currency_rate(conversion_rate) -> Decimal:
	"""ERPNext's conversion_rate (company currency per 1 unit of document currency) as Xero's
	CurrencyRate (document currency per 1 unit of base currency), to Xero's 6 decimal places."""
	return to_decimal(1 / to_decimal(conversion_rate), RATE_PLACES)


def erpnext_conversion_rate(currency_rate) -> Decimal:
	"""Xero's CurrencyRate as ERPNext's conversion_rate: the inverse of xero_currency_rate."""
	return to_decimal(1 / to_decimal(currency_rate), CONVERSION_RATE_PLACES)


def plain_text(text) -> str:
	"""ERPNext descriptions are HTML from the text editor; Xero shows plain text."""
	text = re.sub(r"<br\s*/?>|</p>|</div>|</li>", "\n", str(text or ""), flags=re.IGNORECASE)
	text = html.unescape(re.sub(r"<[^>]+>", "", text))
	return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _tax_rows(doc: Mapping, problems: Problems) -> list[Mapping]:
	"""The rows that are tax on items (everything but "Actual" charges and valuation-only rows)."""
	rows = []
	for row in doc.get("taxes") or []:
		if row.get("charge_type") == "Actual" or row.get("category") == "Valuation":
			continue
		if row.get("charge_type") != "On Net Total":
			problems.add(
				f"Tax row {row.get('idx')} ({row.get('account_head')}) is charged '{row.get('charge_type')}', "
				"which Xero cannot reproduce per line: use 'On Net Total' rows."
			)
		elif row.get("add_deduct_tax") == "Deduct":
			problems.add(
				f"Tax row {row.get('idx')} ({row.get('account_head')}) deducts tax, which Xero lines cannot."
			)
		rows.append(row)
	return rows


def _line_amount_types(tax_rows: list[Mapping], problems: Problems) -> str:
	inclusive = {bool(row.get("included_in_print_rate")) for row in tax_rows}
	if not tax_rows:
		return NO_TAX
	if inclusive == {True, False}:
		problems.add(
			"Some tax rows are included in the print rate and others are not; Xero needs one or the other."
		)
	return INCLUSIVE if True in inclusive else EXCLUSIVE


def _item_rate(item: Mapping, tax_rows: list[Mapping]) -> Decimal:
	"""The total tax percentage ERPNext applies to this item."""
	overrides = item_tax_rates(item)
	return sum((overrides.get(row["account_head"], to_decimal(row.get("rate"))) for row in tax_rows), ZERO)


def _item_tax_type(
	item: Mapping, doc: Mapping, tax_rows: list[Mapping], ctx: MappingContext, problems: Problems
):
	"""Item Tax Template, else the document's taxes template, else the tax heads that apply."""
	label = f"Item row {item.get('idx')} ({item.get('item_code')})"
	if item.get("item_tax_template"):
		tax_type = ctx.tax_types.get(item["item_tax_template"])
		if not tax_type:
			problems.add(
				f"Item Tax Template '{item['item_tax_template']}' has no Xero tax type: add it in Xero Tax Mapping."
			)
		return tax_type
	if doc.get("taxes_and_charges") and doc["taxes_and_charges"] in ctx.tax_types:
		return ctx.tax_types[doc["taxes_and_charges"]]
	overrides = item_tax_rates(item)
	heads = [
		row["account_head"]
		for row in tax_rows
		if overrides.get(row["account_head"], to_decimal(row.get("rate"))) != ZERO
	]
	if not heads:
		return ctx.no_tax_type
	unmapped = [head for head in heads if head not in ctx.tax_types]
	for head in unmapped:
		problems.add(f"Tax account '{head}' has no Xero tax type: add it in Xero Tax Mapping.")
	tax_types = {ctx.tax_types[head] for head in heads if head in ctx.tax_types}
	if len(tax_types) > 1:
		problems.add(
			f"{label} is taxed by several heads ({', '.join(heads)}) with different Xero tax types; "
			"map the taxes template to one combined Xero tax type."
		)
	return next(iter(tax_types)) if len(tax_types) == 1 and not unmapped else None


def _tracking(cost_center, ctx: MappingContext) -> list[dict]:
	if cost_center in ctx.tracking:
		category, option = ctx.tracking[cost_center]
		return [{"Name": category, "Option": option}]
	return []


def _item_line(item, doc, *, sign, line_amount_types, tax_rows, ctx, problems) -> tuple[dict, Decimal | None]:
	"""One Xero line for one ERPNext item, and ERPNext's tax percentage on it (None if untaxed)."""
	qty = to_decimal(item.get("qty"))
	net_amount = to_decimal(item.get("net_amount"))
	if line_amount_types == INCLUSIVE:
		# the discounted, tax-inclusive amount: ERPNext only stores it net of tax
		line_total = net_amount * (1 + _item_rate(item, tax_rows) / HUNDRED)
	else:
		line_total = net_amount
	if qty:
		quantity, unit_amount = sign * qty, to_decimal(line_total / qty, ctx.unitdp)
	else:  # a return of value only (ERPNext allows qty 0 on returns)
		quantity, unit_amount = Decimal(1), to_decimal(sign * line_total, ctx.unitdp)
	account_field = parties.of_invoice(doc["doctype"]).item_account_field
	line = {
		"Description": plain_text(item.get("description")) or item.get("item_name") or item.get("item_code"),
		"Quantity": quantity,
		"UnitAmount": unit_amount,
		"AccountCode": account_code(
			ctx, item.get(account_field), problems, purpose=f"item row {item.get('idx')} {account_field}"
		),
	}
	if line_amount_types == NO_TAX:
		line["TaxType"] = ctx.no_tax_type
		rate = None
	else:
		line["TaxType"] = _item_tax_type(item, doc, tax_rows, ctx, problems)
		rate = _item_rate(item, tax_rows)
	if item.get("item_code") in ctx.item_codes:
		line["ItemCode"] = ctx.item_codes[item["item_code"]]
	if tracking := _tracking(item.get("cost_center"), ctx):
		line["Tracking"] = tracking
	return line, rate


def _charge_line(row, *, sign, ctx, problems) -> dict:
	"""An "Actual" charge row (shipping, handling...) as an untaxed line of its own."""
	amount = to_decimal(row.get("tax_amount_after_discount_amount", row.get("tax_amount")))
	if row.get("add_deduct_tax") == "Deduct":
		amount = -amount
	return {
		"Description": plain_text(row.get("description")) or row["account_head"],
		"Quantity": Decimal(1),
		"UnitAmount": money(sign * amount),
		"AccountCode": account_code(
			ctx, row.get("account_head"), problems, purpose=f"charge row {row.get('idx')}"
		),
		"TaxType": ctx.no_tax_type,
	}


def target_total(doc: Mapping) -> Decimal:
	"""What the customer owes in ERPNext: the rounded total when rounding is on, else the grand total."""
	if not doc.get("disable_rounded_total") and to_decimal(doc.get("rounded_total")):
		return money(doc["rounded_total"])
	return money(doc.get("grand_total"))


def _rounding_tolerance(lines: list[dict], tax_row_count: int, line_amount_types: str) -> Decimal:
	"""The most rounding can explain: a cent per line and per tax row, the 4-decimal UnitAmount's
	error times the quantity, and for inclusive tax the up to 5 cents ERPNext snaps its grand total
	by (adjust_grand_total_for_inclusive_tax). Anything larger is a mapping mistake."""
	unit_error = sum((abs(to_decimal(line["Quantity"])) for line in lines), ZERO) * Decimal("0.00005")
	inclusive_snap = Decimal("0.05") if line_amount_types == INCLUSIVE else ZERO
	return CENT * (len(lines) + tax_row_count) + unit_error + inclusive_snap


def map_transaction(
	doc: Mapping,
	ctx: MappingContext,
	*,
	header: dict,
	sign: int,
	tax_rates: Mapping[str, Decimal],
) -> MappedDocument:
	"""Lines, currency and rounding line for an invoice or credit note; header holds the
	type-specific keys (Type, number, Reference, Contact, Status...)."""
	problems = Problems()
	name = doc.get("name")
	if doc.get("doctype") not in parties.INVOICE_DOCTYPES:
		raise MappingError([f"{doc.get('doctype')} {name} is not a Sales or Purchase Invoice."])
	check_currency(ctx, doc.get("currency"), problems)
	tax_rows = _tax_rows(doc, problems)
	line_amount_types = _line_amount_types(tax_rows, problems)
	rates = {tax_type: to_decimal(rate) for tax_type, rate in tax_rates.items()}
	rates.setdefault(ctx.no_tax_type, ZERO)

	lines = []
	for item in doc.get("items") or []:
		line, erpnext_rate = _item_line(
			item,
			doc,
			sign=sign,
			line_amount_types=line_amount_types,
			tax_rows=tax_rows,
			ctx=ctx,
			problems=problems,
		)
		tax_type = line.get("TaxType")
		if erpnext_rate is not None and tax_type:
			if tax_type not in rates:
				problems.add(f"Xero tax type '{tax_type}' is not one of the organisation's tax rates.")
			elif rates[tax_type] != erpnext_rate:
				problems.add(
					f"Item row {item.get('idx')} ({item.get('item_code')}) is taxed at {erpnext_rate.normalize()}% in "
					f"ERPNext but Xero tax type '{tax_type}' is {rates[tax_type].normalize()}%."
				)
		lines.append(line)
	lines += [
		_charge_line(row, sign=sign, ctx=ctx, problems=problems)
		for row in doc.get("taxes") or []
		if row.get("charge_type") == "Actual" and row.get("category") != "Valuation"
	]
	if not lines:
		problems.add(f"{doc['doctype']} {name} has no items.")
	problems.raise_if_any()

	payload = dict(header)
	payload.update(
		{
			"Date": to_date_string(doc.get("posting_date")),
			"LineAmountTypes": line_amount_types,
			"CurrencyCode": doc.get("currency") or ctx.base_currency,
			"LineItems": lines,
		}
	)
	if doc.get("due_date"):
		payload["DueDate"] = to_date_string(doc["due_date"])
	if payload["CurrencyCode"] != ctx.base_currency:
		if to_decimal(doc.get("conversion_rate")) in (ZERO, Decimal(1)):
			problems.add(
				f"{doc['doctype']} {name} is in {payload['CurrencyCode']} with exchange rate "
				f"{doc.get('conversion_rate')}; set the real rate before it goes to Xero."
			)
		else:
			payload["CurrencyRate"] = xero_currency_rate(doc["conversion_rate"])

	totals = xero_totals(lines, line_amount_types, rates)
	erpnext_grand_total = sign * money(doc.get("grand_total"))
	per_line_difference = rounding_adjustment(erpnext_grand_total, totals.total)
	if abs(per_line_difference) > _rounding_tolerance(lines, len(tax_rows), line_amount_types):
		problems.add(
			f"Xero would total {totals.total} but ERPNext's grand total is {erpnext_grand_total}: a difference of "
			f"{per_line_difference} is more than rounding; check the tax and account mappings."
		)
	difference = rounding_adjustment(sign * target_total(doc), totals.total)
	rounding_lines = []
	if difference:
		if not ctx.rounding_account_code:
			problems.add(
				f"Xero's per-line tax rounding leaves {difference} to adjust on {name}, but no rounding account "
				"is mapped: set one in Xero Settings."
			)
		rounding_lines.append(
			{
				"Description": ROUNDING_DESCRIPTION,
				"Quantity": Decimal(1),
				"UnitAmount": difference,
				"AccountCode": ctx.rounding_account_code,
				"TaxType": ctx.no_tax_type,
			}
		)
	problems.raise_if_any()
	lines += rounding_lines
	return MappedDocument(payload, rounding_lines, difference, xero_totals(lines, line_amount_types, rates))


def invoice_header(doc: Mapping, *, contact_id: str, invoice_id: str | None, status: str) -> dict:
	header = {
		"Type": parties.of_invoice(doc["doctype"]).xero_invoice_type,
		"Contact": {"ContactID": contact_id},
		"Status": status,
	}
	if doc.get("doctype") == PURCHASE:
		header["InvoiceNumber"] = doc.get("bill_no") or doc["name"]
		header["Reference"] = doc["name"]
	else:
		header["InvoiceNumber"] = doc["name"]
		if doc.get("po_no"):
			header["Reference"] = doc["po_no"]
	if invoice_id:
		header["InvoiceID"] = invoice_id
	return header


def map_invoice(
	doc: Mapping,
	ctx: MappingContext,
	*,
	contact_id: str,
	tax_rates: Mapping[str, Decimal],
	invoice_id: str | None = None,
	status: str = "AUTHORISED",
) -> MappedDocument:
	"""A submitted Sales / Purchase Invoice as a Xero invoice, with the rounding line it needed."""
	if doc.get("is_return"):
		raise MappingError([f"{doc.get('name')} is a return: it becomes a Xero credit note, not an invoice."])
	header = invoice_header(doc, contact_id=contact_id, invoice_id=invoice_id, status=status)
	return map_transaction(doc, ctx, header=header, sign=1, tax_rates=tax_rates)


# Xero -> ERPNext


def _reverse_tracking(ctx: MappingContext) -> dict[tuple[str, str], str]:
	return {pair: cost_center for cost_center, pair in ctx.tracking.items()}


def transaction_to_erpnext(
	xero_doc: Mapping,
	ctx: MappingContext,
	*,
	sign: int,
	reverse_accounts: Mapping[str, str],
	reverse_tax: Mapping[str, tuple[str, Decimal]],
) -> PulledDocument:
	"""A Xero invoice or credit note as an ERPNext Sales / Purchase Invoice (sign -1: a return).

	reverse_accounts maps Xero account Code -> ERPNext account; reverse_tax maps Xero TaxType ->
	(ERPNext tax account_head, rate %). Each TaxType becomes an "On Net Total" row applied only to
	its own items (item_tax_rate); if ERPNext, rounding each row once, would still total differently
	from Xero's per-line rounding, the result's rounding says by how much (booked by one explicit
	"Actual" rounding row).
	"""
	problems = Problems()
	side = parties.of_xero_type(xero_doc.get("Type"))
	if not side:
		raise MappingError([f"Xero document type {xero_doc.get('Type')!r} is not an invoice or credit note."])
	label = xero_doc.get("InvoiceNumber") or xero_doc.get("CreditNoteNumber") or xero_doc.get("InvoiceID")
	line_amount_types = xero_doc.get("LineAmountTypes") or EXCLUSIVE
	line_amount_types = {"EXCLUSIVE": EXCLUSIVE, "INCLUSIVE": INCLUSIVE, "NOTAX": NO_TAX}.get(
		line_amount_types.upper(), line_amount_types
	)
	currency = xero_doc.get("CurrencyCode") or ctx.base_currency
	cost_centers = _reverse_tracking(ctx)

	items, item_heads = [], []
	for number, line in enumerate(xero_doc.get("LineItems") or [], start=1):
		amount = xero_line_amount(line)
		tax_type = line.get("TaxType")
		head = None
		if line_amount_types != NO_TAX and tax_type in reverse_tax and to_decimal(reverse_tax[tax_type][1]):
			head = reverse_tax[tax_type]
		elif line_amount_types != NO_TAX and to_decimal(line.get("TaxAmount")):
			problems.add(
				f"Xero tax type '{tax_type}' (line {number} of {label}) has no ERPNext tax account mapped."
			)
		qty = to_decimal(line.get("Quantity")) or Decimal(1)
		code = line.get("AccountCode")
		if code not in reverse_accounts:
			problems.add(
				f"Xero account code '{code}' (line {number} of {label}) has no ERPNext account mapped."
			)
		item = {
			"item_name": (plain_text(line.get("Description")) or code or "")[:140],
			"description": line.get("Description") or "",
			"qty": sign * qty,
			# ERPNext keeps the rate at its own precision; the rounding row below covers what that loses.
			"rate": to_decimal(amount / qty, ctx.rate_precision),
			side.item_account_field: reverse_accounts.get(code),
		}
		for tracking in line.get("Tracking") or []:
			if (tracking.get("Name"), tracking.get("Option")) in cost_centers:
				item["cost_center"] = cost_centers[(tracking["Name"], tracking["Option"])]
		items.append(item)
		item_heads.append(head)

	heads = {}  # account_head -> rate, in first-use order
	for head in item_heads:
		if head:
			heads.setdefault(head[0], to_decimal(head[1]))
	taxes = [
		{
			"charge_type": "On Net Total",
			"account_head": account,
			"rate": rate,
			"description": account,
			"included_in_print_rate": int(line_amount_types == INCLUSIVE),
		}
		for account, rate in heads.items()
	]
	for item, head in zip(items, item_heads, strict=True):
		if heads:
			item["item_tax_rate"] = json.dumps(
				{
					account: float(rate if head and head[0] == account else 0)
					for account, rate in heads.items()
				}
			)

	rounding, rounding_account = ZERO, reverse_accounts.get(ctx.rounding_account_code)
	if xero_doc.get("Total") is not None and not problems.items:
		xero_total = money(xero_doc["Total"])
		rounding = sign * xero_total - erpnext_totals(items, taxes).grand_total
		if rounding and not rounding_account:
			problems.add(
				f"ERPNext would total {label} {rounding} away from Xero's {xero_total} and no rounding "
				"account is mapped to adjust it."
			)
	problems.raise_if_any()

	values = {
		"doctype": side.invoice,
		"posting_date": from_xero_date(xero_doc.get("Date")),
		"set_posting_time": 1,
		"currency": currency,
		"conversion_rate": erpnext_conversion_rate(xero_doc["CurrencyRate"])
		if currency != ctx.base_currency and to_decimal(xero_doc.get("CurrencyRate"))
		else Decimal(1),
		"items": items,
		"taxes": taxes,
		"disable_rounded_total": 1,
	}
	if xero_doc.get("DueDate"):
		values["due_date"] = from_xero_date(xero_doc["DueDate"])
	return PulledDocument(
		values,
		docstatus=DOCSTATUS_OF_XERO_STATUS.get(xero_doc.get("Status"), 0),
		contact_id=(xero_doc.get("Contact") or {}).get("ContactID"),
		item_codes=[line.get("ItemCode") for line in xero_doc.get("LineItems") or []],
		rounding=rounding,
		rounding_account=rounding_account,
	)


def invoice_to_erpnext(
	invoice: Mapping,
	ctx: MappingContext,
	*,
	reverse_accounts: Mapping[str, str],
	reverse_tax: Mapping[str, tuple[str, Decimal]],
) -> PulledDocument:
	"""A Xero ACCREC / ACCPAY invoice as a Sales / Purchase Invoice."""
	if invoice.get("Type") not in ("ACCREC", "ACCPAY"):
		raise MappingError([f"Xero document type {invoice.get('Type')!r} is not an invoice."])
	pulled = transaction_to_erpnext(
		invoice, ctx, sign=1, reverse_accounts=reverse_accounts, reverse_tax=reverse_tax
	)
	if invoice["Type"] == "ACCPAY":
		pulled.values["bill_no"] = invoice.get("InvoiceNumber")
	elif invoice.get("Reference"):
		pulled.values["po_no"] = invoice["Reference"]
	return pulled
