"""Tier 2: ERPNext documents submitted, cancelled and amended in a real site reach the emulated Xero
exactly once, with equal totals, through the outbox and the drain job."""

import subprocess
import time
from decimal import Decimal
from unittest.mock import patch

import frappe
from frappe.utils import flt
from frappe.utils.background_jobs import get_queue

from xero_integration import api
from xero_integration.emulator import Faults
from xero_integration.sync import connection, outbox, pull, push
from xero_integration.sync.outbound import invoices as outbound_invoices
from xero_integration.testing import (
	ABBR,
	COMPANY,
	XeroTestCase,
	accounts_manager,
	bench_command,
	clerk,
	expense_account,
	make_customer,
	make_payment,
	make_payment_with_deduction,
	make_purchase_invoice,
	make_sales_invoice,
	make_supplier,
	mode_of_payment_account,
	sites_path,
	write_off,
	xero_manager,
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

	def test_a_commit_queues_one_drain_unless_one_waits_and_a_rollback_queues_none(self):
		customer = make_customer("Drain Customer")
		frappe.db.commit()
		outbox.drain_started(self.tenant)  # no drain waits for this organisation
		with patch.object(frappe, "enqueue") as enqueue:
			make_sales_invoice(customer)  # queues the customer and the invoice: one drain, at commit
			frappe.db.rollback()
			self.assertEqual(enqueue.call_count, 0)  # rolled back: nothing to drain
			make_sales_invoice(customer)
			self.assertEqual(enqueue.call_count, 0)  # not before the commit
			frappe.db.commit()
			self.assertEqual(enqueue.call_count, 1)
			make_sales_invoice(customer)
			frappe.db.commit()
			self.assertEqual(enqueue.call_count, 1)  # that drain still waits: it will send this one too
			outbox.drain_started(self.tenant)
			make_sales_invoice(customer)
			frappe.db.commit()
			self.assertEqual(enqueue.call_count, 2)  # the drain has started: this commit needs its own
		drains = {call.kwargs["job_id"] for call in enqueue.call_args_list}
		self.assertEqual(drains, {f"xero_integration:drain:{self.tenant}"})
		self.assertFalse(any(call.kwargs["enqueue_after_commit"] for call in enqueue.call_args_list))

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
		# A bookkeeper records the payment in Xero; the invoice is cancelled in ERPNext before a pull
		# brings that payment in, so Xero refuses the void.
		self.xero.pay_in_xero(self.tenant, self.xero_invoice(invoice.name)["InvoiceID"], 80)
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


class TestPaidAtOnce(PushTestCase):
	"""Invoices that carry their own payment (issue 15, point 4): it reaches Xero with them."""

	def payments_of(self, number: str) -> list[dict]:
		invoice_id = self.xero_invoice(number)["InvoiceID"]
		return [p for p in self.org().payments.values() if p["Invoice"]["InvoiceID"] == invoice_id]

	def test_a_pos_invoice_is_paid_in_xero_per_mode_of_payment_and_its_cancel_undoes_both(self):
		for mode in ("Wire Transfer", "Cash"):
			mode_of_payment_account(mode, f"Cash - {ABBR}")
		customer = make_customer("POS Customer")
		invoice = make_sales_invoice(
			customer,
			lines=((1, 115),),
			submit=False,
			is_pos=1,
			payments=[
				{"mode_of_payment": "Wire Transfer", "account": f"Cash - {ABBR}", "amount": 80},
				{"mode_of_payment": "Cash", "account": f"Cash - {ABBR}", "amount": 40},
			],
		)
		invoice.change_amount, invoice.account_for_change_amount = 5, f"Cash - {ABBR}"
		invoice.submit()
		self.drain()
		xero = self.xero_invoice(invoice.name)
		self.assertEqual((xero["Status"], xero["AmountDue"]), ("PAID", 0))
		self.assertEqual(
			sorted(p["Amount"] for p in self.payments_of(invoice.name)), [Decimal("35"), Decimal("80")]
		)
		frappe.set_user(clerk())
		invoice.reload().cancel()
		frappe.set_user("Administrator")
		self.drain()
		self.assertEqual({p["Status"] for p in self.payments_of(invoice.name)}, {"DELETED"})
		self.assertEqual(self.xero_invoice(invoice.name)["Status"], "VOIDED")

	def test_a_purchase_invoice_marked_paid_reaches_xero_paid(self):
		mode_of_payment_account("Cash", f"Cash - {ABBR}")
		supplier = make_supplier("Paid At Once Supplier")
		bill = make_purchase_invoice(
			supplier,
			lines=((2, 30),),
			submit=False,
			is_paid=1,
			mode_of_payment="Cash",
			cash_bank_account=f"Cash - {ABBR}",
		)
		bill.paid_amount = 60
		bill.submit()
		self.drain()
		found = [
			i
			for i in self.org().invoices.values()
			if i.get("Type") == "ACCPAY" and i.get("Reference") == bill.name
		]
		self.assertEqual(len(found), 1)
		self.assertEqual((found[0]["Status"], found[0]["AmountPaid"]), ("PAID", 60))


class TestOtherSettlements(PushTestCase):
	"""Every way ERPNext settles what is owed reaches Xero (issue 15, points 1 and 2)."""

	@classmethod
	def link_organisations(cls):
		super().link_organisations()
		# 415 is an account with payments enabled in Xero (emulator seed); 400 is one without.
		cls.bad_debts = expense_account("Xero Bad Debts")
		cls.unpayable = expense_account("Xero Write Off")
		cls.xero.link_company(
			cls.tenant,
			account_mappings=[
				{"account": cls.bad_debts, "xero_account_code": "415"},
				{"account": cls.unpayable, "xero_account_code": "400"},
			],
		)

	def payments_on(self, invoice) -> list[dict]:
		invoice_id = self.xero_invoice(invoice.name)["InvoiceID"]
		return [
			(p["Account"]["Code"], p["Amount"], p["Status"])
			for p in self.org().payments.values()
			if p["Invoice"]["InvoiceID"] == invoice_id
		]

	def test_an_invoice_written_off_by_journal_is_paid_in_xero_from_the_write_off_account(self):
		invoice = make_sales_invoice(make_customer("Bad Debt Customer"), lines=((1, 200),))
		self.drain()
		frappe.set_user(clerk())
		journal = write_off(invoice, 200, self.bad_debts)
		frappe.set_user("Administrator")
		self.drain()
		self.assertEqual(self.payments_on(invoice), [("415", Decimal("200.00"), "AUTHORISED")])
		self.assertEqual(self.xero_invoice(invoice.name)["AmountDue"], 0)
		self.assertEqual(frappe.db.get_value("Sales Invoice", invoice.name, "outstanding_amount"), 0)
		journal.reload().cancel()
		self.drain()
		self.assertEqual(self.payments_on(invoice), [("415", Decimal("200.00"), "DELETED")])
		self.assertEqual(self.xero_invoice(invoice.name)["AmountDue"], 200)

	def test_cancelling_a_written_off_invoice_removes_the_write_off_and_says_where_its_credit_went(self):
		invoice = make_sales_invoice(make_customer("Written Off Then Cancelled Customer"), lines=((1, 40),))
		self.drain()
		journal = write_off(invoice, 40, self.bad_debts)
		self.drain()
		frappe.set_user(accounts_manager())
		invoice.reload().cancel()
		frappe.set_user("Administrator")
		self.drain()
		self.assertEqual(self.xero_invoice(invoice.name)["Status"], "VOIDED")
		self.assertEqual(self.payments_on(invoice), [("415", Decimal("40.00"), "DELETED")])
		# ERPNext keeps the journal's credit on the customer's account, which Xero has nowhere: said so.
		row = frappe.db.get_value(
			"Xero Outbox",
			{"reference_name": journal.name, "operation": "delete"},
			["status", "last_error"],
			as_dict=True,
		)
		self.assertEqual(row.status, outbox.NEEDS_ATTENTION)
		self.assertIn(f"cancel {journal.name}", row.last_error)

	def test_a_write_off_from_an_account_xero_pays_nothing_from_is_a_credit_note_allocated_to_the_invoice(
		self,
	):
		invoice = make_sales_invoice(make_customer("Credit Note Write Off Customer"), lines=((1, 30),))
		self.drain()
		frappe.set_user(clerk())
		journal = write_off(invoice, 30, self.unpayable)
		frappe.set_user("Administrator")
		self.drain()
		xero = self.xero_invoice(invoice.name)
		self.assertEqual((xero["Status"], xero["AmountDue"]), ("PAID", 0))
		self.assertEqual(self.payments_on(invoice), [])
		note = self.write_off_note(journal, invoice)
		self.assertEqual(
			(note["Type"], note["Total"], note["RemainingCredit"], note["LineItems"][0]["AccountCode"]),
			("ACCRECCREDIT", 30, 0, "400"),
		)
		# The pull leaves it alone: it is the journal's, not a return made in Xero.
		counts = pull.pull_organisation(self.tenant)
		frappe.db.commit()
		self.assertEqual((counts.get("created", 0), counts.get("updated", 0)), (0, 0), counts)

		frappe.set_user(clerk())
		journal.reload().cancel()
		frappe.set_user("Administrator")
		self.drain()
		self.assertEqual(self.write_off_note(journal, invoice)["Status"], "VOIDED")
		self.assertEqual(self.xero_invoice(invoice.name)["AmountDue"], 30)

	def test_a_write_off_credit_note_xero_would_not_allocate_is_allocated_on_retry_not_made_again(self):
		invoice = make_sales_invoice(make_customer("Paid Meanwhile Write Off Customer"), lines=((1, 30),))
		self.drain()
		# Paid in Xero meanwhile: the write-off's credit note is made, its allocation refused.
		paid = self.xero.pay_in_xero(self.tenant, self.xero_invoice(invoice.name)["InvoiceID"], 30)
		journal = write_off(invoice, 30, self.unpayable)
		self.drain()
		row = frappe.db.get_value(
			"Xero Outbox", {"reference_name": journal.name}, ["name", "status"], as_dict=True
		)
		self.assertEqual(row.status, outbox.NEEDS_ATTENTION)
		self.assertEqual(self.write_off_note(journal, invoice)["RemainingCredit"], 30)
		# The bookkeeper removes the payment in Xero; a manager presses Retry.
		self.xero.as_bookkeeper(
			self.tenant, "POST", f"Payments/{paid['PaymentID']}", {"Payments": [{"Status": "DELETED"}]}
		)
		frappe.set_user(xero_manager())
		api.retry([row.name])
		frappe.set_user("Administrator")
		self.drain()
		self.assertEqual(self.write_off_note(journal, invoice)["RemainingCredit"], 0)  # one note, allocated
		self.assertEqual(self.xero_invoice(invoice.name)["AmountDue"], 0)

	def write_off_note(self, journal, invoice) -> dict:
		(note,) = [
			c
			for c in self.org().credit_notes.values()
			if c.get("CreditNoteNumber") == f"{journal.name}-{invoice.name}"
		]
		return note

	def test_a_deduction_to_an_account_xero_pays_nothing_from_waits_with_its_reason(self):
		invoice = make_sales_invoice(make_customer("Unpayable Deduction Customer"), lines=((1, 30),))
		self.drain()
		payment = make_payment_with_deduction(invoice, 5, self.unpayable)
		self.drain()
		row = frappe.db.get_value(
			"Xero Outbox", {"reference_name": payment.name}, ["status", "last_error"], as_dict=True
		)
		self.assertEqual(row.status, outbox.NEEDS_ATTENTION)
		self.assertIn("payments to it are not enabled", row.last_error)  # Xero's words
		self.assertIn("Enable payments to this account", row.last_error)  # and what to do
		self.assertEqual(self.xero_invoice(invoice.name)["AmountDue"], 5)  # the bank's part is paid

	def test_a_payment_with_a_deduction_books_the_bank_part_and_the_deduction_in_xero(self):
		invoice = make_sales_invoice(make_customer("Deduction Customer"), lines=((1, 100),))
		self.drain()
		make_payment_with_deduction(invoice, 5, self.bad_debts)
		self.drain()
		self.assertEqual(
			sorted(self.payments_on(invoice)),
			[("090", Decimal("95.00"), "AUTHORISED"), ("415", Decimal("5.00"), "AUTHORISED")],
		)
		self.assertEqual(self.xero_invoice(invoice.name)["Status"], "PAID")


class TestPoisonAndParking(PushTestCase):
	def test_an_unexpected_error_on_one_document_parks_it_with_its_traceback_and_the_batch_goes_on(self):
		from xero_integration.core.mapping import invoice as invoice_mapping

		customer = make_customer("Poison Customer")
		invoices = [make_sales_invoice(customer, lines=((1, 10 + i),)) for i in range(5)]
		poisoned = invoices[2].name
		real_map = invoice_mapping.map_invoice

		def map_invoice(doc, *args, **kwargs):
			if doc.name == poisoned:
				raise KeyError("a field the mapping did not expect")
			return real_map(doc, *args, **kwargs)

		with patch.object(outbound_invoices, "map_invoice", map_invoice):
			self.drain()
		for invoice in invoices:
			if invoice.name != poisoned:
				self.assert_same_total(invoice)
		row = frappe.db.get_value(
			"Xero Outbox", {"reference_name": poisoned}, ["status", "attempts", "last_error"], as_dict=True
		)
		self.assertEqual((row.status, row.attempts), (outbox.NEEDS_ATTENTION, 1))
		log = frappe.get_last_doc("Xero Sync Log", filters={"reference_name": poisoned})
		self.assertEqual(log.status, "Needs Attention")
		self.assertIn("KeyError", log.traceback)
		self.drain()  # the next drain does not stumble over it again
		self.assertEqual(frappe.db.get_value("Xero Outbox", {"reference_name": poisoned}, "attempts"), 1)

	def test_a_row_that_keeps_failing_is_parked_instead_of_retried_for_ever(self):
		customer = make_customer("Parked Customer")
		invoice = make_sales_invoice(customer, lines=((1, 33),))
		self.emulator.outage(True)
		for _attempt in range(outbox.MAX_ATTEMPTS + 2):
			frappe.db.sql("update `tabXero Outbox` set next_attempt_at=null where status='Pending'")
			self.drain()
		self.emulator.outage(False)
		row = frappe.db.get_value(
			"Xero Outbox", {"reference_name": customer}, ["status", "attempts", "last_error"], as_dict=True
		)
		self.assertEqual((row.status, row.attempts), (outbox.NEEDS_ATTENTION, outbox.MAX_ATTEMPTS))
		self.assertIn("Retry", row.last_error)
		# Retry starts the count afresh, and the work goes through.
		outbox.retry(frappe.get_all("Xero Outbox", filters={"status": outbox.NEEDS_ATTENTION}, pluck="name"))
		self.drain_until_empty()
		self.assert_same_total(invoice)

	def test_a_payment_removed_in_xero_meanwhile_is_settled_when_its_entry_is_cancelled(self):
		customer = make_customer("Removed Payment Customer")
		invoice = make_sales_invoice(customer, lines=((1, 70),))
		payment = make_payment(invoice, 70)
		self.drain()
		payment_id = next(iter(self.org().payments))
		del self.org().payments[payment_id]  # gone from Xero (a restore of an older copy, say)
		payment.reload().cancel()
		self.drain()
		row = frappe.db.get_value(
			"Xero Outbox", {"reference_name": payment.name, "operation": "delete"}, "status"
		)
		self.assertEqual(row, "Done")
		self.assertTrue(
			frappe.db.exists(
				"Xero Sync Log",
				{"reference_name": payment.name, "status": "Success", "message": ("like", "%no longer%")},
			)
		)

	def test_a_contact_restore_that_xero_refuses_is_parked_with_its_words(self):
		customer = make_customer("Restore Clash")
		make_sales_invoice(customer)
		self.drain()
		contact_id = frappe.db.get_value("Customer", customer, "xero_id")
		# A bookkeeper archived the contact and made a new one of the same name.
		self.org().contacts[contact_id]["ContactStatus"] = "ARCHIVED"
		self.xero.create_in_xero(self.tenant, "Contacts", {"Name": "Restore Clash"})
		invoice = make_sales_invoice(customer, lines=((1, 12),))
		frappe.db.commit()
		before = self.api_calls()
		push.drain(self.tenant, max_batches=10)
		self.assertLess(self.api_calls() - before, 6)
		row = frappe.db.get_value(
			"Xero Outbox", {"reference_name": invoice.name}, ["status", "last_error"], as_dict=True
		)
		self.assertEqual(row.status, outbox.NEEDS_ATTENTION)
		self.assertIn("already assigned to another contact", row.last_error)


class TestDuplicateWork(PushTestCase):
	def test_two_queue_rows_for_one_contact_make_one_xero_contact(self):
		customer = make_customer("Twice Queued Customer")
		frappe.db.commit()
		for _row in range(2):  # as two transactions racing each other could leave them
			outbox.insert_row(
				organisation=self.tenant,
				company=COMPANY,
				object_type="Contact",
				operation="upsert",
				stage=0,
				reference_doctype="Customer",
				reference_name=customer,
				status=outbox.PENDING,
			)
		self.drain()
		named = [c for c in self.org().contacts.values() if c["Name"].startswith("Twice Queued Customer")]
		self.assertEqual(len(named), 1)
		statuses = frappe.get_all("Xero Outbox", filters={"reference_name": customer}, pluck="status")
		self.assertEqual(sorted(statuses), ["Cancelled", "Done"])

	def test_waiting_rows_of_an_earlier_version_are_keyed_and_their_duplicates_merged_on_migrate(self):
		from xero_integration.patches import outbox_open_keys

		customer = make_customer("Legacy Queued Customer")
		first, second = (
			outbox.insert_row(
				organisation=self.tenant,
				company=COMPANY,
				object_type="Contact",
				operation="upsert",
				stage=0,
				reference_doctype="Customer",
				reference_name=customer,
				status=outbox.PENDING,
				uncertain=uncertain,
			)
			for uncertain in (0, 1)
		)
		outbox_open_keys.execute()
		kept = frappe.db.get_value("Xero Outbox", first, ["status", "uncertain", "open_key"], as_dict=True)
		self.assertEqual((kept.status, kept.uncertain), (outbox.PENDING, 1))
		self.assertTrue(kept.open_key)
		self.assertEqual(frappe.db.get_value("Xero Outbox", second, "status"), outbox.CANCELLED)
		# From now on the same work queued again lands on that row.
		outbox.enqueue(self.tenant, "Contact", "upsert", "Customer", customer)
		self.assertEqual(outbox.waiting_row(self.tenant, "Contact", "upsert", "Customer", customer), first)

	def test_invoices_of_a_new_customer_submitted_at_once_queue_its_contact_once(self):
		customer = make_customer("Simultaneous Customer")
		frappe.db.commit()
		# Two clerks in two processes: both transactions are open when each queues the new customer.
		submits = [
			subprocess.Popen(
				bench_command(
					"execute",
					"xero_integration.testing.submit_slowly",
					"--kwargs",
					frappe.as_json({"customer": customer, "rate": 10 + i, "hold_seconds": 6}),
				),
				cwd=sites_path(),
			)
			for i in range(2)
		]
		for submit in submits:
			self.assertEqual(submit.wait(timeout=120), 0)
		frappe.db.commit()
		self.assertEqual(
			frappe.db.count("Xero Outbox", {"reference_name": customer, "object_type": "Contact"}), 1
		)
		self.drain()
		named = [c for c in self.org().contacts.values() if c["Name"].startswith("Simultaneous Customer")]
		self.assertEqual(len(named), 1)


class TestUncertainPayments(PushTestCase):
	def test_an_unanswered_payment_is_sent_again_with_the_same_key_and_xero_replays_it(self):
		customer = make_customer("Replay Customer")
		invoice = make_sales_invoice(customer, lines=((1, 40),))
		self.drain()
		make_payment(invoice, 40)
		self.emulator.faults = Faults(commit_then_drop=1.0, only_paths=("/Payments",))
		self.drain()
		self.emulator.faults = Faults()
		replays = self.emulator.idempotent_replays
		self.drain_until_empty()
		self.assertEqual(self.emulator.idempotent_replays - replays, 1)
		invoice_id = self.xero_invoice(invoice.name)["InvoiceID"]
		live = [p for p in self.org().payments.values() if p["Invoice"]["InvoiceID"] == invoice_id]
		self.assertEqual(len(live), 1)

	def test_a_quote_in_a_reference_number_does_not_break_the_look_up(self):
		customer = make_customer("Quoted Reference Customer")
		invoice = make_sales_invoice(customer, lines=((1, 25),))
		self.drain()
		payment = make_payment(invoice, 25, submit=False)
		payment.reference_no = 'CHQ "17"'
		payment.submit()
		self.emulator.faults = Faults(commit_then_drop=1.0, only_paths=("/Payments",))
		self.drain()
		self.emulator.faults = Faults()
		time.sleep(7 * 60 / self.time_scale)  # past Xero's idempotency window: only a look-up can tell
		self.drain_until_empty()
		invoice_id = self.xero_invoice(invoice.name)["InvoiceID"]
		live = [p for p in self.org().payments.values() if p["Invoice"]["InvoiceID"] == invoice_id]
		self.assertEqual(len(live), 1)
		self.assertEqual(
			frappe.db.get_value("Xero Outbox", {"reference_name": payment.name}, "status"), "Done"
		)

	def test_a_payment_linked_to_another_entry_is_never_adopted(self):
		customer = make_customer("Two Cheques Customer")
		invoice = make_sales_invoice(customer, lines=((1, 100),))
		self.drain()
		first = make_payment(invoice, 10, submit=False)
		first.reference_no = "CHQ-SAME"
		first.submit()
		self.drain()
		second = make_payment(invoice, 10, submit=False)
		second.reference_no = "CHQ-SAME"
		second.submit()
		self.emulator.faults = Faults(commit_then_drop=1.0, only_paths=("/Payments",))
		self.drain()
		self.emulator.faults = Faults()
		time.sleep(7 * 60 / self.time_scale)
		self.drain_until_empty()
		first_id = frappe.db.get_value("Xero Document Link", {"reference_name": first.name}, "xero_id")
		second_id = frappe.db.get_value("Xero Document Link", {"reference_name": second.name}, "xero_id")
		self.assertTrue(first_id and second_id)
		self.assertNotEqual(first_id, second_id)
		invoice_id = self.xero_invoice(invoice.name)["InvoiceID"]
		live = [p for p in self.org().payments.values() if p["Invoice"]["InvoiceID"] == invoice_id]
		self.assertEqual(len(live), 2)


class TestAccessRemovedInXero(PushTestCase):
	def test_an_organisation_that_refuses_us_is_marked_once_and_its_queue_waits(self):
		xero_manager()  # someone to tell
		managers = frappe.db.count("Has Role", {"role": "Xero Manager", "parenttype": "User"})
		customer = make_customer("Removed Access Customer")
		invoice = make_sales_invoice(customer, lines=((1, 21),))
		frappe.db.commit()
		# Someone removed the app's connection to this organisation in Xero.
		connection.client_for(None).delete_connection(
			frappe.db.get_value("Xero Organisation", self.tenant, "connection_id")
		)
		notified = frappe.db.count(
			"Notification Log", {"subject": ("like", "Xero needs to be reconnected for%")}
		)
		for _minute in range(3):  # the scheduler's drains, a minute apart
			self.drain()
		self.assertEqual(frappe.db.get_value("Xero Organisation", self.tenant, "status"), "Reconnect Needed")
		self.assertEqual(
			frappe.db.count("Xero Sync Log", {"organisation": self.tenant, "status": "Failed"}), 1
		)
		self.assertEqual(
			frappe.db.count("Notification Log", {"subject": ("like", "Xero needs to be reconnected for%")})
			- notified,
			managers,
		)
		self.assertEqual(
			frappe.db.get_value("Xero Outbox", {"reference_name": invoice.name}, "status"), outbox.PENDING
		)


class TestFamilies(PushTestCase):
	def test_no_two_object_families_name_a_method_alike(self):
		# The drain is one class made of every family: a name two families define would silently run
		# one family's method for the other's work (an allocation saved by the wrong one once did).
		from xero_integration.sync.outbound.base import Outbound

		owners = {}
		for family in push.Pusher.__bases__:
			for name in set(vars(family)) - set(vars(Outbound)) - {"HANDLES", "__doc__", "__module__"}:
				owners.setdefault(name, []).append(family.__name__)
		self.assertEqual({name: f for name, f in owners.items() if len(f) > 1}, {})


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
		# An id of its own: queued once however often it is handed, and never beside a second drain.
		self.assertEqual(
			successors[0].id, f"{frappe.local.site}::xero_integration:drain:handover:{self.tenant}"
		)
		self.run_worker()
		for invoice in invoices:
			self.assert_same_total(invoice)

	def run_worker(self):
		subprocess.run(
			bench_command("worker", "--burst", "--queue", "short"), cwd=sites_path(), check=True, timeout=300
		)
