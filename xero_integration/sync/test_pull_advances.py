"""Tier 2: prepayments and overpayments a bookkeeper records in (emulated) Xero, their allocations and
refunds, reach a real ERPNext site through the pull as advances, reconciliations and refunds; advances the
push sent come back as nothing."""

import datetime
from decimal import Decimal

import frappe
from frappe.utils import flt, nowdate

from xero_integration.emulator.xerojson import ms_timestamp
from xero_integration.sync import links
from xero_integration.sync.test_pull import InboundTestCase
from xero_integration.testing import ABBR, COMPANY, receivable_account

CASH, DEBTORS, CREDITORS = f"Cash - {ABBR}", f"Debtors - {ABBR}", f"Creditors - {ABBR}"


class TestPullAdvances(InboundTestCase):
	# ---- a bookkeeper at work in Xero ---------------------------------------------------------------

	def advance(self, contact: dict, type_: str, amount, *, account="200", tax="NONE", **values) -> dict:
		"""Receive (or spend) money in Xero as a prepayment or overpayment: the bank transaction it takes."""
		return self.xero_request(
			"PUT",
			"BankTransactions",
			{
				"BankTransactions": [
					{
						"Type": type_,
						"Contact": {"ContactID": contact["ContactID"]},
						"BankAccount": {"Code": "090"},
						"Date": nowdate(),
						"Reference": f"Advance {self.run_id}",
						"LineAmountTypes": "Exclusive",
						**values,
						"LineItems": [
							{
								"Description": "Deposit",
								"Quantity": 1,
								"UnitAmount": amount,
								"AccountCode": account,
								"TaxType": tax,
							}
						],
					}
				]
			},
		)["BankTransactions"][0]

	def allocate(self, resource: str, credit_id: str, invoice: dict, amount) -> dict:
		return self.xero_request(
			"PUT",
			f"{resource}/{credit_id}/Allocations",
			{
				"Allocations": [
					{"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": amount, "Date": nowdate()}
				]
			},
		)["Allocations"][0]

	def refund(self, kind: str, credit_id: str, amount) -> dict:
		return self.xero.create_in_xero(
			self.tenant,
			"Payments",
			{kind: {f"{kind}ID": credit_id}, "Account": {"Code": "090"}, "Date": nowdate(), "Amount": amount},
		)

	def last_changed_a_year_ago(self, collection: str, xero_id: str) -> None:
		"""Xero's history: a record the pull's watermark has passed, read only when something needs it."""
		year_ago = self.emulator.clock.utcnow() - datetime.timedelta(days=365)
		getattr(self.org(), collection)[xero_id]["UpdatedDateUTC"] = ms_timestamp(year_ago)

	# ---- what ERPNext shows -------------------------------------------------------------------------

	def invoice_state(self, doctype: str, name: str) -> tuple[float, str]:
		outstanding, status = frappe.db.get_value(doctype, name, ["outstanding_amount", "status"])
		return flt(outstanding, 2), status

	def references(self, entry) -> list[tuple[str, float]]:
		entry.reload()
		return [
			(r.reference_name, flt(r.allocated_amount, 2)) for r in entry.references if r.allocated_amount
		]

	def allocation_links(self, entry) -> list[tuple[str, str]]:
		return [
			(link.xero_object, link.xero_id)
			for link in links.links_of(self.tenant, "Payment Entry", entry.name, links.ALLOCATION)
		]

	# ---- tests ----------------------------------------------------------------------------------------

	def test_an_overpayment_allocated_in_xero_pays_the_invoice_until_the_allocation_is_deleted(self):
		contact = self.contact("Paid Too Much")
		invoice = self.invoice(contact, [(2, 50, "200", "OUTPUT2")], number="OVER")  # 115.00
		made = self.advance(contact, "RECEIVE-OVERPAYMENT", 150)
		overpayment_id = made["OverpaymentID"]
		allocation = self.allocate("Overpayments", overpayment_id, invoice, 115)
		self.last_changed_a_year_ago("invoices", invoice["InvoiceID"])  # brought in for the allocation
		self.pull()

		sales_invoice = self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice")
		advance = self.document_of("Overpayment", overpayment_id, "Payment Entry")
		self.assertEqual(
			(advance.docstatus, advance.payment_type, advance.party_type, advance.party),
			(1, "Receive", "Customer", sales_invoice.customer),
		)
		self.assertEqual((flt(advance.paid_amount, 2), flt(advance.unallocated_amount, 2)), (150.0, 35.0))
		self.assertEqual(self.references(advance), [(sales_invoice.name, 115.0)])
		self.assertEqual(self.invoice_state("Sales Invoice", sales_invoice.name), (0.0, "Paid"))
		self.assertEqual(self.ledger(advance.name), {CASH: Decimal("150.00"), DEBTORS: Decimal("-150.00")})
		self.assertEqual(
			self.allocation_links(advance),
			[(f"Allocation:Sales Invoice:{sales_invoice.name}", allocation["AllocationID"])],
		)
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": advance.name}))

		counts = self.pull()  # read again: nothing to do
		self.assertEqual((counts.get("created", 0), counts.get("updated", 0)), (0, 0), counts)
		self.assertEqual(self.references(advance), [(sales_invoice.name, 115.0)])

		self.xero_request(
			"DELETE", f"Overpayments/{overpayment_id}/Allocations/{allocation['AllocationID']}", None
		)
		self.pull()
		self.assertEqual(self.invoice_state("Sales Invoice", sales_invoice.name), (115.0, "Unpaid"))
		advance.reload()
		self.assertEqual(flt(advance.unallocated_amount, 2), 150.0)
		self.assertEqual(self.references(advance), [])
		self.assertEqual(self.allocation_links(advance), [])
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": advance.name}))

	def test_a_refund_of_an_overpayment_pays_the_customer_back_out_of_the_advance(self):
		contact = self.contact("Refunded Customer")
		made = self.advance(contact, "RECEIVE-OVERPAYMENT", 60)
		refund = self.refund("Overpayment", made["OverpaymentID"], 20)
		self.last_changed_a_year_ago("overpayments", made["OverpaymentID"])  # brought in for the refund
		self.pull()

		advance = self.document_of("Overpayment", made["OverpaymentID"], "Payment Entry")
		paid_back = self.document_of("Refund", refund["PaymentID"], "Payment Entry")
		self.assertEqual(
			(paid_back.docstatus, paid_back.payment_type, paid_back.party, flt(paid_back.paid_amount, 2)),
			(1, "Pay", advance.party, 20.0),
		)
		self.assertEqual(self.ledger(paid_back.name), {DEBTORS: Decimal("20.00"), CASH: Decimal("-20.00")})
		advance.reload()
		self.assertEqual(flt(advance.unallocated_amount, 2), 40.0)
		self.assertEqual(self.references(advance), [(paid_back.name, 20.0)])
		self.assertFalse(
			frappe.db.exists("Xero Outbox", {"reference_name": ("in", [advance.name, paid_back.name])})
		)

		self.xero_request("POST", f"Payments/{refund['PaymentID']}", {"Status": "DELETED"})
		self.pull()
		paid_back.reload()
		self.assertEqual(paid_back.docstatus, 2)
		advance.reload()
		self.assertEqual(flt(advance.unallocated_amount, 2), 60.0)
		self.assertEqual(self.ledger(paid_back.name), {})

	def test_a_supplier_prepayment_pays_a_bill_and_one_with_tax_waits_without_blocking_it(self):
		supplier = self.contact("Prepaid Supplier")
		bill = self.invoice(supplier, [(1, 200, "400", "INPUT2")], number="PREBILL", type_="ACCPAY")  # 230.00
		prepaid = self.advance(supplier, "SPEND-PREPAYMENT", 200, account="400")
		taxed = self.advance(supplier, "SPEND-PREPAYMENT", 100, account="400", tax="INPUT2")
		self.allocate("Prepayments", prepaid["PrepaymentID"], bill, 200)
		self.pull()

		purchase_invoice = self.document_of("Invoice", bill["InvoiceID"], "Purchase Invoice")
		advance = self.document_of("Prepayment", prepaid["PrepaymentID"], "Payment Entry")
		self.assertEqual((advance.payment_type, advance.party), ("Pay", purchase_invoice.supplier))
		self.assertEqual(self.ledger(advance.name), {CREDITORS: Decimal("200.00"), CASH: Decimal("-200.00")})
		self.assertEqual(self.invoice_state("Purchase Invoice", purchase_invoice.name), (30.0, "Partly Paid"))
		self.assertEqual(flt(advance.unallocated_amount, 2), 0.0)

		self.assertFalse(self.linked("Prepayment", taxed["PrepaymentID"]))
		self.assertIn("tax", self.attention_logs(taxed["PrepaymentID"])[0].message)
		self.assertEqual(self.held(taxed["PrepaymentID"]), [{"status": "Retrying", "attempts": 1}])

	def test_advances_the_push_sent_come_back_as_nothing(self):
		contact = self.contact("Pushed Advances")
		first = self.invoice(contact, [(1, 100, "200", "OUTPUT2")], number="PUSH1")  # 115.00
		second = self.invoice(contact, [(1, 40, "200", "OUTPUT2")], number="PUSH2")  # 46.00
		self.pull()
		customer = self.document_of("Contact", contact["ContactID"], "Customer").name
		invoices = [
			self.document_of("Invoice", i["InvoiceID"], "Sales Invoice").name for i in (first, second)
		]

		def entry_in_erpnext(paid, allocations):
			entry = frappe.get_doc(
				{
					"doctype": "Payment Entry",
					"payment_type": "Receive",
					"company": COMPANY,
					"party_type": "Customer",
					"party": customer,
					"paid_from": DEBTORS,
					"paid_to": CASH,
					"paid_amount": paid,
					"received_amount": paid,
					"reference_no": f"Advance {self.run_id}",
					"reference_date": nowdate(),
					"references": [
						{
							"reference_doctype": "Sales Invoice",
							"reference_name": name,
							"allocated_amount": amount,
						}
						for name, amount in allocations
					],
				}
			).insert()
			entry.submit()
			return entry

		# What the push makes of these: one overpayment for the whole paid amount, an allocation per invoice.
		settled = entry_in_erpnext(150, [(invoices[0], 115)])
		made = self.advance(contact, "RECEIVE-OVERPAYMENT", 150)
		allocation = self.allocate("Overpayments", made["OverpaymentID"], first, 115)
		links.save_link(
			self.tenant, "Payment Entry", settled.name, "Overpayment", made["OverpaymentID"], "AUTHORISED"
		)
		links.save_link(
			self.tenant,
			"Payment Entry",
			settled.name,
			links.allocation_object("Sales Invoice", invoices[0]),
			allocation["AllocationID"],
			"AUTHORISED",
		)
		# An allocation the push has made but not linked yet (its answer still on its way).
		racing = entry_in_erpnext(46, [(invoices[1], 46)])
		racing_made = self.advance(contact, "RECEIVE-OVERPAYMENT", 46)
		racing_allocation = self.allocate("Overpayments", racing_made["OverpaymentID"], second, 46)
		links.save_link(
			self.tenant,
			"Payment Entry",
			racing.name,
			"Overpayment",
			racing_made["OverpaymentID"],
			"AUTHORISED",
		)
		# A cancelled advance: the push deletes its allocations and refunds its overpayment.
		cancelled = entry_in_erpnext(30, [])
		cancelled.cancel()
		refunded = self.advance(contact, "RECEIVE-OVERPAYMENT", 30)
		refund = self.refund("Overpayment", refunded["OverpaymentID"], 30)
		links.save_link(
			self.tenant,
			"Payment Entry",
			cancelled.name,
			"Overpayment",
			refunded["OverpaymentID"],
			"AUTHORISED",
		)
		links.save_link(
			self.tenant, "Payment Entry", cancelled.name, links.REFUND, refund["PaymentID"], "AUTHORISED"
		)
		frappe.db.commit()
		entries = frappe.get_all(
			"Payment Entry", filters={"party": customer}, fields=["name", "modified", "docstatus"]
		)
		unreconciled = frappe.db.count("Unreconcile Payment")

		def queued():
			return frappe.db.count(
				"Xero Outbox", {"reference_name": ("in", [settled.name, racing.name, cancelled.name])}
			)

		queued_before = queued()

		counts = self.pull()
		self.assertEqual((counts.get("created", 0), counts.get("updated", 0)), (0, 0), counts)
		self.assertEqual(
			frappe.get_all(
				"Payment Entry", filters={"party": customer}, fields=["name", "modified", "docstatus"]
			),
			entries,
		)
		self.assertEqual(frappe.db.count("Unreconcile Payment"), unreconciled)
		self.assertEqual(self.references(settled), [(invoices[0], 115.0)])
		self.assertEqual(self.references(racing), [(invoices[1], 46.0)])
		self.assertEqual(self.invoice_state("Sales Invoice", invoices[0]), (0.0, "Paid"))
		self.assertEqual(self.invoice_state("Sales Invoice", invoices[1]), (0.0, "Paid"))
		# The racing allocation is now known as the push's.
		self.assertEqual(
			self.allocation_links(racing),
			[(links.allocation_object("Sales Invoice", invoices[1]), racing_allocation["AllocationID"])],
		)
		for xero_id in (
			made["OverpaymentID"],
			racing_made["OverpaymentID"],
			refunded["OverpaymentID"],
			refund["PaymentID"],
		):
			self.assertEqual(self.attention_logs(xero_id), [])
		self.assertEqual(queued(), queued_before)  # nothing goes back to Xero

	def test_an_overpayment_in_another_currency_waits_for_the_customers_account_in_it(self):
		contact = self.contact("Euro Customer")
		made = self.advance(contact, "RECEIVE-OVERPAYMENT", 100, CurrencyCode="EUR", CurrencyRate=0.8)
		self.pull()
		self.assertFalse(self.linked("Overpayment", made["OverpaymentID"]))
		self.assertIn("in EUR", self.attention_logs(made["OverpaymentID"])[0].message)

		customer = frappe.get_doc(
			"Customer", self.document_of("Contact", contact["ContactID"], "Customer").name
		)
		customer.default_currency = "EUR"
		customer.append("accounts", {"company": COMPANY, "account": receivable_account("EUR")})
		customer.save(ignore_permissions=True)
		# Invoiced at another rate than the overpayment's: ERPNext books the difference when it is settled.
		invoice = self.invoice(
			contact, [(1, 40, "200", "OUTPUT2")], number="EUR", CurrencyCode="EUR", CurrencyRate=0.75
		)  # EUR 46.00
		self.allocate("Overpayments", made["OverpaymentID"], invoice, 46)
		self.pull()  # Sync now: the held overpayment is fetched by id and applied
		advance = self.document_of("Overpayment", made["OverpaymentID"], "Payment Entry")
		self.assertEqual(
			(advance.paid_from, advance.paid_from_account_currency, flt(advance.paid_amount, 2)),
			(f"Debtors EUR - {ABBR}", "EUR", 100.0),
		)
		self.assertEqual(
			(flt(advance.source_exchange_rate, 2), flt(advance.received_amount, 2)), (1.25, 125.0)
		)
		self.assertEqual(
			self.ledger(advance.name), {CASH: Decimal("125.00"), f"Debtors EUR - {ABBR}": Decimal("-125.00")}
		)
		self.assertEqual(self.held(made["OverpaymentID"]), [])
		sales_invoice = self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice")
		self.assertEqual(self.invoice_state("Sales Invoice", sales_invoice.name), (0.0, "Paid"))
		self.assertEqual(flt(advance.reload().unallocated_amount, 2), 54.0)
		difference = frappe.get_all(
			"Journal Entry Account",
			filters={"reference_name": sales_invoice.name, "docstatus": 1},
			fields=["parent", "debit", "credit"],
		)
		# 46 EUR at 1.25 settle 46 EUR booked at 1.3333: 3.83 less than the invoice's 61.33.
		self.assertEqual(sorted(flt(row.debit - row.credit, 2) for row in difference), [-3.83], difference)
		self.assertFalse(
			frappe.db.exists("Xero Outbox", {"reference_name": ("in", [advance.name, difference[0].parent])})
		)

	def test_an_overpayment_voided_in_xero_cancels_the_advance(self):
		contact = self.contact("Voided Advance")
		made = self.advance(contact, "RECEIVE-OVERPAYMENT", 70)
		self.pull()
		advance = self.document_of("Overpayment", made["OverpaymentID"], "Payment Entry")
		self.assertEqual(advance.docstatus, 1)
		# The emulator does not void overpayments (Xero's API documents the status, not the call): as Xero
		# would answer one voided in its web app.
		voided = self.org().overpayments[made["OverpaymentID"]]
		voided.update({"Status": "VOIDED", "UpdatedDateUTC": ms_timestamp(self.emulator.clock.utcnow())})
		self.pull()
		self.assertEqual(advance.reload().docstatus, 2)
		self.assertEqual(self.ledger(advance.name), {})
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": advance.name}))
