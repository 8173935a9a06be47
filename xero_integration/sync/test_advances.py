"""Tier 2: advances (money received or paid ahead of its invoices) reach Xero as overpayments, and every way
a clerk allocates or frees them in ERPNext (Payment Reconciliation, an invoice's advances table,
Unreconcile Payment, a cancel) is made the same in Xero (issue 15, point 3)."""

import json
from decimal import Decimal

import frappe

from xero_integration import api
from xero_integration.sync import outbox, pull
from xero_integration.sync.test_push import PushTestCase
from xero_integration.testing import (
	accounts_manager,
	clerk,
	make_advance,
	make_customer,
	make_payment,
	make_purchase_invoice,
	make_sales_invoice,
	make_sales_order,
	make_supplier,
	reconcile,
	unreconcile,
	xero_manager,
)


class TestAdvances(PushTestCase):
	def overpayment_of(self, payment) -> dict:
		"""The Xero overpayment the Payment Entry is (it must be exactly one)."""
		link = frappe.get_all(
			"Xero Document Link",
			filters={"reference_name": payment.name, "xero_object": "Overpayment"},
			pluck="xero_id",
		)
		self.assertEqual(len(link), 1, f"{payment.name} is {len(link)} overpayments in Xero")
		return {key.lower(): value for key, value in self.org().overpayments.items()}[link[0].lower()]

	def amount_due(self, invoice) -> Decimal:
		return Decimal(str(self.xero_invoice(invoice.name)["AmountDue"]))

	def outstanding(self, invoice) -> Decimal:
		return Decimal(str(frappe.db.get_value(invoice.doctype, invoice.name, "outstanding_amount")))

	def as_clerk(self, action, *args):
		return self.as_user(clerk(), action, *args)

	def as_accounts_manager(self, action, *args):
		return self.as_user(accounts_manager(), action, *args)

	def as_user(self, user, action, *args):
		frappe.set_user(user)
		try:
			return action(*args)
		finally:
			frappe.set_user("Administrator")

	def test_a_deposit_is_an_overpayment_that_follows_reconciliation_unreconcile_and_cancel(self):
		customer = make_customer("Deposit Customer")
		invoice = make_sales_invoice(customer, lines=((1, 100),))
		deposit = self.as_clerk(make_advance, "Customer", customer, 150)
		self.drain()
		overpayment = self.overpayment_of(deposit)
		self.assertEqual((overpayment["Type"], overpayment["Total"]), ("RECEIVE-OVERPAYMENT", 150))
		self.assertEqual(overpayment["RemainingCredit"], 150)
		self.assertEqual(frappe.db.get_value("Payment Entry", deposit.name, "xero_status"), "AUTHORISED")

		self.as_clerk(reconcile, "Customer", customer, deposit.name, invoice.name)
		self.drain()
		self.assertEqual((self.outstanding(invoice), self.amount_due(invoice)), (0, 0))
		self.assertEqual(self.xero_invoice(invoice.name)["Status"], "PAID")
		self.assertEqual(self.overpayment_of(deposit)["RemainingCredit"], 50)

		self.as_clerk(unreconcile, deposit.name, invoice.name)
		self.drain()
		self.assertEqual((self.outstanding(invoice), self.amount_due(invoice)), (100, 100))
		self.assertEqual(self.overpayment_of(deposit)["RemainingCredit"], 150)

		self.as_clerk(lambda: deposit.reload().cancel())
		self.drain()
		overpayment = self.overpayment_of(deposit)
		self.assertEqual(overpayment["RemainingCredit"], 0)
		refunds = [p for p in self.org().payments.values() if p.get("Overpayment")]
		self.assertEqual(
			[
				(p["Amount"], p["Reference"])
				for p in refunds
				if p["Overpayment"]["OverpaymentID"] == overpayment["OverpaymentID"]
			],
			[(150, f"Cancelled {deposit.name}")],
		)
		self.assertEqual(self.amount_due(invoice), 100)

	def test_a_payment_larger_than_its_invoice_is_one_overpayment_allocated_to_it(self):
		customer = make_customer("Overpaying Customer")
		invoice = make_sales_invoice(customer, lines=((1, 100),))
		payment = make_advance("Customer", customer, 130, references=[("Sales Invoice", invoice.name, 100)])
		before = len(self.emulator.calls)
		self.drain()
		self.assertEqual(self.amount_due(invoice), 0)
		overpayment = self.overpayment_of(payment)
		self.assertEqual((overpayment["Total"], overpayment["RemainingCredit"]), (130, 30))
		# One bank transaction and one allocation: the advance costs two calls.
		calls = [
			(call.method, call.path.split("/")[3])
			for call in list(self.emulator.calls)[before:]
			if call.path.startswith(("/api.xro/2.0/BankTransactions", "/api.xro/2.0/Overpayments"))
		]
		self.assertEqual(calls, [("POST", "BankTransactions"), ("PUT", "Overpayments")])

	def test_a_payment_naming_a_sales_order_keeps_that_part_for_later_in_xero(self):
		customer = make_customer("Order Advance Customer")
		invoice = make_sales_invoice(customer, lines=((1, 100),))
		order = make_sales_order(customer, 40)
		payment = make_advance(
			"Customer",
			customer,
			70,
			references=[("Sales Invoice", invoice.name, 50), ("Sales Order", order.name, 20)],
		)
		self.drain()
		overpayment = self.overpayment_of(payment)
		self.assertEqual((overpayment["Total"], overpayment["RemainingCredit"]), (70, 20))
		self.assertEqual((self.outstanding(invoice), self.amount_due(invoice)), (50, 50))

	def test_an_invoice_takes_an_advance_from_its_advances_table(self):
		supplier = make_supplier("Advance Supplier")
		advance = make_advance("Supplier", supplier, 80)
		self.drain()
		self.assertEqual(self.overpayment_of(advance)["Type"], "SPEND-OVERPAYMENT")
		bill = make_purchase_invoice(supplier, lines=((1, 100),), submit=False)
		bill.allocate_advances_automatically = 0
		bill.set_advances()
		self.assertEqual([row.reference_name for row in bill.advances], [advance.name])
		bill.advances[0].allocated_amount = 80
		bill.save()
		self.as_clerk(lambda: bill.submit())
		self.drain()
		self.assertEqual((self.outstanding(bill), self.amount_due(bill)), (20, 20))
		self.assertEqual(self.overpayment_of(advance)["RemainingCredit"], 0)

	def test_an_invoice_that_allocates_advances_automatically_takes_the_deposit_in_xero(self):
		customer = make_customer("Automatic Advance Customer")
		deposit = make_advance("Customer", customer, 70)
		self.drain()
		invoice = make_sales_invoice(customer, lines=((1, 100),), submit=False)
		invoice.allocate_advances_automatically = 1
		invoice.save()
		self.as_clerk(lambda: invoice.submit())
		self.drain()
		self.assertEqual((self.outstanding(invoice), self.amount_due(invoice)), (30, 30))
		self.assertEqual(self.overpayment_of(deposit)["RemainingCredit"], 0)

	def test_unreconciling_a_plain_payment_turns_it_into_an_overpayment(self):
		customer = make_customer("Unreconciled Customer")
		invoice = make_sales_invoice(customer, lines=((1, 100),))
		payment = make_payment(invoice)
		self.drain()
		self.assertEqual(self.xero_invoice(invoice.name)["Status"], "PAID")
		self.as_clerk(unreconcile, payment.name, invoice.name)
		self.drain()
		xero_payments = [
			p["Status"]
			for p in self.org().payments.values()
			if (p.get("Invoice") or {}).get("InvoiceID") == self.xero_invoice(invoice.name)["InvoiceID"]
		]
		self.assertEqual(xero_payments, ["DELETED"])
		self.assertEqual((self.outstanding(invoice), self.amount_due(invoice)), (100, 100))
		overpayment = self.overpayment_of(payment)
		self.assertEqual((overpayment["Total"], overpayment["RemainingCredit"]), (100, 100))

	def test_cancelling_an_invoice_frees_the_advance_allocated_to_it_before_the_void(self):
		customer = make_customer("Cancelled With Advance Customer")
		invoice = make_sales_invoice(customer, lines=((1, 60),))
		deposit = make_advance("Customer", customer, 60)
		self.drain()
		reconcile("Customer", customer, deposit.name, invoice.name)
		self.drain()
		self.assertEqual(self.amount_due(invoice), 0)
		self.as_clerk(lambda: invoice.reload().cancel())
		self.drain()
		self.assertEqual(self.xero_invoice(invoice.name)["Status"], "VOIDED")
		self.assertEqual(self.overpayment_of(deposit)["RemainingCredit"], 60)
		self.assertFalse(
			frappe.db.count("Xero Outbox", {"status": outbox.NEEDS_ATTENTION, "reference_name": invoice.name})
		)

	def test_cancelling_a_paid_invoice_turns_its_payment_into_an_overpayment_before_the_void(self):
		customer = make_customer("Cancelled After Payment Customer")
		invoice = make_sales_invoice(customer, lines=((1, 80),))
		payment = make_payment(invoice)
		self.drain()
		self.assertEqual(self.xero_invoice(invoice.name)["Status"], "PAID")
		# ERPNext unlinks the payment from the invoice it cancels: the money is the customer's advance.
		self.as_accounts_manager(lambda: invoice.reload().cancel())
		self.drain()
		self.assertEqual(self.xero_invoice(invoice.name)["Status"], "VOIDED")
		self.assertEqual(frappe.db.get_value("Payment Entry", payment.name, "unallocated_amount"), 80)
		overpayment = self.overpayment_of(payment)
		self.assertEqual((overpayment["Total"], overpayment["RemainingCredit"]), (80, 80))
		self.assertFalse(frappe.db.count("Xero Outbox", {"status": outbox.NEEDS_ATTENTION}))

	def test_preview_shows_the_overpayment_then_the_allocations_xero_should_have(self):
		customer = make_customer("Previewed Deposit Customer")
		invoice = make_sales_invoice(customer, lines=((1, 100),))
		deposit = make_advance("Customer", customer, 150)
		frappe.set_user(xero_manager())
		(entry,) = api.preview("Payment Entry", deposit.name)
		payload = json.loads(entry["payload"])
		self.assertEqual(
			(entry["label"], payload["Type"], payload["LineItems"][0]["UnitAmount"]),
			("Overpayment (an advance)", "RECEIVE-OVERPAYMENT", "150.00"),
		)
		frappe.set_user("Administrator")
		self.drain()
		reconcile("Customer", customer, deposit.name, invoice.name)
		frappe.set_user(xero_manager())
		(entry,) = api.preview("Payment Entry", deposit.name)
		self.assertEqual(entry["label"], "Allocations of its overpayment")
		self.assertIn(
			{"field": "Allocations[0].Amount", "erpnext": "100.00", "xero": None}, entry["differences"]
		)
		frappe.set_user("Administrator")
		self.drain()
		(entry,) = api.preview("Payment Entry", deposit.name)
		self.assertEqual(entry["differences"], [])

	def test_what_the_push_made_of_an_advance_comes_back_from_the_pull_as_nothing(self):
		customer = make_customer("Round Trip Deposit Customer")
		invoice = make_sales_invoice(customer, lines=((1, 100),))
		deposit = make_advance("Customer", customer, 150)
		refunded = make_advance("Customer", customer, 30)
		self.drain()
		reconcile("Customer", customer, deposit.name, invoice.name)
		refunded.reload().cancel()
		self.drain()
		before = (
			frappe.get_all(
				"Payment Entry", filters={"party": customer}, fields=["name", "modified", "docstatus"]
			),
			frappe.db.count("Unreconcile Payment"),
			frappe.db.count("Xero Outbox"),
		)
		frappe.db.commit()
		counts = pull.pull_organisation(self.tenant)
		frappe.db.commit()
		self.assertEqual((counts.get("created", 0), counts.get("updated", 0)), (0, 0), counts)
		after = (
			frappe.get_all(
				"Payment Entry", filters={"party": customer}, fields=["name", "modified", "docstatus"]
			),
			frappe.db.count("Unreconcile Payment"),
			frappe.db.count("Xero Outbox"),
		)
		self.assertEqual(after, before)
		self.assertEqual(self.outstanding(invoice), 0)
		# A later change in ERPNext is still sent: the pull left the push's allocation as it was.
		unreconcile(deposit.name, invoice.name)
		calls = len(self.emulator.calls)
		self.drain()
		self.assertEqual(self.amount_due(invoice), 100)
		self.assertEqual(
			[c.method for c in list(self.emulator.calls)[calls:] if "/Overpayments/" in c.path], ["DELETE"]
		)
