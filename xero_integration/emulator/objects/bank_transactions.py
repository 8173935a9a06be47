"""Bank transactions: spend and receive money, and the prepayments and overpayments Xero makes from the
transactions of their types (prepayments.py).

A BANK account, whose currency the transaction is in (overpayments may name another); an active contact;
lines and totals as on invoices (lines.py); an overpayment has one line, which Xero codes to receivables or
payables without tax. AUTHORISED; spend and receive money may be edited (a POST without LineItemIDs
replaces the lines) and DELETED, prepayment and overpayment transactions never; the -TRANSFER types are
BankTransfers' and read-only here. Xero sends no webhook events for bank transactions.
"""

import copy

from . import contacts, documents, lines, prepayments
from .base import ElementError, ElementResult, Organisation, save_each
from .endpoints import ApiCall, Family, by_id, standard_routes
from .prepayments import OVERPAYMENT
from .settings import account_of, system_account

SCOPE = "accounting.banktransactions"
LABEL = "Bank Transaction"
MONEY_TYPES = ("RECEIVE", "SPEND")
TRANSFER_TYPES = ("RECEIVE-TRANSFER", "SPEND-TRANSFER")
# A new transaction, before the request's element is laid over it.
NEW_TRANSACTION = {
	"Status": "AUTHORISED",
	"Reference": "",
	"LineAmountTypes": "Exclusive",
	"HasAttachments": False,
}
# Keys a client may not set: Xero computes them.
COMPUTED_KEYS = {
	"SubTotal",
	"TotalTax",
	"Total",
	"PrepaymentID",
	"OverpaymentID",
	"UpdatedDateUTC",
	"DateString",
	"HasAttachments",
	"StatusAttributeString",
	"ValidationErrors",
	"Warnings",
}
# Approximations of Xero's words: its documentation states these rules, not their messages.
TRANSFERS_ELSEWHERE = "Bank transfers cannot be created through BankTransactions; use BankTransfers."
CREDIT_LOCKED = "A prepayment or overpayment cannot be edited or deleted through BankTransactions."
DELETED_LOCKED = "This Bank Transaction has been deleted and cannot be edited."
ONE_LINE = "An overpayment must have exactly one line item."
ITEMS_ON_MONEY_ONLY = "ItemCode can only be used on SPEND and RECEIVE bank transactions."


def save(
	org: Organisation, elements: list[dict], *, create_only: bool, unitdp: int = 2
) -> list[ElementResult]:
	return save_each(elements, lambda element: _save_one(org, element, create_only, unitdp))


def _save_one(org: Organisation, data: dict, create_only: bool, unitdp: int) -> dict:
	existing = None
	if data.get("BankTransactionID"):
		existing = org.bank_transactions.get(str(data["BankTransactionID"]).lower())
		if existing is None or create_only:
			raise ElementError("Bank Transaction could not be found")
		if existing["Type"] not in MONEY_TYPES:
			raise ElementError(CREDIT_LOCKED)
		if existing["Status"] == "DELETED":
			raise ElementError(DELETED_LOCKED)
		if data.get("Status") == "DELETED":
			existing |= {"Status": "DELETED", "UpdatedDateUTC": org.now()}
			return copy.deepcopy(existing)

	transaction = (
		copy.deepcopy(existing) if existing else {"BankTransactionID": org.new_id(), **NEW_TRANSACTION}
	)
	transaction |= {key: value for key, value in data.items() if key not in COMPUTED_KEYS}
	transaction["BankTransactionID"] = transaction["BankTransactionID"].lower()
	type_ = transaction.get("Type")
	if type_ in TRANSFER_TYPES:
		raise ElementError(TRANSFERS_ELSEWHERE)
	if existing and type_ != existing["Type"]:
		raise ElementError("The Type of a Bank Transaction cannot be changed.")
	if transaction["Status"] != "AUTHORISED":
		raise ElementError(f"{LABEL} not of valid status for {'modification' if existing else 'creation'}")
	kind = prepayments.kind_of(type_)
	bank = _bank_account(org, transaction.get("BankAccount"))
	transaction["BankAccount"] = {key: bank[key] for key in ("AccountID", "Code", "Name")}
	if not existing or "Contact" in data:
		transaction["Contact"] = contacts.reference(contacts.of_document(org, data.get("Contact")))
	documents.set_dates(org, transaction)
	currency = transaction.get("CurrencyCode") or bank["CurrencyCode"]
	if currency != bank["CurrencyCode"] and kind is not OVERPAYMENT:
		raise ElementError(
			f"The currency {currency} is not the currency of bank account {bank['Code']} ({bank['CurrencyCode']})."
		)
	transaction["CurrencyCode"] = currency
	lines.set_currency(org, transaction)
	if kind and any(line.get("ItemCode") for line in transaction.get("LineItems") or []):
		raise ElementError(ITEMS_ON_MONEY_ONLY)
	control = _code_to_control_account(org, transaction) if kind is OVERPAYMENT else None
	# Lines kept from before were stored at their own precision; re-checking them at 2 dp would break them.
	lines.set_lines_and_totals(
		org,
		transaction,
		LABEL,
		unitdp if "LineItems" in data else 4,
		data,
		control and control["SystemAccount"],
	)
	transaction["IsReconciled"] = bool(transaction.get("IsReconciled"))
	transaction["UpdatedDateUTC"] = org.now()
	if kind:
		transaction[kind.id_key] = prepayments.create(org, kind, transaction)[kind.id_key]
	org.bank_transactions[transaction["BankTransactionID"]] = transaction
	return copy.deepcopy(transaction)


def _bank_account(org: Organisation, ref) -> dict:
	account = account_of(org, ref)
	if account is None:
		raise ElementError("The bank account could not be found.")
	if account["Type"] != "BANK":
		raise ElementError(f"Account code '{account['Code']}' is not a bank account.")
	return account


def _code_to_control_account(org: Organisation, transaction: dict) -> dict:
	"""An overpayment's one line, as Xero codes it: to receivables (receive) or payables (spend), no tax."""
	if len(transaction.get("LineItems") or []) != 1:
		raise ElementError(ONE_LINE)
	control = system_account(org, "DEBTORS" if transaction["Type"] == OVERPAYMENT.types[0] else "CREDITORS")
	transaction["LineAmountTypes"] = "NoTax"
	transaction["LineItems"] = [
		{**transaction["LineItems"][0], "AccountCode": control["Code"], "TaxType": "NONE"}
	]
	return control


# --- endpoints -------------------------------------------------------------------------------------------


def _save(call: ApiCall, elements: list[dict], create_only: bool) -> list[ElementResult]:
	return save(call.org, elements, create_only=create_only, unitdp=call.unitdp)


ROUTES = standard_routes(
	"BankTransactions",
	"BankTransactionID",
	SCOPE,
	documents.list_with_lines("BankTransactions", "bank_transactions", "BankTransactionID"),
	_save,
	by_id("bank_transactions"),
	view=documents.view,
)

FAMILY = Family(("bank_transactions",), ROUTES)
