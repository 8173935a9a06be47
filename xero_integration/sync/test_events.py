"""Tier 2: a clerk's edit of a customer's Contact or Address reaches the customer's Xero contact, as an
edit of the Customer itself does (the Contact holds its email and phones, the Address its addresses)."""

import frappe

from xero_integration.sync.test_push import PushTestCase
from xero_integration.testing import clerk, make_customer, make_sales_invoice


class TestContactAndAddressEdits(PushTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def customer_in_xero(self, **values) -> str:
		customer = make_customer(f"Details Customer {frappe.generate_hash(length=6)}", **values)
		make_sales_invoice(customer)
		self.drain()
		return customer

	def xero_contact(self, customer: str) -> dict:
		return self.org().contacts[frappe.db.get_value("Customer", customer, "xero_id")]

	def test_a_clerk_s_new_email_on_the_customer_s_contact_reaches_xero(self):
		customer = self.customer_in_xero(email_id="before@example.com")
		self.assertEqual(self.xero_contact(customer)["EmailAddress"], "before@example.com")
		frappe.set_user(clerk())
		self.edit_email(customer, "after@example.com")
		frappe.set_user("Administrator")
		self.drain()
		self.assertEqual(self.xero_contact(customer)["EmailAddress"], "after@example.com")

	def test_a_clerk_s_change_to_the_customer_s_address_reaches_xero(self):
		customer = make_customer(f"Details Customer {frappe.generate_hash(length=6)}")
		address = frappe.get_doc(
			{
				"doctype": "Address",
				"address_title": customer,
				"address_type": "Billing",
				"address_line1": "1 Old Road",
				"city": "Springfield",
				"country": "United States",
				"is_primary_address": 1,
				"links": [{"link_doctype": "Customer", "link_name": customer}],
			}
		).insert()
		frappe.db.set_value("Customer", customer, "customer_primary_address", address.name)
		make_sales_invoice(customer)
		self.drain()
		frappe.set_user(clerk())
		address = frappe.get_doc("Address", address.name)
		address.address_line1 = "2 New Street"
		address.save()
		frappe.set_user("Administrator")
		self.drain()
		lines = [row.get("AddressLine1") for row in self.xero_contact(customer).get("Addresses") or []]
		self.assertIn("2 New Street", lines)
		self.assertNotIn("1 Old Road", lines)

	def test_edits_from_xero_and_of_parties_not_in_xero_queue_nothing(self):
		frappe.set_user(clerk())
		local = make_customer(f"Details Local Customer {frappe.generate_hash(length=6)}", email_id="a@x.com")
		self.edit_email(local, "b@example.com")
		frappe.set_user("Administrator")
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": local}))

		pulled_edit = self.customer_in_xero(email_id="c@example.com")
		self.edit_email(pulled_edit, "d@example.com", from_xero=True)
		self.assertFalse(
			frappe.db.exists("Xero Outbox", {"reference_name": pulled_edit, "status": "Pending"})
		)

		# A party pulled from Xero: ERPNext makes its Contact while inserting it, even with contacts sent
		# to every organisation.
		self.push_contacts_to_all(1)
		self.addCleanup(self.push_contacts_to_all, 0)
		pulled = frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": f"Details Pulled Customer {frappe.generate_hash(length=6)}",
				"customer_group": "All Customer Groups",
				"territory": "All Territories",
				"email_id": "pulled@example.com",
			}
		)
		pulled.flags.from_xero = True
		pulled.insert()
		self.assertTrue(pulled.customer_primary_contact)
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": pulled.name}))

	def push_contacts_to_all(self, value: int):
		frappe.db.set_single_value("Xero Settings", "push_contacts_to_all", value)
		frappe.clear_document_cache("Xero Settings", "Xero Settings")
		frappe.db.commit()

	def edit_email(self, customer: str, email: str, from_xero: bool = False):
		contact = frappe.get_doc(
			"Contact", frappe.db.get_value("Customer", customer, "customer_primary_contact")
		)
		contact.email_ids[0].email_id = email
		contact.flags.from_xero = from_xero
		contact.save()
