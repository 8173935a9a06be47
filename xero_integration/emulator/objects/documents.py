"""Invoices and credit notes (one set of rules for both kinds) and credit-note allocations.

Status transitions (DELETED only from DRAFT/SUBMITTED, VOIDED only from AUTHORISED), nothing edits a
document with payments or allocations, a unique ACCREC InvoiceNumber, numbers given to sales documents,
PAID when nothing is outstanding. Lines, totals and currency: lines.py.
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
	Route,
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
	"""What differs between invoices and credit notes; the rules are shared."""

	collection: str
	id_key: str
	number_key: str
	label: str
	reference_key: str  # how a payment or an allocation names one: {"Invoice": {...}}
	types: tuple[str, str]  # (sales type, purchase type)
	number_prefix: str
	outstanding_key: str  # what payments and allocations reduce
	announced: EventSource

	@property
	def resource(self) -> str:
		return self.announced.resource


INVOICE = DocumentKind(
	"invoices",
	"InvoiceID",
	"InvoiceNumber",
	"Invoice",
	"Invoice",
	("ACCREC", "ACCPAY"),
	"INV-",
	"AmountDue",
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
	EventSource("CreditNoteID", "CREDITNOTE", "CreditNotes"),
)
KINDS = (INVOICE, CREDIT_NOTE)


def save(org: Organisation, kind: DocumentKind, elements, *, create_only: bool, unitdp: int = 2):
	return save_each(elements, lambda element: _save_one(org, kind, element, create_only, unitdp))


def find(org: Organisation, kind: DocumentKind, id_or_number: str) -> dict | None:
	documents = getattr(org, kind.collection)
	found = documents.get(str(id_or_number).lower())
	if found is None:
		found = next(
			(
				d
				for d in documents.values()
				if d.get(kind.number_key) == id_or_number and d["Status"] != "DELETED"
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
		contact = contacts.of_document(org, data.get("Contact"))
		document["Contact"] = {
			"ContactID": contact["ContactID"],
			"Name": contact["Name"],
			**({"ContactNumber": contact["ContactNumber"]} if contact.get("ContactNumber") else {}),
			"ContactStatus": contact["ContactStatus"],
			"HasValidationErrors": False,
		}
	_set_dates(org, document)
	_set_number(org, kind, document, sales)
	lines.set_currency(org, document)
	# Lines kept from before were stored at their own precision; re-checking them at 2 dp would break them.
	lines.set_lines_and_totals(org, document, kind.label, unitdp if "LineItems" in data else 4, data)
	paid = document.get("AmountPaid", ZERO) + document.get("AmountCredited", ZERO)
	document[kind.outstanding_key] = document["Total"] - paid
	document["UpdatedDateUTC"] = org.now()

	contact = org.contacts[document["Contact"]["ContactID"]]
	role = "IsCustomer" if document["Type"] in ("ACCREC", "ACCPAYCREDIT") else "IsSupplier"
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
		**({"AmountCredited": ZERO, "CreditNotes": []} if kind is INVOICE else {"Allocations": []}),
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


def _set_dates(org: Organisation, document: dict) -> None:
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
		kind.number_key: document[kind.number_key],
		"Contact": {"ContactID": document["Contact"]["ContactID"], "Name": document["Contact"]["Name"]},
		"CurrencyCode": document["CurrencyCode"],
	}


def settle(org: Organisation, kind: DocumentKind, document: dict, day: date) -> None:
	"""PAID when nothing is outstanding; back to AUTHORISED when a payment is removed."""
	if document[kind.outstanding_key] == 0 and document["Total"] > 0:
		document["Status"] = "PAID"
		document["FullyPaidOnDate"] = ms_date(day)
	elif document["Status"] == "PAID":
		document["Status"] = "AUTHORISED"
		document.pop("FullyPaidOnDate", None)
	document["UpdatedDateUTC"] = org.now()


def allocate(org: Organisation, credit_note: dict, elements: list[dict]) -> list[ElementResult]:
	return save_each(elements, lambda element: _allocate_one(org, credit_note, element))


def _allocate_one(org: Organisation, credit_note: dict, data: dict) -> dict:
	ref = data.get("Invoice") or {}
	invoice = find(org, INVOICE, ref.get("InvoiceID") or ref.get("InvoiceNumber") or "")
	if invoice is None:
		raise ElementError("Invoice could not be found")
	if credit_note["Status"] != "AUTHORISED" or invoice["Status"] != "AUTHORISED":
		raise ElementError("Allocations can only be made between Authorised documents")
	expected_type = {"ACCRECCREDIT": "ACCREC", "ACCPAYCREDIT": "ACCPAY"}[credit_note["Type"]]
	if invoice["Type"] != expected_type:
		raise ElementError(f"A {credit_note['Type']} credit note can only be allocated to an {expected_type}")
	if invoice["Contact"]["ContactID"] != credit_note["Contact"]["ContactID"]:
		raise ElementError("The credit note and the invoice must belong to the same contact")
	amount = money(to_decimal(data.get("Amount", 0), "Amount"))
	if amount <= 0:
		raise ElementError("Allocation amount must be greater than zero")
	if amount > credit_note["RemainingCredit"]:
		raise ElementError("The amount allocated exceeds the remaining credit on the credit note")
	if amount > invoice["AmountDue"]:
		raise ElementError(PAYMENT_EXCEEDS_DUE)
	day = parse_date(data["Date"]) if data.get("Date") else org.today()
	allocation = {
		"AllocationID": org.new_id(),
		"Amount": amount,
		"Date": ms_date(day),
		"Invoice": summary(INVOICE, invoice),
		"CreditNote": summary(CREDIT_NOTE, credit_note),
		"IsDeleted": False,
	}
	invoice["AmountCredited"] += amount
	invoice["AmountDue"] -= amount
	invoice["CreditNotes"].append(
		{
			"CreditNoteID": credit_note["CreditNoteID"],
			"CreditNoteNumber": credit_note["CreditNoteNumber"],
			"AppliedAmount": amount,
		}
	)
	credit_note["RemainingCredit"] -= amount
	credit_note["Allocations"].append({k: v for k, v in allocation.items() if k != "CreditNote"})
	settle(org, INVOICE, invoice, day)
	settle(org, CREDIT_NOTE, credit_note, day)
	org.allocations[allocation["AllocationID"]] = allocation
	org.announce(INVOICE.announced, invoice["InvoiceID"], created=False)
	org.announce(CREDIT_NOTE.announced, credit_note["CreditNoteID"], created=False)
	return copy.deepcopy(allocation)


# --- endpoints -------------------------------------------------------------------------------------------


def _view(call: ApiCall, document: dict) -> dict:
	return lines.view(document, call.unitdp)


def _routes(kind: DocumentKind) -> tuple[Route, ...]:
	def list_documents(call: ApiCall):
		items = select(
			call, getattr(call.org, kind.collection).values(), id_key=kind.id_key, number_key=kind.number_key
		)
		items, pagination = page_of(call, items)
		views = [_view(call, d) for d in items]
		if pagination is None:
			# Unpaged lists come without line items, as in Xero: page to get them.
			for view in views:
				view.pop("LineItems", None)
		return 200, envelope(call, kind.resource, views, pagination)

	def save_batch(call: ApiCall, elements: list[dict], create_only: bool) -> list[ElementResult]:
		return save(call.org, kind, elements, create_only=create_only, unitdp=call.unitdp)

	return standard_routes(
		kind.resource,
		kind.id_key,
		SCOPE,
		list_documents,
		save_batch,
		lambda org, key: find(org, kind, key),
		numbered_writes=True,
		error_flag="HasErrors",
		view=_view,
	)


def allocate_credit_note(call: ApiCall):
	credit_note = call.org.credit_notes.get(call.params["CreditNoteID"].lower())
	if credit_note is None:
		raise ApiError(404, NOT_FOUND)
	results = allocate(call.org, credit_note, call.elements("Allocations"))
	return batch_answer(call, "Allocations", results, "HasValidationErrors")


ROUTES = (
	*_routes(INVOICE),
	*_routes(CREDIT_NOTE),
	Route("PUT", "/CreditNotes/{CreditNoteID}/Allocations", allocate_credit_note, SCOPE, writes=True),
)

FAMILY = Family(
	("invoices", "credit_notes", "allocations"), ROUTES, announces=tuple(kind.announced for kind in KINDS)
)
