"""Tier 2: returns applied to invoices reach Xero as credit note allocations: to the invoice a return was
made against, or, by Payment Reconciliation, to another invoice of the party (issue 15, point 5); a
cancel removes the allocation."""

from decimal import Decimal

import frappe
from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

from xero_integration.sync.test_push import PushTestCase
from xero_integration.testing import accounts_manager, clerk, make_customer, make_sales_invoice, reconcile


class TestReturnsApplied(PushTestCase):
	def credit_note(self, credit) -> dict:
		(note,) = [c for c in self.org().credit_notes.values() if c.get("CreditNoteNumber") == credit.name]
		return note

	def amount_due(self, invoice) -> Decimal:
		return Decimal(str(self.xero_invoice(invoice.name)["AmountDue"]))

	def outstanding(self, invoice) -> Decimal:
		return Decimal(str(frappe.db.get_value(invoice.doctype, invoice.name, "outstanding_amount")))

	def credit_on_account(self, invoice, qty=-1):
		"""A return of one unit that keeps its own outstanding: a credit for the customer to use later."""
		credit = make_sales_return(invoice.name)
		credit.items[0].qty = qty
		credit.update_outstanding_for_self = 1
		credit.insert()
		credit.submit()
		return credit

	def test_a_return_applied_to_another_invoice_is_allocated_there_and_its_cancel_undoes_it(self):
		customer = make_customer("Credit Elsewhere Customer")
		returned = make_sales_invoice(customer, lines=((4, 25),))
		other = make_sales_invoice(customer, lines=((1, 60),))
		credit = self.credit_on_account(returned)  # 25.00 of credit
		self.drain()
		self.assertEqual(Decimal(str(self.credit_note(credit)["RemainingCredit"])), 25)

		frappe.set_user(clerk())
		reconcile("Customer", customer, credit.name, other.name)
		frappe.set_user("Administrator")
		journal = frappe.get_last_doc("Journal Entry", {"voucher_type": "Credit Note", "docstatus": 1})
		self.drain()
		self.assertEqual((self.outstanding(other), self.amount_due(other)), (35, 35))
		self.assertEqual(Decimal(str(self.credit_note(credit)["RemainingCredit"])), 0)
		self.assertEqual((self.outstanding(returned), self.amount_due(returned)), (100, 100))
		# A journal is no payment: nothing else reached Xero for it.
		self.assertFalse(
			frappe.db.exists(
				"Xero Document Link", {"reference_name": journal.name, "xero_object": ("like", "Payment:%")}
			)
		)

		frappe.set_user(clerk())
		journal.reload().cancel()
		frappe.set_user("Administrator")
		self.drain()
		self.assertEqual((self.outstanding(other), self.amount_due(other)), (60, 60))
		self.assertEqual(Decimal(str(self.credit_note(credit)["RemainingCredit"])), 25)

	def test_cancelling_a_return_allocated_to_its_invoice_removes_the_allocation_before_the_void(self):
		customer = make_customer("Cancelled Return Customer")
		invoice = make_sales_invoice(customer, lines=((4, 25),))
		self.drain()
		credit = make_sales_return(invoice.name)
		credit.items[0].qty = -1
		credit.update_outstanding_for_self = 0
		credit.insert()
		credit.submit()
		self.drain()
		self.assertEqual(self.amount_due(invoice), 75)
		frappe.set_user(accounts_manager())
		credit.reload().cancel()
		frappe.set_user("Administrator")
		self.drain()
		self.assertEqual(self.credit_note(credit)["Status"], "VOIDED")
		self.assertEqual((self.outstanding(invoice), self.amount_due(invoice)), (100, 100))

	def test_a_return_xero_will_not_allocate_waits_with_xeros_words(self):
		customer = make_customer("Paid Elsewhere Credit Customer")
		returned = make_sales_invoice(customer, lines=((4, 25),))
		other = make_sales_invoice(customer, lines=((1, 60),))
		credit = self.credit_on_account(returned)
		self.drain()
		# The other invoice is paid in Xero meanwhile; ERPNext does not know yet.
		self.xero.pay_in_xero(self.tenant, self.xero_invoice(other.name)["InvoiceID"], 60)
		reconcile("Customer", customer, credit.name, other.name)
		journal = frappe.get_last_doc("Journal Entry", {"voucher_type": "Credit Note", "docstatus": 1})
		self.drain()
		row = frappe.db.get_value(
			"Xero Outbox", {"reference_name": journal.name}, ["status", "last_error"], as_dict=True
		)
		self.assertEqual(row.status, "Needs Attention")
		self.assertIn("Allocations can only be made", row.last_error)  # Xero's words, not a traceback
		self.assertNotIn("unexpected", row.last_error)
		self.assertEqual(Decimal(str(self.credit_note(credit)["RemainingCredit"])), 25)
