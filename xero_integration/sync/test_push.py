"""Tier 2: ERPNext documents submitted, cancelled and amended in a real site reach the emulated Xero
exactly once, with equal totals, through the outbox and the drain job."""

import subprocess
from decimal import Decimal
from unittest.mock import patch

import frappe
from frappe.utils import flt
from frappe.utils.background_jobs import get_queue

from xero_integration.emulator import Faults
from xero_integration.sync import outbox, push
from xero_integration.testing import (
	COMPANY,
	XeroTestCase,
	bench_command,
	make_customer,
	make_payment,
	make_purchase_invoice,
	make_sales_invoice,
	make_supplier,
	sites_path,
)


class PushTestCase(XeroTestCase):
	def api_calls(self, method=None) -> int:
		return self.emulator.call_count(method, path_prefix="/api.xro/")


class TestOutbox(PushTestCase):
	def test_submit_queues_in_the_same_transaction_and_rollback_leaves_nothing(self):
		customer = make_customer("Rollback Customer")
		frappe.db.commit()
		invoice = make_sales_invoice(customer)
		self.assertTrue(frappe.db.exists("Xero Outbox", {"reference_name": invoice.name}))
		frappe.db.rollback()
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": invoice.name}))
		self.assertFalse(frappe.db.exists("Sales Invoice", invoice.name))

	def test_every_committed_submit_queues_a_drain_and_a_rolled_back_one_does_not_hold_it_back(self):
		customer = make_customer("Drain Customer")
		frappe.db.commit()
		with patch.object(frappe, "enqueue") as enqueue:
			make_sales_invoice(customer)  # queues the customer and the invoice: one drain
			self.assertEqual(enqueue.call_count, 1)
			frappe.db.rollback()
			make_sales_invoice(customer)
			self.assertEqual(enqueue.call_count, 2)
			frappe.db.commit()
			make_sales_invoice(customer)
			self.assertEqual(enqueue.call_count, 3)
			frappe.db.commit()
		drains = {call.kwargs["job_id"] for call in enqueue.call_args_list}
		self.assertEqual(drains, {f"xero_integration:drain:{self.tenant}"})
		self.assertTrue(all(call.kwargs["enqueue_after_commit"] for call in enqueue.call_args_list))

	def test_no_call_to_xero_inside_the_submit(self):
		customer = make_customer("Quiet Customer")
		calls = len(self.emulator.calls)
		make_sales_invoice(customer, tax_rate=15)
		self.assertEqual(len(self.emulator.calls), calls)
		frappe.db.rollback()

	def test_documents_of_an_unconnected_company_are_never_queued(self):
		other = frappe.db.get_value("Company", {"name": ("!=", COMPANY)}, "name")
		self.assertIsNone(frappe.db.get_value("Xero Organisation", {"company": other}))
		customer = make_customer("Other Company Customer")
		frappe.db.commit()
		from xero_integration.sync.events import queue_document

		invoice = frappe._dict(doctype="Sales Invoice", company=other, name="X", flags=frappe._dict())
		queue_document(invoice)
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": "X"}))
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": customer}))


class TestSalesFlow(PushTestCase):
	def test_invoice_reaches_xero_once_with_its_contact_and_equal_total(self):
		customer = make_customer("Flow Customer", email_id=None)
		invoice = make_sales_invoice(customer, lines=((3, 33.33), (1, 0.99), (7, 12.5)), tax_rate=15)
		self.drain()
		xero = self.assert_same_total(invoice)
		self.assertEqual(xero["Status"], "AUTHORISED")
		self.assertEqual(xero["Type"], "ACCREC")
		contact = self.org().contacts[xero["Contact"]["ContactID"]]
		self.assertEqual(contact["ContactNumber"], customer)
		invoice.reload()
		self.assertEqual(invoice.xero_id, xero["InvoiceID"])
		self.assertEqual(invoice.xero_status, "AUTHORISED")
		self.assertTrue(
			frappe.db.exists("Xero Sync Log", {"reference_name": invoice.name, "status": "Success"})
		)
		# A second drain, or the scheduler, sends nothing again.
		outbox.enqueue(self.tenant, "Invoice", "upsert", "Sales Invoice", invoice.name)
		writes = self.api_calls("POST") + self.api_calls("PUT")
		self.drain()
		self.assertEqual(self.api_calls("POST") + self.api_calls("PUT"), writes)
		self.xero_invoice(invoice.name)

	def test_customer_saved_twice_unchanged_makes_no_call(self):
		customer = make_customer("Unchanged Customer")
		make_sales_invoice(customer)
		self.drain()
		doc = frappe.get_doc("Customer", customer)
		doc.save()
		self.drain()  # first save after the invoice: content is identical to what Xero has
		calls = self.api_calls()
		doc.save()
		self.drain()
		self.assertEqual(self.api_calls(), calls)
		doc.customer_name = "Unchanged Customer Renamed"
		doc.save()
		self.drain()
		names = [c["Name"] for c in self.org().contacts.values() if c.get("ContactNumber") == customer]
		self.assertEqual(names, ["Unchanged Customer Renamed"])

	def test_a_document_deleted_after_it_was_queued_is_settled_not_stuck(self):
		kept = make_customer(f"Kept Customer {frappe.generate_hash(length=6)}")
		gone = make_customer(f"Deleted Customer {frappe.generate_hash(length=6)}")
		for name in (kept, gone):
			outbox.enqueue(self.tenant, "Contact", "upsert", "Customer", name)
		frappe.delete_doc("Customer", gone)  # the queued row does not stop it
		self.drain()
		self.assertEqual(
			frappe.db.get_value("Xero Outbox", {"reference_name": gone, "object_type": "Contact"}, "status"),
			"Done",
		)
		self.assertIn(
			"Deleted in ERPNext",
			frappe.db.get_value("Xero Sync Log", {"reference_name": gone, "status": "Skipped"}, "message"),
		)
		self.assertEqual(
			[c["Name"] for c in self.org().contacts.values() if c.get("ContactNumber") == kept], [kept]
		)

	def test_existing_xero_contact_is_linked_and_a_taken_name_is_disambiguated_visibly(self):
		# A bookkeeper already keeps this customer in Xero, without our number.
		existing = self.xero.create_in_xero(self.tenant, "Contacts", {"Name": "Matched Customer Ltd."})
		# Another ERPNext customer already owns the name "Twin Name" in Xero.
		make_sales_invoice(make_customer("Twin Name"))
		self.drain()
		matched = make_sales_invoice(make_customer("Matched Customer Ltd"))
		twin = frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": "Twin Name",
				"customer_group": "All Customer Groups",
				"territory": "All Territories",
			}
		).insert()
		clash = make_sales_invoice(twin.name)
		self.drain_until_empty()
		self.assertEqual(self.xero_invoice(matched.name)["Contact"]["ContactID"], existing["ContactID"])
		self.assertEqual(self.org().contacts[existing["ContactID"]]["ContactNumber"], "Matched Customer Ltd")
		names = sorted(c["Name"] for c in self.org().contacts.values() if c["Name"].startswith("Twin Name"))
		self.assertEqual(names, ["Twin Name", f"Twin Name ({twin.name})"])
		self.assertTrue(
			frappe.db.exists(
				"Xero Sync Log",
				{"reference_name": twin.name, "message": ("like", "%already has another contact%")},
			)
		)
		self.assert_same_total(clash)

	def test_contacts_reach_every_organisation_when_settings_say_so(self):
		frappe.db.set_single_value("Xero Settings", "push_contacts_to_all", 1)
		frappe.clear_document_cache("Xero Settings", "Xero Settings")
		try:
			customer = make_customer(f"Everywhere Customer {frappe.generate_hash(length=6)}")
			self.drain()
			self.assertEqual(
				[c["ContactNumber"] for c in self.org().contacts.values() if c["Name"] == customer],
				[customer],
			)
		finally:
			frappe.db.set_single_value("Xero Settings", "push_contacts_to_all", 0)
			frappe.clear_document_cache("Xero Settings", "Xero Settings")
			frappe.db.commit()

	def test_contact_archived_in_xero_is_restored_before_its_next_invoice(self):
		customer = make_customer("Archived Customer")
		make_sales_invoice(customer)
		self.drain()
		contact_id = frappe.db.get_value("Customer", customer, "xero_id")
		self.org().contacts[contact_id]["ContactStatus"] = "ARCHIVED"  # a bookkeeper archived it in Xero
		invoice = make_sales_invoice(customer, lines=((1, 12),))
		self.drain_until_empty()
		self.assertEqual(self.xero_invoice(invoice.name)["Contact"]["ContactID"], contact_id)
		self.assertEqual(self.org().contacts[contact_id]["ContactStatus"], "ACTIVE")
		self.assertTrue(
			frappe.db.exists(
				"Xero Sync Log", {"reference_name": invoice.name, "message": ("like", "%restored%")}
			)
		)

	def test_partial_payments_cancel_void_and_amend(self):
		customer = make_customer("Payment Customer")
		invoice = make_sales_invoice(customer, lines=((2, 50),), tax_rate=15)  # 115.00
		self.drain()
		first = make_payment(invoice, 15)
		second = make_payment(invoice, 40)
		self.drain()
		xero = self.xero_invoice(invoice.name)
		self.assertEqual(Decimal(str(xero["AmountPaid"])), Decimal("55.00"))
		self.assertEqual(Decimal(str(xero["AmountDue"])), Decimal("60.00"))
		# Voiding needs the payments gone first: cancel in ERPNext's order and the drain keeps Xero's.
		first.reload().cancel()
		second.reload().cancel()
		invoice.reload().cancel()
		self.drain()
		payments = [p for p in self.org().payments.values() if p["Invoice"]["InvoiceID"] == xero["InvoiceID"]]
		self.assertEqual(sorted(p["Status"] for p in payments), ["DELETED", "DELETED"])
		self.assertEqual(self.xero_invoice(invoice.name)["Status"], "VOIDED")
		amended = frappe.copy_doc(invoice)
		amended.docstatus = 0
		amended.amended_from = invoice.name
		amended.insert()
		amended.submit()
		self.drain()
		self.assertEqual(self.xero_invoice(invoice.name)["Status"], "VOIDED")
		self.assertEqual(self.assert_same_total(amended)["Status"], "AUTHORISED")

	def test_void_refused_while_paid_in_xero_says_what_to_do(self):
		customer = make_customer("Refused Void Customer")
		invoice = make_sales_invoice(customer, lines=((1, 80),))
		self.drain()
		make_payment(invoice, 80)
		self.drain()
		# ERPNext unlinks the payment on cancel; Xero still holds it, so Xero refuses the void.
		frappe.db.set_single_value("Accounts Settings", "unlink_payment_on_cancellation_of_invoice", 1)
		invoice.reload().cancel()
		self.drain()
		row = frappe.get_all(
			"Xero Outbox",
			filters={"reference_name": invoice.name, "operation": "void"},
			fields=["status", "last_error"],
		)[0]
		self.assertEqual(row.status, "Needs Attention")
		self.assertIn("payment", row.last_error)
		self.assertIn("Retry", row.last_error)
		self.assertEqual(self.xero_invoice(invoice.name)["Status"], "PAID")

	def test_return_becomes_a_credit_note_allocated_to_the_invoice(self):
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		customer = make_customer("Return Customer")
		invoice = make_sales_invoice(customer, lines=((4, 25),), tax_rate=15)  # 115.00
		self.drain()
		credit = make_sales_return(invoice.name)
		credit.items[0].qty = -1
		credit.update_outstanding_for_self = 0  # the return reduces the invoice's outstanding
		credit.insert()
		credit.submit()
		self.drain()
		notes = [c for c in self.org().credit_notes.values() if c.get("CreditNoteNumber") == credit.name]
		self.assertEqual(len(notes), 1)
		self.assertEqual(notes[0]["Type"], "ACCRECCREDIT")
		self.assertEqual(Decimal(str(notes[0]["Total"])), Decimal("28.75"))
		self.assertEqual(Decimal(str(self.xero_invoice(invoice.name)["AmountDue"])), Decimal("86.25"))


class TestPurchaseFlow(PushTestCase):
	def bill(self, invoice):
		found = [
			b
			for b in self.org().invoices.values()
			if b.get("Type") == "ACCPAY" and b.get("Reference") == invoice.name
		]
		self.assertEqual(len(found), 1, f"{invoice.name} is in Xero {len(found)} times")
		return found[0]

	def test_bill_payment_debit_note_and_cancellation(self):
		from erpnext.accounts.doctype.purchase_invoice.purchase_invoice import make_debit_note

		supplier = make_supplier("Flow Supplier")
		invoice = make_purchase_invoice(
			supplier, lines=((3, 19.99), (2, 5.55)), tax_rate=15, bill_no="SUP-881"
		)
		# Supplier invoice numbers repeat across suppliers; Xero allows that for bills.
		other = make_purchase_invoice(make_supplier("Other Supplier"), lines=((1, 10),), bill_no="SUP-881")
		self.drain()
		bill = self.bill(invoice)
		self.assertEqual(bill["InvoiceNumber"], "SUP-881")
		self.assertEqual(
			Decimal(str(bill["Total"])), Decimal(str(flt(invoice.rounded_total or invoice.grand_total, 2)))
		)
		self.assertTrue(self.org().contacts[bill["Contact"]["ContactID"]]["ContactNumber"] == supplier)
		self.assertEqual(self.bill(other)["InvoiceNumber"], "SUP-881")
		payment = make_payment(invoice, 20)
		debit_note = make_debit_note(invoice.name)
		debit_note.items = debit_note.items[:1]
		debit_note.items[0].qty = -1
		debit_note.insert()
		debit_note.submit()
		self.drain()
		notes = [c for c in self.org().credit_notes.values() if c.get("CreditNoteNumber") == debit_note.name]
		self.assertEqual([n["Type"] for n in notes], ["ACCPAYCREDIT"])
		# Whether ERPNext applies the note to the bill or keeps it on account, Xero shows the same due.
		self.assertEqual(
			Decimal(str(self.bill(invoice)["AmountDue"])),
			Decimal(str(flt(frappe.db.get_value("Purchase Invoice", invoice.name, "outstanding_amount"), 2))),
		)
		payment.reload().cancel()
		self.drain()
		self.assertEqual(Decimal(str(self.bill(invoice)["AmountPaid"])), Decimal("0"))
		other.reload().cancel()
		self.drain()
		self.assertEqual(self.bill(other)["Status"], "VOIDED")


class TestBatchesAndFailures(PushTestCase):
	def test_one_bad_invoice_does_not_block_the_other_forty_nine(self):
		other = make_customer("Hand Typed Customer")
		make_sales_invoice(other)
		self.drain()
		customer = make_customer("Batch Customer")
		invoices = [make_sales_invoice(customer, lines=((1, 10 + i),)) for i in range(50)]
		clash = invoices[17].name
		# Someone typed one of our numbers into Xero by hand, for another contact.
		other_id = frappe.db.get_value("Customer", other, "xero_id")
		self.xero.create_in_xero(
			self.tenant,
			"Invoices",
			{
				"Type": "ACCREC",
				"Contact": {"ContactID": other_id},
				"InvoiceNumber": clash,
				"Status": "AUTHORISED",
				"LineItems": [
					{"Description": "Typed by hand", "Quantity": 1, "UnitAmount": 5, "AccountCode": "200"}
				],
			},
		)
		frappe.db.commit()
		before = self.emulator.call_count("POST", "/api.xro/2.0/Invoices")
		self.drain()
		self.assertEqual(self.emulator.call_count("POST", "/api.xro/2.0/Invoices") - before, 1)
		for invoice in invoices:
			if invoice.name != clash:
				self.assert_same_total(invoice)
		row = frappe.get_all(
			"Xero Outbox", filters={"reference_name": clash}, fields=["status", "last_error"]
		)[0]
		self.assertEqual(row.status, "Needs Attention")
		self.assertIn("unique", row.last_error)

	def test_faults_end_with_every_document_once(self):
		customer = make_customer("Fault Customer")
		invoices = [make_sales_invoice(customer, lines=((1, 20 + i),), tax_rate=15) for i in range(30)]
		payments = [make_payment(invoice, 5) for invoice in invoices[:10]]
		self.emulator.faults = Faults(http_500=0.10, http_429=0.05, commit_then_drop=0.03, seed=7)
		self.drain_until_empty()
		self.emulator.faults = Faults()
		for invoice in invoices:
			self.assert_same_total(invoice)
		for payment in payments:
			invoice_id = self.xero_invoice(payment.references[0].reference_name)["InvoiceID"]
			paid = [p for p in self.org().payments.values() if p["Invoice"]["InvoiceID"] == invoice_id]
			self.assertEqual(len(paid), 1)
		self.assertFalse(
			frappe.db.count(
				"Xero Outbox",
				{"status": ("!=", "Done"), "reference_name": ("in", [i.name for i in invoices])},
			)
		)


class TestBackgroundWorker(PushTestCase):
	def test_a_real_worker_drains_after_commit(self):
		customer = make_customer("Worker Customer")
		invoice = make_sales_invoice(customer, lines=((1, 42),))
		frappe.db.commit()
		self.run_worker()
		self.assert_same_total(invoice)

	def test_a_long_drain_hands_over_to_a_fresh_job_between_batches(self):
		customer = make_customer("Handover Customer")
		invoices = [make_sales_invoice(customer, lines=((1, 10 + i),)) for i in range(60)]
		frappe.db.commit()
		queue = get_queue("short")
		for job in queue.jobs:
			job.delete()  # the drains the submits queued: only the successor below may run
		with patch.object(outbox, "DRAIN_SECONDS", 0):
			self.assertEqual(push.drain(self.tenant), 1)  # the contact's batch, then it hands over
		frappe.db.commit()  # the successor is queued after commit
		self.assertEqual(self.open_rows(), 60)
		self.assertFalse(frappe.db.count("Xero Outbox", {"status": outbox.PROCESSING}))
		successors = [job for job in queue.jobs if job.kwargs["kwargs"].get("organisation") == self.tenant]
		self.assertEqual(len(successors), 1)
		self.run_worker()
		for invoice in invoices:
			self.assert_same_total(invoice)

	def run_worker(self):
		subprocess.run(
			bench_command("worker", "--burst", "--queue", "short"), cwd=sites_path(), check=True, timeout=300
		)
