"""Invoices and credit notes (one set of rules for both kinds), and the allocations to invoices of what
holds credit: credit notes here, prepayments and overpayments (prepayments.py).

Status transitions (DELETED only from DRAFT/SUBMITTED, VOIDED only from AUTHORISED), nothing edits a
document with payments or allocations, a unique ACCREC InvoiceNumber, numbers given to sales documents,
PAID when nothing is outstanding; allocations between AUTHORISED documents of one contact and of matching
sides, within the remaining credit and the amount due, and their removal. Lines, totals and currency:
lines.py.
"""

import copy
from dataclasses import dataclass
from datetime import date

from ..webhooks import EventSource
from ..xerojson import date_string, ms_date, parse_date
from . import contacts, lines
from .base import ZERO, ElementError, ElementResult, Organisation, money, save_each, to_decimal
from .endpoints import (
	NOT_FOUND,
	ApiCall,
	ApiError,
	Family,
	Handler,
	Route,
	bad_request,
	batch_answer,
	envelope,
	page_of,
	select,
	standard_routes,
)

SCOPE = "accounting.invoices"
DUPLICATE_INVOICE_NUMBER = "Invoice # must be unique."
HAS_PAYMENT_OR_ALLOCATION = (
	"This document cannot be edited as it has a payment or credit note allocated to it"
)
PAYMENT_EXCEEDS_DUE = "Payment amount exceeds the amount outstanding on this document"

STATUS_TRANSITIONS = {
	None: {"DRAFT", "SUBMITTED", "AUTHORISED"},
	"DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
	"SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
	"AUTHORISED": {"AUTHORISED", "VOIDED"},
	"PAID": set(),
	"VOIDED": set(),
	"DELETED": set(),
}
# Keys a client may not set: Xero computes them.
COMPUTED_DOCUMENT_KEYS = {
	"SubTotal",
	"TotalTax",
	"AmountDue",
	"AmountPaid",
	"AmountCredited",
	"RemainingCredit",
	"Payments",
	"CreditNotes",
	"Prepayments",
	"Overpayments",
	"Allocations",
	"UpdatedDateUTC",
	"HasErrors",
	"StatusAttributeString",
	"ValidationErrors",
	"Warnings",
	"DateString",
	"DueDateString",
	"FullyPaidOnDate",
	"IsDiscounted",
	"HasAttachments",
}


@dataclass(frozen=True)
class DocumentKind:
	"""What differs between the documents payments and allocations settle: invoices and credit notes here,
	prepayments and overpayments in prepayments.py. The rules are shared."""

	collection: str
	id_key: str
	number_key: str | None  # None: Xero numbers none of this kind
	label: str
	reference_key: str  # how a payment or an allocation names one: {"Invoice": {...}}
	types: tuple[str, str]  # (sales type, purchase type)
	number_prefix: str | None
	outstanding_key: str  # what payments and allocations reduce
	# Its path below /api.xro/2.0; also the key of an invoice's list of those allocated to it.
	resource: str
	announced: EventSource | None = None  # Xero sends webhook events for it
	paid_key: str | None = "AmountPaid"  # where Xero sums the payments of one (if it does)


INVOICE = DocumentKind(
	"invoices",
	"InvoiceID",
	"InvoiceNumber",
	"Invoice",
	"Invoice",
	("ACCREC", "ACCPAY"),
	"INV-",
	"AmountDue",
	"Invoices",
	EventSource("InvoiceID", "INVOICE", "Invoices"),
)
CREDIT_NOTE = DocumentKind(
	"credit_notes",
	"CreditNoteID",
	"CreditNoteNumber",
	"Credit Note",
	"CreditNote",
	("ACCRECCREDIT", "ACCPAYCREDIT"),
	"CN-",
	"RemainingCredit",
	"CreditNotes",
	EventSource("CreditNoteID", "CREDITNOTE", "CreditNotes"),
)
KINDS = (INVOICE, CREDIT_NOTE)


def save(org: Organisation, kind: DocumentKind, elements, *, create_only: bool, unitdp: int = 2):
	return save_each(elements, lambda element: _save_one(org, kind, element, create_only, unitdp))


def find(org: Organisation, kind: DocumentKind, id_or_number: str | None) -> dict | None:
	if not id_or_number:
		return None
	documents = getattr(org, kind.collection)
	found = documents.get(str(id_or_number).lower())
	if found is None:
		found = next(
			(
				d
				for d in documents.values()
				if kind.number_key and d.get(kind.number_key) == id_or_number and d["Status"] != "DELETED"
			),
			None,
		)
	return found


def _save_one(org: Organisation, kind: DocumentKind, data: dict, create_only: bool, unitdp: int) -> dict:
	documents = getattr(org, kind.collection)
	existing = None
	if data.get(kind.id_key):
		existing = documents.get(str(data[kind.id_key]).lower())
		if existing is None or create_only:
			raise ElementError(f"{kind.label} could not be found")
	new_status = data.get("Status") or (existing["Status"] if existing else "DRAFT")
	if existing:
		_check_transition(kind, existing, new_status)
		if new_status in ("VOIDED", "DELETED"):
			return _close(org, kind, existing, new_status)
	elif new_status not in STATUS_TRANSITIONS[None]:
		raise ElementError(f"{kind.label} not of valid status for creation")

	document = copy.deepcopy(existing) if existing else _new_document(org, kind)
	document |= {key: value for key, value in data.items() if key not in COMPUTED_DOCUMENT_KEYS}
	document[kind.id_key] = document[kind.id_key].lower()
	document["Status"] = new_status
	if document.get("Type") not in kind.types:
		raise ElementError(f"{kind.label} Type must be one of {', '.join(kind.types)}")
	sales = document["Type"] == kind.types[0]
	if not existing or "Contact" in data:
		document["Contact"] = contacts.reference(contacts.of_document(org, data.get("Contact")))
	set_dates(org, document)
	_set_number(org, kind, document, sales)
	lines.set_currency(org, document)
	# Lines kept from before were stored at their own precision; re-checking them at 2 dp would break them.
	lines.set_lines_and_totals(org, document, kind.label, unitdp if "LineItems" in data else 4, data)
	paid = document.get("AmountPaid", ZERO) + document.get("AmountCredited", ZERO)
	document[kind.outstanding_key] = document["Total"] - paid
	document["UpdatedDateUTC"] = org.now()

	contact = org.contacts[document["Contact"]["ContactID"]]
	# The spec: IsCustomer is set by accounts receivable documents, IsSupplier by accounts payable ones
	# (a sales credit note is receivable: its contact is a customer, not a supplier).
	role = "IsCustomer" if document["Type"] in ("ACCREC", "ACCRECCREDIT") else "IsSupplier"
	if document["Status"] != "DRAFT" and not contact[role]:
		contact[role] = True
		contact["UpdatedDateUTC"] = document["UpdatedDateUTC"]
	documents[document[kind.id_key]] = document
	org.announce(kind.announced, document[kind.id_key], created=existing is None)
	return copy.deepcopy(document)


def _new_document(org: Organisation, kind: DocumentKind) -> dict:
	return {
		kind.id_key: org.new_id(),
		"LineAmountTypes": "Exclusive",
		"Reference": "",
		"HasErrors": False,
		"IsDiscounted": False,
		"HasAttachments": False,
		"SentToContact": False,
		"Payments": [],
		"AmountPaid": ZERO,
		**(
			{"AmountCredited": ZERO, "CreditNotes": [], "Prepayments": [], "Overpayments": []}
			if kind is INVOICE
			else {"Allocations": []}
		),
	}


def _check_transition(kind: DocumentKind, existing: dict, new_status: str) -> None:
	settled = existing.get("AmountPaid", ZERO) + existing.get("AmountCredited", ZERO)
	if kind is CREDIT_NOTE:
		settled += sum((a["Amount"] for a in existing.get("Allocations", [])), ZERO)
	if settled > 0:
		raise ElementError(HAS_PAYMENT_OR_ALLOCATION)
	if new_status not in STATUS_TRANSITIONS[existing["Status"]]:
		raise ElementError(f"{kind.label} not of valid status for modification")


def _close(org: Organisation, kind: DocumentKind, document: dict, status: str) -> dict:
	document["Status"] = status
	document["UpdatedDateUTC"] = org.now()
	document[kind.outstanding_key] = ZERO
	org.announce(kind.announced, document[kind.id_key], created=False)
	return copy.deepcopy(document)


def set_dates(org: Organisation, document: dict) -> None:
	"""Date (today if omitted) and DueDate, with their DateStrings."""
	for key in ("Date", "DueDate"):
		value = document.get(key)
		if value is None and key == "Date":
			day = org.today()
		elif value is None:
			document.pop(f"{key}String", None)
			continue
		else:
			try:
				day = parse_date(value)
			except ValueError:
				raise ElementError(f"The {key} '{value}' is not a valid date.")
		document[key] = ms_date(day)
		document[f"{key}String"] = date_string(day)


def _set_number(org: Organisation, kind: DocumentKind, document: dict, sales: bool) -> None:
	number = document.get(kind.number_key)
	if sales and not number:
		document[kind.number_key] = org.next_number(kind.number_prefix)
	elif sales and kind is INVOICE:
		clash = find(org, kind, number)
		if clash and clash[kind.id_key] != document[kind.id_key]:
			raise ElementError(DUPLICATE_INVOICE_NUMBER)
	document.setdefault(kind.number_key, "")


# --- what payments and allocations change ----------------------------------------------------------------


def summary(kind: DocumentKind, document: dict) -> dict:
	"""The document as a payment or an allocation shows it."""
	return {
		"Type": document["Type"],
		kind.id_key: document[kind.id_key],
		**({kind.number_key: document[kind.number_key]} if kind.number_key in document else {}),
		"Contact": {"ContactID": document["Contact"]["ContactID"], "Name": document["Contact"]["Name"]},
		"CurrencyCode": document["CurrencyCode"],
	}


def day_of(org: Organisation, data: dict) -> date:
	"""The Date of a payment or an allocation; today if omitted."""
	try:
		return parse_date(data["Date"]) if data.get("Date") else org.today()
	except ValueError:
		raise ElementError(f"The Date '{data['Date']}' is not a valid date.")


def settle(org: Organisation, kind: DocumentKind, document: dict, day: date) -> None:
	"""PAID when nothing is outstanding; back to AUTHORISED when a payment or an allocation is removed."""
	if document[kind.outstanding_key] == 0 and document["Total"] > 0:
		document["Status"] = "PAID"
		if kind in KINDS:  # Xero dates the full payment of invoices and credit notes only
			document["FullyPaidOnDate"] = ms_date(day)
	elif document["Status"] == "PAID":
		document["Status"] = "AUTHORISED"
		document.pop("FullyPaidOnDate", None)
	document["UpdatedDateUTC"] = org.now()


def allocate(
	org: Organisation, kind: DocumentKind, credit: dict, elements: list[dict]
) -> list[ElementResult]:
	"""Allocate credit (a credit note, prepayment or overpayment: of kind) to invoices."""
	return save_each(elements, lambda element: _allocate_one(org, kind, credit, element))


def _allocate_one(org: Organisation, kind: DocumentKind, credit: dict, data: dict) -> dict:
	ref = data.get("Invoice") or {}
	invoice = find(org, INVOICE, ref.get("InvoiceID") or ref.get("InvoiceNumber"))
	if invoice is None:
		raise ElementError("Invoice could not be found")
	if credit["Status"] != "AUTHORISED" or invoice["Status"] != "AUTHORISED":
		raise ElementError("Allocations can only be made between Authorised documents")
	label = kind.label.lower()
	expected_type = dict(zip(kind.types, INVOICE.types, strict=True))[credit["Type"]]
	if invoice["Type"] != expected_type:
		raise ElementError(f"A {credit['Type']} {label} can only be allocated to an {expected_type}")
	if invoice["Contact"]["ContactID"] != credit["Contact"]["ContactID"]:
		raise ElementError(f"The {label} and the invoice must belong to the same contact")
	amount = money(to_decimal(data.get("Amount", 0), "Amount"))
	if amount <= 0:
		raise ElementError("Allocation amount must be greater than zero")
	if amount > credit["RemainingCredit"]:
		raise ElementError(f"The amount allocated exceeds the remaining credit on the {label}")
	if amount > invoice["AmountDue"]:
		raise ElementError(PAYMENT_EXCEEDS_DUE)
	day = day_of(org, data)
	allocation = {
		"AllocationID": org.new_id(),
		"Amount": amount,
		"Date": ms_date(day),
		"Invoice": summary(INVOICE, invoice),
		kind.reference_key: summary(kind, credit),
		"IsDeleted": False,
	}
	invoice["AmountCredited"] += amount
	invoice["AmountDue"] -= amount
	invoice[kind.resource].append(_applied(kind, credit, amount))
	credit["RemainingCredit"] -= amount
	credit["Allocations"].append({k: v for k, v in allocation.items() if k != kind.reference_key})
	_settle_both(org, kind, credit, invoice, day)
	org.allocations[allocation["AllocationID"]] = allocation
	return copy.deepcopy(allocation)


def unallocate(org: Organisation, kind: DocumentKind, credit: dict, allocation: dict) -> dict:
	"""Delete an allocation of credit (of kind): its amount is credit again and due on the invoice again."""
	if allocation["IsDeleted"]:
		raise ElementError("This allocation has already been deleted")
	amount = allocation["Amount"]
	invoice = org.invoices[allocation["Invoice"]["InvoiceID"]]
	invoice["AmountCredited"] -= amount
	invoice["AmountDue"] += amount
	invoice[kind.resource].remove(_applied(kind, credit, amount))
	credit["RemainingCredit"] += amount
	credit["Allocations"] = [
		a for a in credit["Allocations"] if a["AllocationID"] != allocation["AllocationID"]
	]
	_settle_both(org, kind, credit, invoice, org.today())
	allocation["IsDeleted"] = True
	return copy.deepcopy(allocation)


def _applied(kind: DocumentKind, credit: dict, amount) -> dict:
	"""How an invoice lists credit allocated to it (in invoice[kind.resource])."""
	number = {kind.number_key: credit[kind.number_key]} if kind.number_key in credit else {}
	return {kind.id_key: credit[kind.id_key], **number, "AppliedAmount": amount}


def _settle_both(org: Organisation, kind: DocumentKind, credit: dict, invoice: dict, day: date) -> None:
	settle(org, INVOICE, invoice, day)
	settle(org, kind, credit, day)
	org.announce(INVOICE.announced, invoice["InvoiceID"], created=False)
	if kind.announced:
		org.announce(kind.announced, credit[kind.id_key], created=False)


# --- endpoints -------------------------------------------------------------------------------------------


def view(call: ApiCall, document: dict) -> dict:
	"""A document with lines as this call is answered."""
	return lines.view(document, call.unitdp)


def list_with_lines(
	resource: str, collection: str, id_key: str, number_key: str | None = None, *, lines_when_paged=False
) -> Handler:
	"""GET /<resource> of documents with lines. lines_when_paged: unpaged lists come without line items, as
	Xero answers invoices and credit notes (page to get them)."""

	def handler(call: ApiCall):
		items = select(call, getattr(call.org, collection).values(), id_key=id_key, number_key=number_key)
		items, pagination = page_of(call, items)
		views = [view(call, d) for d in items]
		if lines_when_paged and pagination is None:
			for answered in views:
				answered.pop("LineItems", None)
		return 200, envelope(call, resource, views, pagination)

	return handler


def allocation_routes(kind: DocumentKind, scope: str) -> tuple[Route, ...]:
	"""PUT /<resource>/{id}/Allocations (a batch) and DELETE /<resource>/{id}/Allocations/{AllocationID}."""

	def credit_of(call: ApiCall) -> dict:
		credit = getattr(call.org, kind.collection).get(call.params[kind.id_key].lower())
		if credit is None:
			raise ApiError(404, NOT_FOUND)
		return credit

	def allocate_handler(call: ApiCall):
		results = allocate(call.org, kind, credit_of(call), call.elements("Allocations"))
		return batch_answer(call, "Allocations", results, "HasValidationErrors")

	def delete_handler(call: ApiCall):
		credit = credit_of(call)
		allocation = call.org.allocations.get(call.params["AllocationID"].lower())
		if (
			allocation is None
			or allocation.get(kind.reference_key, {}).get(kind.id_key) != credit[kind.id_key]
		):
			raise ApiError(404, NOT_FOUND)
		try:
			return 200, unallocate(call.org, kind, credit, allocation)
		except ElementError as error:
			raise bad_request(str(error), 10, "ValidationException")

	template = f"/{kind.resource}/{{{kind.id_key}}}/Allocations"
	return (
		Route("PUT", template, allocate_handler, scope, writes=True),
		Route("DELETE", template + "/{AllocationID}", delete_handler, scope, writes=True),
	)


def _routes(kind: DocumentKind) -> tuple[Route, ...]:
	def save_batch(call: ApiCall, elements: list[dict], create_only: bool) -> list[ElementResult]:
		return save(call.org, kind, elements, create_only=create_only, unitdp=call.unitdp)

	return standard_routes(
		kind.resource,
		kind.id_key,
		SCOPE,
		list_with_lines(kind.resource, kind.collection, kind.id_key, kind.number_key, lines_when_paged=True),
		save_batch,
		lambda org, key: find(org, kind, key),
		numbered_writes=True,
		error_flag="HasErrors",
		view=view,
	)


ROUTES = (*_routes(INVOICE), *_routes(CREDIT_NOTE), *allocation_routes(CREDIT_NOTE, SCOPE))

FAMILY = Family(
	("invoices", "credit_notes", "allocations"), ROUTES, announces=tuple(kind.announced for kind in KINDS)
)
