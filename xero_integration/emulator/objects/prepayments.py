"""Prepayments and overpayments (one set of rules for both kinds): made only by bank transactions of their
types (bank_transactions.py), with the transaction's lines and total as credit; allocated to invoices and
their allocations deleted as credit notes' are (documents.py); refunded by payments (payments.py); never
edited. AUTHORISED, PAID when no credit remains. Xero sends no webhook events for them."""

import copy

from .base import Organisation
from .documents import DocumentKind, allocation_routes, list_with_lines, view
from .endpoints import Family, Route, by_id, get_one

SCOPE = "accounting.payments"

PREPAYMENT = DocumentKind(
	"prepayments",
	"PrepaymentID",
	"InvoiceNumber",  # receive prepayments only: Xero numbers them as it numbers invoices
	"Prepayment",
	"Prepayment",
	("RECEIVE-PREPAYMENT", "SPEND-PREPAYMENT"),
	"INV-",
	"RemainingCredit",
	"Prepayments",
	paid_key=None,
)
OVERPAYMENT = DocumentKind(
	"overpayments",
	"OverpaymentID",
	None,
	"Overpayment",
	"Overpayment",
	("RECEIVE-OVERPAYMENT", "SPEND-OVERPAYMENT"),
	None,
	"RemainingCredit",
	"Overpayments",
	paid_key=None,
)
KINDS = (PREPAYMENT, OVERPAYMENT)
# What a prepayment or overpayment takes from the bank transaction that makes it.
FROM_BANK_TRANSACTION = (
	"Type",
	"Contact",
	"Date",
	"DateString",
	"LineAmountTypes",
	"LineItems",
	"SubTotal",
	"TotalTax",
	"Total",
	"CurrencyCode",
	"CurrencyRate",
	"Reference",
)


def kind_of(transaction_type: str) -> DocumentKind | None:
	"""The kind a bank transaction of this type makes, if any."""
	return next((kind for kind in KINDS if transaction_type in kind.types), None)


def create(org: Organisation, kind: DocumentKind, transaction: dict) -> dict:
	"""The prepayment or overpayment a bank transaction of its kind's types makes, its total as credit."""
	credit = {
		kind.id_key: org.new_id(),
		**copy.deepcopy({key: transaction[key] for key in FROM_BANK_TRANSACTION}),
		"Status": "AUTHORISED",
		"RemainingCredit": transaction["Total"],
		"Allocations": [],
		"Payments": [],
		"HasAttachments": False,
		"UpdatedDateUTC": org.now(),
	}
	if kind.number_prefix and transaction["Type"] == kind.types[0]:
		# The spec: Reference "returns Invoice number field", InvoiceNumber is for receive prepayments only.
		credit["InvoiceNumber"] = credit["Reference"] = org.next_number(kind.number_prefix)
	getattr(org, kind.collection)[credit[kind.id_key]] = credit
	return credit


# --- endpoints -------------------------------------------------------------------------------------------


def _routes(kind: DocumentKind) -> tuple[Route, ...]:
	return (
		Route(
			"GET",
			f"/{kind.resource}",
			list_with_lines(kind.resource, kind.collection, kind.id_key, kind.number_key),
			SCOPE,
		),
		Route(
			"GET",
			f"/{kind.resource}/{{{kind.id_key}}}",
			get_one(kind.resource, by_id(kind.collection), view),
			SCOPE,
		),
		*allocation_routes(kind, SCOPE),
	)


ROUTES = (*_routes(PREPAYMENT), *_routes(OVERPAYMENT))

FAMILY = Family(("prepayments", "overpayments"), ROUTES)
