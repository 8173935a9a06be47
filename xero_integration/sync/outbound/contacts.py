"""Customers and Suppliers to Xero Contacts: one contact per party, matched to a contact Xero already
has (same number, email or name) instead of a twin, a taken name made unique visibly."""

from functools import cached_property
from typing import ClassVar

import frappe
from frappe import _

from xero_integration.core.mapping.contact import contact_match, contact_payload, disambiguated_name
from xero_integration.sync.outbound.base import Outbound, Work, payload_hash

NAME_TAKEN = "already assigned to another contact"


class ContactsOut(Outbound):
	HANDLES: ClassVar[dict] = {("Contact", "upsert"): "push_contacts"}

	def push_contacts(self, rows: list[dict]):
		works = self.changed_upserts(rows, "Contact", self.prepare_contact)
		clashes = self.send_contacts(works, retry_name_clash=True)
		self.send_contacts(clashes, retry_name_clash=False)

	def prepare_contact(self, work: Work) -> None:
		"""The payload a sync sends for this party (Preview shows the same): a party not linked yet is
		matched to a contact Xero already has instead of creating a twin."""
		work.payload = self.contact_payload(work)
		work.hash = payload_hash("Contact", work.payload)
		if not work.link:
			self.match_existing_contact(work)

	def contact_payload(self, work: Work) -> dict:
		doc = work.doc
		address = None
		address_name = doc.get("customer_primary_address") or doc.get("supplier_primary_address")
		if address_name:
			address = frappe.get_doc("Address", address_name).as_dict()
		# The primary Contact's own email and mobile: the party's copies of them are refreshed by ERPNext
		# only when the party itself is saved, not when a clerk edits the Contact.
		person = frappe._dict(email_id=doc.get("email_id"), mobile_no=doc.get("mobile_no"))
		contact_name = doc.get("customer_primary_contact") or doc.get("supplier_primary_contact")
		if contact_name:
			person = (
				frappe.db.get_value("Contact", contact_name, ["email_id", "mobile_no"], as_dict=True)
				or person
			)
		return contact_payload(
			doc,
			is_customer=doc.doctype == "Customer",
			is_supplier=doc.doctype == "Supplier",
			contact_number=doc.name,
			contact_id=work.link and work.link["xero_id"],
			email=person.email_id,
			phones=[("MOBILE", person.mobile_no)] if person.mobile_no else [],
			addresses=[address] if address else [],
		)

	def match_existing_contact(self, work: Work):
		"""Link instead of duplicating: a Xero contact with our number, email or name is the same party."""
		match = contact_match(
			work.payload["Name"],
			work.payload["ContactNumber"],
			work.payload.get("EmailAddress"),
			self.contacts,
		)
		if match:
			contact = match["contact"]
			work.payload["ContactID"] = contact["ContactID"]
			if contact.get("ContactStatus") == "ARCHIVED":
				work.payload["ContactStatus"] = "ACTIVE"
				work.notes.append(_("The Xero contact was archived and has been restored."))
			work.notes.append(
				_("Linked to the existing Xero contact {0} (same {1}).").format(
					contact.get("Name"), match["matched_by"]
				)
			)

	@cached_property
	def contacts(self) -> list[dict]:
		"""Every contact of the organisation, archived included, fetched once per drain (1,000 a call)."""
		return self.client.list_all("Contact", include_archived=True)

	def send_contacts(self, works: list[Work], *, retry_name_clash: bool) -> list[Work]:
		clashes = []
		for work, result in self.send("Contact", works, look_up_stale=False):
			if result.ok:
				if "contacts" in self.__dict__ and not work.link:
					self.contacts.append(result.element)  # matched by the next batches of this drain
				self.done(
					work, "Contact", result.xero_id, result.element.get("ContactStatus"), result.element
				)
			elif retry_name_clash and any(NAME_TAKEN in m for m in result.errors):
				# Another party already uses this name in Xero: a visible, stable suffix keeps both.
				original = work.payload["Name"]
				work.payload["Name"] = disambiguated_name(original, work.payload["ContactNumber"])
				work.notes.append(
					_("Xero already has another contact named {0}; sent as {1}.").format(
						original, work.payload["Name"]
					)
				)
				clashes.append(work)
			else:
				self.attention(work, result.errors, result.element)
		return clashes
