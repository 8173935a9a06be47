"""Contacts: a name unique among active contacts, a unique ContactNumber, archiving, and the contact a new
document names (found by id, number or name, or created by name, as Xero does)."""

import copy
import re

from ..webhooks import EventSource
from .base import ElementError, ElementResult, Organisation, save_each
from .endpoints import ApiCall, Family, by_id_or, envelope, page_of, select, standard_routes

SCOPE = "accounting.contacts"
ANNOUNCED = EventSource("ContactID", "CONTACT", "Contacts")

# Xero's own words (README lists which messages are approximations).
DUPLICATE_CONTACT_NAME = (
	"The contact name {name} is already assigned to another contact. "
	"The contact name must be unique across all active contacts."
)
DUPLICATE_CONTACT_NUMBER = "The contact number {number} is already assigned to another contact."
ARCHIVED_CONTACT = "Unable to assign an Archived contact."
# Keys a client may not set: Xero computes them.
COMPUTED_CONTACT_KEYS = {
	"UpdatedDateUTC",
	"IsSupplier",
	"IsCustomer",
	"HasValidationErrors",
	"StatusAttributeString",
	"ValidationErrors",
	"Warnings",
	"HasAttachments",
	"Balances",
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def save(org: Organisation, elements: list[dict], *, create_only: bool) -> list[ElementResult]:
	return save_each(elements, lambda element: _save_one(org, element, create_only))


def _save_one(org: Organisation, data: dict, create_only: bool) -> dict:
	existing = None
	if data.get("ContactID"):
		existing = org.contacts.get(str(data["ContactID"]).lower())
		if existing is None or create_only:
			raise ElementError(f"The contact with ID {data['ContactID']} could not be found.")
	elif not create_only and data.get("ContactNumber"):
		existing = by_number(org, data["ContactNumber"])
	contact = copy.deepcopy(existing) if existing else _new_contact(org)
	contact |= {key: value for key, value in data.items() if key not in COMPUTED_CONTACT_KEYS}
	contact["ContactID"] = contact["ContactID"].lower()
	_check(org, contact)
	contact["UpdatedDateUTC"] = org.now()
	org.contacts[contact["ContactID"]] = contact
	org.announce(ANNOUNCED, contact["ContactID"], created=existing is None)
	return copy.deepcopy(contact)


def _new_contact(org: Organisation) -> dict:
	return {
		"ContactID": org.new_id(),
		"ContactStatus": "ACTIVE",
		"Name": "",
		"Addresses": [],
		"Phones": [],
		"ContactGroups": [],
		"ContactPersons": [],
		"IsSupplier": False,
		"IsCustomer": False,
		"HasAttachments": False,
		"HasValidationErrors": False,
	}


def _check(org: Organisation, contact: dict) -> None:
	name = (contact.get("Name") or "").strip()
	if not name:
		raise ElementError("Contact Name cannot be empty.")
	if len(name) > 255:
		raise ElementError("The Contact Name must not be more than 255 characters.")
	if contact.get("ContactStatus") not in ("ACTIVE", "ARCHIVED"):
		raise ElementError("The ContactStatus must be ACTIVE or ARCHIVED.")
	if contact["ContactStatus"] == "ACTIVE":
		clash = _active_by_name(org, name)
		if clash and clash["ContactID"] != contact["ContactID"]:
			raise ElementError(DUPLICATE_CONTACT_NAME.format(name=name))
	number = contact.get("ContactNumber")
	if number:
		if len(number) > 50:
			raise ElementError("The Contact Number must not be more than 50 characters.")
		clash = by_number(org, number)
		if clash and clash["ContactID"] != contact["ContactID"]:
			raise ElementError(DUPLICATE_CONTACT_NUMBER.format(number=number))
	email = contact.get("EmailAddress")
	if email and not EMAIL.match(email):
		raise ElementError("Email address must be valid.")


def _active_by_name(org: Organisation, name: str) -> dict | None:
	wanted = name.strip().lower()
	return next(
		(
			c
			for c in org.contacts.values()
			if c["ContactStatus"] == "ACTIVE" and c["Name"].strip().lower() == wanted
		),
		None,
	)


def by_number(org: Organisation, number: str) -> dict | None:
	return next((c for c in org.contacts.values() if c.get("ContactNumber") == number), None)


def of_document(org: Organisation, ref) -> dict:
	"""The contact of a new document: by ContactID, ContactNumber, or Name (Xero creates it if new)."""
	if not isinstance(ref, dict) or not (ref.get("ContactID") or ref.get("ContactNumber") or ref.get("Name")):
		raise ElementError("A Contact must be specified for this type of transaction")
	if ref.get("ContactID"):
		contact = org.contacts.get(str(ref["ContactID"]).lower())
	elif ref.get("ContactNumber"):
		contact = by_number(org, ref["ContactNumber"])
	else:
		contact = _active_by_name(org, ref["Name"]) or next(
			(c for c in org.contacts.values() if c["Name"].strip().lower() == ref["Name"].strip().lower()),
			None,
		)
		if contact is None:
			contact = org.contacts[_save_one(org, {"Name": ref["Name"]}, create_only=True)["ContactID"]]
	if contact is None:
		raise ElementError("The contact could not be found.")
	if contact["ContactStatus"] == "ARCHIVED":
		raise ElementError(ARCHIVED_CONTACT)
	return contact


def reference(contact: dict) -> dict:
	"""The contact as a document shows it."""
	return {
		"ContactID": contact["ContactID"],
		"Name": contact["Name"],
		**({"ContactNumber": contact["ContactNumber"]} if contact.get("ContactNumber") else {}),
		"ContactStatus": contact["ContactStatus"],
		"HasValidationErrors": False,
	}


# --- endpoints -------------------------------------------------------------------------------------------


def list_contacts(call: ApiCall):
	items = select(
		call,
		call.org.contacts.values(),
		id_key="ContactID",
		archived=lambda c: c["ContactStatus"] == "ARCHIVED",
	)
	term = call.args.get("searchTerm", "").lower()
	if term:
		fields = ("Name", "FirstName", "LastName", "ContactNumber", "CompanyNumber", "EmailAddress")
		items = [c for c in items if any(term in str(c.get(f) or "").lower() for f in fields)]
	items, pagination = page_of(call, items)
	return 200, envelope(call, "Contacts", items, pagination)


def _save(call: ApiCall, elements: list[dict], create_only: bool) -> list[ElementResult]:
	return save(call.org, elements, create_only=create_only)


ROUTES = standard_routes(
	"Contacts", "ContactID", SCOPE, list_contacts, _save, by_id_or("contacts", by_number)
)

FAMILY = Family(("contacts",), ROUTES, announces=(ANNOUNCED,))
