"""Tier 2: importing Xero's history from a date: paged list calls, matching what ERPNext already has,
resuming after an interruption, and creating nothing when run again."""

import math
from unittest.mock import patch

import frappe
from frappe.utils import add_days, flt, nowdate

from xero_integration.sync import history, pull
from xero_integration.sync.integration_user import INTEGRATION_USER
from xero_integration.sync.test_pull import InboundTestCase
from xero_integration.testing import make_customer, make_sales_invoice

INVOICES = 23
PAGE = 10  # stands in for Xero's 1,000 so paging shows with a few dozen documents


class TestHistory(InboundTestCase):
	def list_calls(self, resource: str) -> int:
		return self.emulator.call_count("GET", f"/api.xro/2.0/{resource}")

	def created_documents(self) -> dict[str, int]:
		return {
			doctype: frappe.db.count(doctype)
			for doctype in ("Customer", "Sales Invoice", "Payment Entry", "Xero Document Link")
		}

	def test_import_pages_through_each_object_and_a_second_run_creates_nothing(self):
		buyer = self.contact("History Buyer")
		old = self.invoice(buyer, [(1, 99, "200", "OUTPUT2")], number="OLD", Date=add_days(nowdate(), -40))
		invoices = self.xero_request(
			"PUT",
			"Invoices",
			{
				"Invoices": [
					{
						"Type": "ACCREC",
						"Contact": {"ContactID": buyer["ContactID"]},
						"InvoiceNumber": f"H{n}-{self.run_id}",
						"Status": "AUTHORISED",
						"Date": nowdate(),
						"LineItems": [
							{
								"Description": "Work",
								"Quantity": 1,
								"UnitAmount": 10 + n,
								"AccountCode": "200",
								"TaxType": "OUTPUT2",
							}
						],
					}
					for n in range(INVOICES)
				]
			},
		)["Invoices"]
		self.xero_request(
			"PUT",
			"Payments",
			{
				"Payments": [
					{
						"Invoice": {"InvoiceID": i["InvoiceID"]},
						"Account": {"Code": "090"},
						"Date": nowdate(),
						"Amount": 5,
					}
					for i in invoices
				]
			},
		)
		frappe.db.commit()
		calls = {resource: self.list_calls(resource) for resource in ("Invoices", "Payments")}
		with patch.object(pull.Applier, "page_size", PAGE):
			counts = history.import_history(self.tenant, add_days(nowdate(), -7))
		frappe.db.commit()
		pages = math.ceil(INVOICES / PAGE)
		# One list call per page of each object; no per-document fetches were needed.
		self.assertEqual(self.list_calls("Invoices") - calls["Invoices"], pages)
		self.assertEqual(self.list_calls("Payments") - calls["Payments"], pages)
		self.assertEqual(counts["Invoice"]["created"], INVOICES)
		self.assertEqual(counts["Payment"]["created"], INVOICES)
		self.assertFalse(self.linked("Invoice", old["InvoiceID"]))  # dated before the chosen day
		for invoice in invoices:
			doc = self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice")
			self.assertEqual(flt(doc.outstanding_amount, 2), flt(flt(invoice["Total"]) - 5, 2))
			self.assertEqual(doc.owner, INTEGRATION_USER)  # not whoever pressed Import History
		org = frappe.get_doc("Xero Organisation", self.tenant)
		self.assertEqual(org.history_status, "Completed")
		self.assertTrue(org.invoices_pulled_until)  # scheduled pulls continue from here
		log = frappe.get_all(
			"Xero Sync Log",
			filters={"operation": "Import history", "organisation": self.tenant},
			pluck="message",
		)
		self.assertIn(f"created: {INVOICES}", log[0])

		before = self.created_documents()
		with patch.object(pull.Applier, "page_size", PAGE):
			again = history.import_history(self.tenant, add_days(nowdate(), -7))
		frappe.db.commit()
		self.assertEqual(self.created_documents(), before)
		self.assertFalse(any(c["created"] for c in again.values()))

	def test_an_interrupted_import_resumes_without_duplicates(self):
		buyer = self.contact("Resumed Buyer")
		invoices = [self.invoice(buyer, [(1, 20 + n, "200", "OUTPUT2")], number=f"R{n}") for n in range(6)]
		frappe.db.commit()
		applied = []
		real_apply = pull.Applier.apply

		def apply_then_die(applier, kind, record):
			if kind == "Invoice" and len(applied) == 3:
				raise SystemExit("worker killed")
			outcome = real_apply(applier, kind, record)
			if kind == "Invoice":
				applied.append(outcome)
			return outcome

		with patch.object(pull.Applier, "page_size", 2), patch.object(pull.Applier, "apply", apply_then_die):
			with self.assertRaises(SystemExit):
				history.import_history(self.tenant, nowdate())
		frappe.db.commit()
		# A killed worker marks nothing: the import still reads Running, and resumes from its progress.
		self.assertEqual(frappe.db.get_value("Xero Organisation", self.tenant, "history_status"), "Running")
		done_before = [i for i in invoices if self.linked("Invoice", i["InvoiceID"])]
		self.assertEqual(len(done_before), 3)

		with patch.object(pull.Applier, "page_size", 2):
			history.import_history(self.tenant, nowdate())
		frappe.db.commit()
		for invoice in invoices:
			self.assertEqual(len(self.linked("Invoice", invoice["InvoiceID"])), 1)
		self.assertEqual(frappe.db.get_value("Xero Organisation", self.tenant, "history_status"), "Completed")

	def test_first_connect_links_what_erpnext_already_has(self):
		# Sales were kept apart until now: nothing is pushed while the Xero side is keyed in.
		frappe.db.set_single_value("Xero Settings", "sync_sales_invoices", "Xero to ERPNext")
		self.addCleanup(frappe.db.set_single_value, "Xero Settings", "sync_sales_invoices", "Both")
		frappe.clear_document_cache("Xero Settings", "Xero Settings")
		customer = make_customer(f"Existing Shop {self.run_id}")
		invoice = make_sales_invoice(customer, lines=((2, 30),))
		frappe.db.commit()
		# The same customer and invoice were keyed into Xero by hand before the connection.
		contact = self.xero.create_in_xero(self.tenant, "Contacts", {"Name": f"EXISTING shop  {self.run_id}"})
		typed = self.xero.create_in_xero(
			self.tenant,
			"Invoices",
			{
				"Type": "ACCREC",
				"Contact": {"ContactID": contact["ContactID"]},
				"InvoiceNumber": invoice.name,
				"Status": "AUTHORISED",
				"Date": nowdate(),
				"LineItems": [
					{
						"Description": "Typed",
						"Quantity": 2,
						"UnitAmount": 30,
						"AccountCode": "200",
						"TaxType": "NONE",
					}
				],
			},
		)
		frappe.db.commit()
		history.import_history(self.tenant, nowdate())
		frappe.db.commit()
		self.assertEqual(self.linked("Contact", contact["ContactID"]), [customer])
		self.assertEqual(self.linked("Invoice", typed["InvoiceID"]), [invoice.name])
		self.assertEqual(frappe.db.count("Sales Invoice", {"customer": customer}), 1)
		self.assertEqual(frappe.db.count("Customer", {"customer_name": ("like", f"%{self.run_id}%")}), 1)
