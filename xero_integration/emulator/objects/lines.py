"""Line items, totals and currency of a document: what invoices, credit notes and bank transactions (and
the prepayments and overpayments they make) share with the documents still to come (quotes, purchase
orders).

Xero computes tax per line, rounded half-up to 2 places, then sums; LineAmount = Quantity x UnitAmount x
(1 - DiscountRate/100), and a supplied LineAmount or Total that disagrees is refused.
"""

import copy
from decimal import ROUND_HALF_UP, Decimal

from .base import CENT, ZERO, ElementError, Organisation, money, to_decimal
from .items import by_code
from .settings import account_by_code, check_tracking

AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
# Accounts Xero keeps for itself: no line may be coded to them.
SYSTEM_ACCOUNTS_REFUSED_ON_LINES = ("DEBTORS", "CREDITORS", "GST")


def set_currency(org: Organisation, document: dict) -> None:
	code = document.get("CurrencyCode") or org.base_currency
	if code not in org.currencies:
		raise ElementError(f"The currency code {code} is not enabled for this organisation.")
	document["CurrencyCode"] = code
	rate = document.get("CurrencyRate")
	if code == org.base_currency:
		document["CurrencyRate"] = Decimal("1.000000")
	elif rate in (None, "", 0):
		document["CurrencyRate"] = org.daily_rate(code)
	else:
		document["CurrencyRate"] = to_decimal(rate, "CurrencyRate")
		if document["CurrencyRate"] == 1:
			# Xero accepts it silently; it is almost always a bug in the sender.
			org.notes.append(f"CurrencyRate 1 sent for foreign currency {code}")


def set_lines_and_totals(
	org: Organisation, document: dict, label: str, unitdp: int, data: dict, system_account: str | None = None
) -> None:
	"""LineItems, SubTotal, TotalTax and Total of a document; data is the request's element. system_account:
	the one account Xero keeps for itself that Xero codes this document's lines to (an overpayment's)."""
	amount_types = document.get("LineAmountTypes") or "Exclusive"
	if amount_types not in AMOUNT_TYPES:
		raise ElementError("LineAmountTypes must be Exclusive, Inclusive or NoTax")
	lines = [
		_line(org, line, amount_types, unitdp, document["Status"], system_account)
		for line in document.get("LineItems") or []
	]
	document["LineItems"] = lines
	total_tax = sum((line["TaxAmount"] for line in lines), ZERO)
	line_total = sum((line["LineAmount"] for line in lines), ZERO)
	sub_total = line_total - total_tax if amount_types == "Inclusive" else line_total
	total = sub_total + total_tax
	if "Total" in data and data["Total"] is not None and money(to_decimal(data["Total"], "Total")) != total:
		raise ElementError(
			f"The document total {data['Total']} does not equal the sum of the line amounts and tax {total}."
		)
	document |= {"SubTotal": sub_total, "TotalTax": total_tax, "Total": total}
	if document["Status"] != "DRAFT" and not lines:
		raise ElementError(f"{label} must have at least one line item")


def _line(
	org: Organisation, data: dict, amount_types: str, unitdp: int, status: str, system_account: str | None
) -> dict:
	line = copy.deepcopy(data)
	line.setdefault("LineItemID", org.new_id())
	if line.get("ItemCode"):
		item = by_code(org, line["ItemCode"])
		if item is None:
			raise ElementError(f"Item code '{line['ItemCode']}' is not valid")
		details = item.get("SalesDetails") or {}
		line.setdefault("Description", item.get("Description"))
		line.setdefault("AccountCode", details.get("AccountCode"))
		line.setdefault("UnitAmount", details.get("UnitPrice"))
	quantity = to_decimal(line.get("Quantity") if line.get("Quantity") is not None else 1, "Quantity")
	unit_places = Decimal("0.0001") if unitdp == 4 else CENT
	discount = to_decimal(line.get("DiscountRate") or 0, "DiscountRate")
	given_line_amount = line.get("LineAmount")
	if line.get("UnitAmount") is None and given_line_amount is not None and quantity:
		line["UnitAmount"] = to_decimal(given_line_amount, "LineAmount") / quantity
	unit_amount = to_decimal(line.get("UnitAmount") or 0, "UnitAmount").quantize(
		unit_places, rounding=ROUND_HALF_UP
	)
	line_amount = money(quantity * unit_amount * (1 - discount / 100))
	if given_line_amount is not None and money(to_decimal(given_line_amount, "LineAmount")) != line_amount:
		raise ElementError(
			f"The line total {given_line_amount} does not match the expected line total {line_amount}"
		)
	account = None
	if line.get("AccountCode"):
		account = account_by_code(org, line["AccountCode"])
		if (
			account is None
			or account["Status"] != "ACTIVE"
			or account.get("SystemAccount") in set(SYSTEM_ACCOUNTS_REFUSED_ON_LINES) - {system_account}
		):
			raise ElementError(f"Account code '{line['AccountCode']}' is not a valid code for this document.")
	elif status != "DRAFT" and line_amount:
		raise ElementError("An Account Code must be specified for each line item on an approved document")
	tax_type = line.get("TaxType") or (account["TaxType"] if account else "NONE")
	if amount_types == "NoTax":
		tax_type = line.get("TaxType") or "NONE"
	if tax_type not in org.tax_rates:
		raise ElementError(f"The TaxType code {tax_type} does not exist or cannot be used.")
	rate = org.tax_rates[tax_type]["EffectiveRate"]
	if amount_types == "Exclusive":
		tax = money(line_amount * rate / 100)
	elif amount_types == "Inclusive":
		tax = money(line_amount * rate / (100 + rate))
	else:
		tax = ZERO
	for tracking in line.get("Tracking") or []:
		check_tracking(org, tracking)
	line |= {
		"Quantity": quantity,
		"UnitAmount": unit_amount,
		"LineAmount": line_amount,
		"TaxType": tax_type,
		"TaxAmount": tax,
		"Tracking": line.get("Tracking") or [],
	}
	if discount:
		line["DiscountRate"] = discount
	return line


def view(document: dict, unitdp: int) -> dict:
	"""A document as Xero answers it: UnitAmount at 2 places unless the request asked for unitdp=4."""
	answered = copy.deepcopy(document)
	if unitdp != 4:
		for line in answered.get("LineItems", []):
			line["UnitAmount"] = money(line["UnitAmount"])
	return answered
