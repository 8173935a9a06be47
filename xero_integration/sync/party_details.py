"""A pulled Xero contact's email, phones and addresses on its ERPNext party.

ERPNext keeps them on the party's primary Contact and on Address records linked to the party (the
Customer's email and mobile fields are fetched from its primary Contact), so that is where a change
made in Xero is written. Everything written carries flags.from_xero (see sync/events.py).
"""

from dataclasses import dataclass, field

import frappe

CONTACT_FIELDS = ("email_id", "mobile_no", "phone")
ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "pincode", "country")


@dataclass
class DetailChanges:
	contact: dict = field(default_factory=dict)  # field -> Xero's value
	addresses: list[tuple[str | None, dict]] = field(default_factory=list)  # (Address name or new, values)

	def __bool__(self) -> bool:
		return bool(self.contact or self.addresses)

	def modified_in_erpnext_since(self, party, moment) -> bool:
		"""Whether the Contact or an Address this change would overwrite was edited after `moment`."""
		touched = [("Address", name) for name, _values in self.addresses if name]
		if self.contact and primary_contact(party):
			touched.append(("Contact", primary_contact(party)))
		return any(
			frappe.utils.get_datetime(frappe.db.get_value(doctype, name, "modified"))
			> frappe.utils.get_datetime(moment)
			for doctype, name in touched
		)

	def current(self, party) -> dict:
		"""ERPNext's side of these fields, for a conflict log."""
		contact = primary_contact(party)
		values = {f: contact and frappe.db.get_value("Contact", contact, f) for f in self.contact}
		for name, _values in self.addresses:
			if name:
				values[name] = frappe.db.get_value("Address", name, list(ADDRESS_FIELDS), as_dict=True)
		return values


def primary_field(party, kind: str) -> str:
	"""customer_primary_contact, supplier_primary_address, ..."""
	return f"{party.doctype.lower()}_primary_{kind}"


def primary_contact(party) -> str | None:
	return party.get(primary_field(party, "contact"))


def detail_changes(party, mapped: dict, company: str) -> DetailChanges:
	"""What Xero's contact says differently from the party's primary Contact and its Addresses. A detail
	Xero leaves blank is not a change: ERPNext keeps what it has."""
	changes = DetailChanges()
	contact = primary_contact(party)
	current = frappe.db.get_value("Contact", contact, CONTACT_FIELDS, as_dict=True) if contact else {}
	changes.contact = {
		f: mapped[f] for f in CONTACT_FIELDS if mapped.get(f) and (current or {}).get(f) != mapped[f]
	}
	for address in mapped.get("addresses") or []:
		values = address_values(address, company)
		existing = linked_address(party, values["address_type"])
		if not existing:
			changes.addresses.append((None, values))
		elif any((existing.get(f) or None) != values.get(f) for f in ADDRESS_FIELDS):
			changes.addresses.append((existing.name, values))
	return changes


def apply_details(party, changes: DetailChanges, mapped: dict) -> None:
	"""Write the changes; sets the party's primary Contact / Address when it had none (the caller
	saves the party, which refreshes the fields ERPNext fetches from them)."""
	if changes.contact:
		name = primary_contact(party)
		contact = frappe.get_doc("Contact", name) if name else new_contact(party, mapped)
		set_contact_details(contact, changes.contact)
		contact.flags.from_xero = True
		contact.save(ignore_permissions=True)
		party.set(primary_field(party, "contact"), contact.name)
	for name, values in changes.addresses:
		if name:
			address = frappe.get_doc("Address", name)
			address.update(values)
			address.flags.from_xero = True
			address.save(ignore_permissions=True)
		else:
			address = create_address(party.doctype, party.name, values)
		if values["address_type"] == "Billing" and not party.get(primary_field(party, "address")):
			party.set(primary_field(party, "address"), address.name)


def new_contact(party, mapped: dict):
	return frappe.get_doc(
		{
			"doctype": "Contact",
			"first_name": mapped["customer_name"][:140],
			"is_primary_contact": 1,
			"links": [{"link_doctype": party.doctype, "link_name": party.name}],
		}
	)


def set_contact_details(contact, values: dict) -> None:
	"""Make Xero's email and numbers the Contact's primary ones, keeping the others it has."""
	if values.get("email_id"):
		if not any(row.email_id == values["email_id"] for row in contact.email_ids):
			contact.append("email_ids", {"email_id": values["email_id"]})
		for row in contact.email_ids:
			row.is_primary = int(row.email_id == values["email_id"])
	for field_name, flag in (("mobile_no", "is_primary_mobile_no"), ("phone", "is_primary_phone")):
		number = values.get(field_name)
		if not number:
			continue
		if not any(row.phone == number for row in contact.phone_nos):
			contact.append("phone_nos", {"phone": number})
		for row in contact.phone_nos:
			row.set(flag, int(row.phone == number))


def linked_address(party, address_type: str):
	names = frappe.get_all(
		"Address",
		filters=[
			["Dynamic Link", "link_doctype", "=", party.doctype],
			["Dynamic Link", "link_name", "=", party.name],
			["address_type", "=", address_type],
			["disabled", "=", 0],
		],
		pluck="name",
		order_by="`tabAddress`.is_primary_address desc, `tabAddress`.creation",
	)
	if not names:
		return None
	return frappe.db.get_value("Address", names[0], ["name", *ADDRESS_FIELDS], as_dict=True)


def address_values(address: dict, company: str) -> dict:
	"""Xero's address as ERPNext accepts it: a city is required (Xero has none at times), and a country
	ERPNext does not know becomes the Company's."""
	country = address.get("country")
	if not (country and frappe.db.exists("Country", country)):
		country = frappe.get_cached_value("Company", company, "country")
	return {
		**address,
		"city": address.get("city") or address.get("state") or "-",
		"country": country,
	}


def create_address(doctype: str, party: str, values: dict):
	doc = frappe.get_doc(
		{
			"doctype": "Address",
			**values,
			"is_primary_address": int(values["address_type"] == "Billing"),
			"links": [{"link_doctype": doctype, "link_name": party}],
		}
	)
	doc.flags.from_xero = True
	doc.insert(ignore_permissions=True)
	return doc
