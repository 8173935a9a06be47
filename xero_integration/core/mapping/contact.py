"""Customer / Supplier <-> Xero Contact."""

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping

from xero_integration.core.mapping import content_hash
from xero_integration.core.mapping.context import MappingError, Problems

NAME_MAX = 255
CONTACT_NUMBER_MAX = 50
EMAIL_MAX = 255
TAX_NUMBER_MAX = 50
PHONE_MAX = 50
# Xero keeps one postal and one street address per contact.
POSTAL, STREET = "POBOX", "STREET"
ADDRESS_LIMITS = {
	"AddressLine1": 500,
	"AddressLine2": 500,
	"City": 255,
	"Region": 255,
	"PostalCode": 50,
	"Country": 50,
}

__all__ = [
	"contact_match",
	"contact_payload",
	"contact_to_erpnext",
	"content_hash",
	"disambiguated_name",
	"normalise_name",
]


def _clean(text) -> str:
	return " ".join(str(text or "").split())


def normalise_name(name) -> str:
	"""A party name reduced for matching: "ACME  Ltd." and "Acme Ltd" compare equal."""
	text = unicodedata.normalize("NFKC", str(name or "")).casefold().replace("&", " and ")
	text = re.sub(r"[^\w\s]", " ", text)
	return " ".join(text.split())


def _contact_number(name: str) -> str:
	"""ContactNumber is at most 50 characters; a longer doc name keeps a readable prefix and a hash
	of the whole name, so it stays unique and the same on every run."""
	if len(name) <= CONTACT_NUMBER_MAX:
		return name
	digest = hashlib.sha256(name.encode()).hexdigest()[:10]
	return f"{name[: CONTACT_NUMBER_MAX - len(digest) - 1]}~{digest}"


def disambiguated_name(name, contact_number) -> str:
	"""A visible, deterministic variant of a name already taken by another active Xero contact."""
	suffix = f" ({_contact_number(str(contact_number))})"
	base = _clean(name)
	if base.endswith(suffix):
		return base[:NAME_MAX]
	return base[: NAME_MAX - len(suffix)].rstrip() + suffix


def _address(address: Mapping) -> dict:
	fields = {
		"AddressLine1": address.get("address_line1"),
		"AddressLine2": address.get("address_line2"),
		"City": address.get("city"),
		"Region": address.get("state"),
		"PostalCode": address.get("pincode"),
		"Country": address.get("country"),
	}
	result = {
		"AddressType": POSTAL if address.get("address_type") == "Billing" else STREET,
	}
	for key, value in fields.items():
		if _clean(value):
			result[key] = _clean(value)[: ADDRESS_LIMITS[key]]
	return result


def contact_payload(
	party: Mapping,
	*,
	is_customer: bool,
	is_supplier: bool,
	contact_number: str,
	contact_id: str | None = None,
	email=None,
	phones: Iterable[tuple[str, str]] = (),
	addresses: Iterable[Mapping] = (),
) -> dict:
	"""A Xero Contact for an ERPNext Customer or Supplier.

	phones are (PhoneType, number) pairs, e.g. ("MOBILE", "+64 21 555 123"); addresses are ERPNext
	Address dicts, "Billing" ones becoming Xero's postal address, others the street address.
	IsCustomer / IsSupplier are not sent: Xero sets them itself from the documents raised.
	"""
	if not (is_customer or is_supplier):
		raise ValueError("A contact is mapped for a customer, a supplier, or both.")
	problems = Problems()
	name_field = "customer_name" if is_customer else "supplier_name"
	name = _clean(party.get(name_field) or party.get("name"))
	if not name:
		problems.add(f"{name_field.replace('_', ' ').capitalize()} is empty for {party.get('name')!r}.")
	payload: dict = {"Name": name[:NAME_MAX], "ContactNumber": _contact_number(str(contact_number))}
	if contact_id:
		payload["ContactID"] = contact_id
	if _clean(email):
		if len(_clean(email)) > EMAIL_MAX:
			problems.add(f"Email address {email!r} is longer than {EMAIL_MAX} characters.")
		payload["EmailAddress"] = _clean(email)
	phone_rows = []
	for phone_type, number in phones:
		if not _clean(number):
			continue
		if len(_clean(number)) > PHONE_MAX:
			problems.add(f"Phone number {number!r} is longer than {PHONE_MAX} characters.")
		phone_rows.append({"PhoneType": phone_type, "PhoneNumber": _clean(number)})
	if phone_rows:
		payload["Phones"] = phone_rows
	address_rows: dict[str, dict] = {}
	for address in addresses:
		row = _address(address)
		address_rows.setdefault(row["AddressType"], row)
	if address_rows:
		payload["Addresses"] = list(address_rows.values())
	tax_id = _clean(party.get("tax_id"))
	if tax_id:
		if len(tax_id) > TAX_NUMBER_MAX:
			problems.add(f"Tax ID {tax_id!r} is longer than {TAX_NUMBER_MAX} characters.")
		payload["TaxNumber"] = tax_id
	if party.get("default_currency"):
		payload["DefaultCurrency"] = party["default_currency"]
	problems.raise_if_any()
	return payload


def _is_active(contact: Mapping) -> bool:
	return contact.get("ContactStatus", "ACTIVE") == "ACTIVE"


def contact_match(party_name, contact_number, email, xero_contacts: Iterable[Mapping]) -> dict | None:
	"""The Xero contact this party already is, as {"contact": ..., "matched_by": rule}, or None.

	Rules in order: ContactNumber (unique in Xero, archived included, since it is ours), then email,
	then normalised name; for email and name an active contact wins over an archived one and
	GDPR-erased contacts are never matched.
	"""
	contacts = [c for c in xero_contacts if c.get("ContactStatus") != "GDPRREQUEST"]
	number = _contact_number(str(contact_number)) if contact_number else None
	# A contact numbered for another ERPNext party is that party, however alike the name or email.
	unclaimed = [c for c in contacts if not c.get("ContactNumber") or c.get("ContactNumber") == number]
	wanted_email = _clean(email).casefold()
	wanted_name = normalise_name(party_name)
	rules = (
		("ContactNumber", lambda c: bool(number) and c.get("ContactNumber") == number),
		(
			"EmailAddress",
			lambda c: bool(wanted_email) and _clean(c.get("EmailAddress")).casefold() == wanted_email,
		),
		("Name", lambda c: bool(wanted_name) and normalise_name(c.get("Name")) == wanted_name),
	)
	for rule, matches in rules:
		candidates = contacts if rule == "ContactNumber" else unclaimed
		found = sorted((c for c in candidates if matches(c)), key=lambda c: not _is_active(c))
		if found:
			return {"contact": found[0], "matched_by": rule}
	return None


def _phone_text(phone: Mapping) -> str:
	return _clean(
		" ".join(str(phone.get(key) or "") for key in ("PhoneCountryCode", "PhoneAreaCode", "PhoneNumber"))
	)


def contact_to_erpnext(contact: Mapping) -> dict:
	"""A Xero Contact as the fields of an ERPNext Customer and/or Supplier, with its addresses."""
	name = _clean(contact.get("Name"))
	if not name:
		raise MappingError([f"Xero contact {contact.get('ContactID')} has no name."])
	phones = {}
	for phone in contact.get("Phones") or []:
		field = "mobile_no" if phone.get("PhoneType") == "MOBILE" else "phone"
		if _phone_text(phone):
			phones.setdefault(field, _phone_text(phone))
	addresses = []
	for address in contact.get("Addresses") or []:
		line1 = _clean(address.get("AddressLine1"))
		if not line1:  # Xero returns an empty stub for every address type
			continue
		extra_lines = (_clean(address.get(f"AddressLine{n}")) for n in (2, 3, 4))
		addresses.append(
			{
				"address_title": name,
				"address_type": "Billing" if address.get("AddressType") == POSTAL else "Shipping",
				"address_line1": line1,
				"address_line2": ", ".join(line for line in extra_lines if line) or None,
				"city": _clean(address.get("City")) or None,
				"state": _clean(address.get("Region")) or None,
				"pincode": _clean(address.get("PostalCode")) or None,
				"country": _clean(address.get("Country")) or None,
			}
		)
	return {
		"customer_name": name,
		"supplier_name": name,
		"is_customer": bool(contact.get("IsCustomer")),
		"is_supplier": bool(contact.get("IsSupplier")),
		"email_id": _clean(contact.get("EmailAddress")) or None,
		"mobile_no": phones.get("mobile_no"),
		"phone": phones.get("phone"),
		"tax_id": _clean(contact.get("TaxNumber")) or None,
		"default_currency": contact.get("DefaultCurrency") or None,
		"addresses": addresses,
		"xero_contact_id": contact.get("ContactID"),
		"contact_number": contact.get("ContactNumber") or None,
	}
