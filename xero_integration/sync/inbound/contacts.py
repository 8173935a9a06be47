"""Xero Contacts into Customers and Suppliers: a contact the app did not write is linked to the party
it already is (same number, email or name) or becomes one; a contact edited in Xero updates its party,
its primary Contact and Addresses, under the conflict policy."""

from functools import cached_property
from typing import ClassVar

import frappe
from frappe import _
from frappe.utils import get_datetime

from xero_integration.core import parties
from xero_integration.core.mapping.contact import contact_to_erpnext, normalise_name
from xero_integration.core.parties import SALES
from xero_integration.core.pull import same_moment
from xero_integration.sync import links, party_details
from xero_integration.sync.inbound import documents
from xero_integration.sync.inbound.base import Inbound, NeedsAttention, Outcome, Result, pulls

ROLE_FLAGS = ((parties.SALES.party, "is_customer"), (parties.PURCHASE.party, "is_supplier"))


class ContactsIn(Inbound):
	APPLIES: ClassVar[dict] = {"Contact": "apply_contact"}

	def apply_contact(self, contact: dict) -> Outcome:
		xero_id, stamp = contact["ContactID"], contact.get("UpdatedDateUTC")
		if not pulls("sync_contacts"):
			return Outcome(xero_id, stamp, Result.SKIPPED)
		existing = self.links_of("Contact", xero_id)
		if existing and all(same_moment(link.xero_updated, stamp) for link in existing):
			return Outcome(xero_id, stamp, Result.ECHO)
		if not existing and contact.get("ContactStatus") == "ARCHIVED":
			return Outcome(xero_id, stamp, Result.SKIPPED, _("Archived in Xero: not brought into ERPNext."))
		mapped = contact_to_erpnext(contact)
		roles = [doctype for doctype, flag in ROLE_FLAGS if mapped[flag]]
		doctypes = dict.fromkeys([*(roles or [SALES.party]), *(link.reference_doctype for link in existing)])
		results = []
		for doctype in doctypes:
			link = next((link for link in existing if link.reference_doctype == doctype), None)
			results.append(self.apply_party(doctype, mapped, contact, link))
		changed = [r for r in results if r != Result.UNCHANGED]
		return Outcome(xero_id, stamp, changed[0] if changed else Result.UNCHANGED)

	def apply_party(self, doctype: str, mapped: dict, contact: dict, link) -> str:
		name_field = parties.of_party(doctype).party_name_field
		wanted = {name_field: mapped[name_field], "tax_id": mapped["tax_id"]}
		if link:
			doc = frappe.get_doc(doctype, link.reference_name)
			changes = {k: v for k, v in wanted.items() if v and doc.get(k) != v}
			details = party_details.detail_changes(doc, mapped, self.company)
			if changes or details:
				erpnext_changed = get_datetime(doc.modified) > get_datetime(
					link.last_synced
				) or details.modified_in_erpnext_since(doc, link.last_synced)
				self.resolve_conflict(
					"Contact",
					erpnext_changed=erpnext_changed,
					doc=doc,
					record=contact,
					message=_(
						"{0} {1} was changed in ERPNext and in Xero; the conflict policy keeps ERPNext's version. Edit one side to agree."
					).format(doctype, doc.name),
					erpnext={**{k: doc.get(k) for k in wanted}, **details.current(doc)},
				)
				doc.update(changes)
				party_details.apply_details(doc, details, mapped)
				documents.save(doc)
			self.link(doctype, doc.name, "Contact", contact)
			if changes or details:
				self.done(Result.UPDATED, "Contact", contact, doctype, doc.name)
				return Result.UPDATED
			return Result.UNCHANGED
		matched = self.match_party(doctype, mapped)
		if matched:
			self.link(doctype, matched["name"], "Contact", contact)
			self.done(
				Result.LINKED,
				"Contact",
				contact,
				doctype,
				matched["name"],
				_("Linked to the existing {0} {1} (same {2}).").format(
					doctype, matched["name"], matched["rule"]
				),
			)
			return Result.LINKED
		name = self.create_party(doctype, mapped)
		self.link(doctype, name, "Contact", contact)
		self.done(Result.CREATED, "Contact", contact, doctype, name)
		return Result.CREATED

	def match_party(self, doctype: str, mapped: dict) -> dict | None:
		"""An unlinked ERPNext party that is this Xero contact: by ContactNumber (our name), email,
		or normalised name, in that order."""
		linked = links.linked_names(self.organisation, doctype, "Contact")
		number, email = mapped.get("contact_number"), mapped.get("email_id")
		candidates = (
			("ContactNumber", number if number and frappe.db.exists(doctype, number) else None),
			("email", email and frappe.db.get_value(doctype, {"email_id": email, "disabled": 0})),
			("name", self.party_index(doctype).get(normalise_name(mapped["customer_name"]))),
		)
		for rule, name in candidates:
			if name and name not in linked:
				return {"name": name, "rule": rule}
		return None

	@cached_property
	def party_indexes(self) -> dict[str, dict[str, str]]:
		return {}

	def party_index(self, doctype: str) -> dict[str, str]:
		"""Normalised name -> the party of that name, read once per run."""
		if doctype not in self.party_indexes:
			name_field = parties.of_party(doctype).party_name_field
			self.party_indexes[doctype] = {
				normalise_name(row[name_field]): row.name
				for row in frappe.get_all(doctype, filters={"disabled": 0}, fields=["name", name_field])
			}
		return self.party_indexes[doctype]

	def create_party(self, doctype: str, mapped: dict) -> str:
		if doctype == SALES.party:
			values = {
				"customer_name": mapped["customer_name"],
				"customer_type": "Company",
				"customer_group": frappe.db.get_single_value("Selling Settings", "customer_group")
				or "All Customer Groups",
				"territory": frappe.db.get_single_value("Selling Settings", "territory") or "All Territories",
			}
		else:
			values = {
				"supplier_name": mapped["supplier_name"],
				"supplier_type": "Company",
				"supplier_group": frappe.db.get_single_value("Buying Settings", "supplier_group")
				or "All Supplier Groups",
			}
		# email_id / mobile_no on a new party make ERPNext create its primary Contact.
		for field in ("tax_id", "email_id", "mobile_no"):
			if mapped.get(field):
				values[field] = mapped[field]
		doc = documents.save(frappe.get_doc({"doctype": doctype, **values}))
		for address in mapped["addresses"]:
			party_details.create_address(
				doctype, doc.name, party_details.address_values(address, self.company)
			)
		self.party_index(doctype)[normalise_name(mapped["customer_name"])] = doc.name
		return doc.name

	def party_for(self, contact_id: str | None, doctype: str) -> str:
		"""The ERPNext party of a Xero contact, bringing the contact in when it is not linked yet."""
		if not contact_id:
			raise NeedsAttention(_("It names no contact."))
		found = self.links_of("Contact", contact_id, doctype)
		if not found:
			contact = self.fetch("Contact", [contact_id]).get(contact_id.lower())
			if not contact:
				raise NeedsAttention(_("Its contact {0} does not exist in Xero any more.").format(contact_id))
			mapped = contact_to_erpnext(contact)
			existing = self.links_of("Contact", contact_id)
			self.apply_party(doctype, mapped, contact, None)
			if existing:  # keep the other role's link stamp in step
				self.link(existing[0].reference_doctype, existing[0].reference_name, "Contact", contact)
			found = self.links_of("Contact", contact_id, doctype)
		return found[0].reference_name
