"""Payments: only on AUTHORISED invoices and credit notes, and on prepayments and overpayments (refunds), to
BANK or payment-enabled accounts, never above what is outstanding; never edited, only deleted, which
reopens the document. Xero sends no webhook events for payments."""

import copy

from ..xerojson import ms_date
from . import documents, prepayments
from .base import ElementError, ElementResult, Organisation, money, save_each, to_decimal
from .documents import PAYMENT_EXCEEDS_DUE, DocumentKind
from .endpoints import (
	NOT_FOUND,
	ApiCall,
	ApiError,
	Family,
	Route,
	bad_request,
	batch_answer,
	by_id,
	envelope,
	get_one,
	page_of,
	select,
)
from .settings import account_of

SCOPE = "accounting.payments"
NOT_AUTHORISED_FOR_PAYMENT = "Payments can only be made against Authorised documents"
PAYMENT_TYPE_OF_DOCUMENT = {
	"ACCREC": "ACCRECPAYMENT",
	"ACCPAY": "ACCPAYPAYMENT",
	"ACCRECCREDIT": "ARCREDITPAYMENT",
	"ACCPAYCREDIT": "APCREDITPAYMENT",
	"RECEIVE-PREPAYMENT": "ARPREPAYMENTPAYMENT",
	"SPEND-PREPAYMENT": "APPREPAYMENTPAYMENT",
	"RECEIVE-OVERPAYMENT": "AROVERPAYMENTPAYMENT",
	"SPEND-OVERPAYMENT": "APOVERPAYMENTPAYMENT",
}
PAID_KINDS = (*documents.KINDS, *prepayments.KINDS)


def save(org: Organisation, elements: list[dict]) -> list[ElementResult]:
	return save_each(elements, lambda element: _save_one(org, element))


def _paid_document(org: Organisation, data: dict) -> tuple[DocumentKind, dict]:
	for kind in PAID_KINDS:
		ref = data.get(kind.reference_key)
		if isinstance(ref, dict) and (ref.get(kind.id_key) or ref.get(kind.number_key)):
			document = documents.find(org, kind, ref.get(kind.id_key) or ref.get(kind.number_key))
			if document is None:
				raise ElementError(f"{kind.label} could not be found")
			return kind, document
	raise ElementError("You must specify an Invoice, CreditNote, Prepayment or Overpayment for the payment")


def _save_one(org: Organisation, data: dict) -> dict:
	if data.get("PaymentID"):
		raise ElementError("Payments cannot be edited; delete the payment and create it again")
	kind, document = _paid_document(org, data)
	account = account_of(org, data.get("Account"))
	if account is None:
		raise ElementError("Account could not be found")
	if account["Type"] != "BANK" and not account["EnablePaymentsToAccount"]:
		# Xero's own words for this were found nowhere we could look (its documentation states the rule, not
		# the message); these name the account and both ways to make it acceptable. An approximation.
		raise ElementError(
			f"Account code '{account['Code']}' is not a bank account and payments to it are not enabled."
		)
	if document["Status"] != "AUTHORISED":
		raise ElementError(NOT_AUTHORISED_FOR_PAYMENT)
	amount = money(to_decimal(data.get("Amount", 0), "Amount"))
	if amount <= 0:
		raise ElementError("Payment amount must be greater than zero")
	if amount > document[kind.outstanding_key]:
		raise ElementError(PAYMENT_EXCEEDS_DUE)
	day = documents.day_of(org, data)
	rate = data.get("CurrencyRate")
	payment = {
		"PaymentID": org.new_id(),
		"Date": ms_date(day),
		"Amount": amount,
		"BankAmount": amount,
		"CurrencyRate": to_decimal(rate, "CurrencyRate") if rate else document["CurrencyRate"],
		"Reference": data.get("Reference", ""),
		"PaymentType": PAYMENT_TYPE_OF_DOCUMENT[document["Type"]],
		"Status": "AUTHORISED",
		"UpdatedDateUTC": org.now(),
		"HasAccount": True,
		"IsReconciled": bool(data.get("IsReconciled", False)),
		"HasValidationErrors": False,
		"Account": {"AccountID": account["AccountID"], "Code": account["Code"], "Name": account["Name"]},
		kind.reference_key: documents.summary(kind, document),
	}
	if kind.paid_key:
		document[kind.paid_key] += amount
	document[kind.outstanding_key] -= amount
	document["Payments"].append(
		{
			"PaymentID": payment["PaymentID"],
			"Date": payment["Date"],
			"Amount": amount,
			"Reference": payment["Reference"],
			"CurrencyRate": payment["CurrencyRate"],
			"HasAccount": True,
			"HasValidationErrors": False,
		}
	)
	documents.settle(org, kind, document, day)
	org.payments[payment["PaymentID"]] = payment
	return copy.deepcopy(payment)


def delete(org: Organisation, payment_id: str, data: dict) -> ElementResult:
	payment = org.payments[payment_id]
	if data.get("Status") != "DELETED":
		return ElementResult(copy.deepcopy(data), ["Payments can only be deleted (Status DELETED)"])
	if payment["Status"] == "DELETED":
		return ElementResult(copy.deepcopy(payment), ["This payment has already been deleted"])
	kind = next(kind for kind in PAID_KINDS if kind.reference_key in payment)
	document = getattr(org, kind.collection)[payment[kind.reference_key][kind.id_key]]
	if kind.paid_key:
		document[kind.paid_key] -= payment["Amount"]
	document[kind.outstanding_key] += payment["Amount"]
	document["Payments"] = [p for p in document["Payments"] if p["PaymentID"] != payment_id]
	documents.settle(org, kind, document, org.today())
	payment["Status"] = "DELETED"
	payment["UpdatedDateUTC"] = org.now()
	return ElementResult(copy.deepcopy(payment))


# --- endpoints -------------------------------------------------------------------------------------------


def list_payments(call: ApiCall):
	items, pagination = page_of(call, select(call, call.org.payments.values(), id_key="PaymentID"))
	return 200, envelope(call, "Payments", items, pagination)


def save_payments(call: ApiCall):
	elements = call.elements("Payments", bare_allowed=True)  # one payment, or a batch
	return batch_answer(call, "Payments", save(call.org, elements), "HasValidationErrors")


def delete_payment(call: ApiCall):
	"""{"Status": "DELETED"} (the spec's schema) or {"Payments": [{"Status": "DELETED"}]} (its example)."""
	payment_id = call.params["PaymentID"].lower()
	if payment_id not in call.org.payments:
		raise ApiError(404, NOT_FOUND)
	elements = call.elements("Payments", bare_allowed=True)
	if len(elements) != 1:
		raise bad_request("Delete one payment per request", 14, "PostDataInvalidException")
	return batch_answer(call, "Payments", [delete(call.org, payment_id, elements[0])], "HasValidationErrors")


ROUTES = (
	Route("GET", "/Payments", list_payments, SCOPE),
	Route("PUT", "/Payments", save_payments, SCOPE, writes=True),
	Route("POST", "/Payments", save_payments, SCOPE, writes=True),
	Route("GET", "/Payments/{PaymentID}", get_one("Payments", by_id("payments")), SCOPE),
	Route("POST", "/Payments/{PaymentID}", delete_payment, SCOPE, writes=True, example_wrapper="Payments"),
)

FAMILY = Family(("payments",), ROUTES)
