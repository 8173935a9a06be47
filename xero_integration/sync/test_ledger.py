"""Tier 2: the books agree — currencies, several companies, and a reconciliation after a mixed run."""

from decimal import Decimal

import frappe
from frappe.utils import flt

from xero_integration.testing import (
	ABBR,
	COMPANY,
	XeroTestCase,
	ensure_company,
	make_customer,
	make_payment,
	make_purchase_invoice,
	make_sales_invoice,
	make_supplier,
	receivable_account,
	tax_mappings,
)

SECOND_COMPANY, SECOND_ABBR = "Xero Second Company", "XSC"


def euro_invoice(customer: str, hours: int):
	"""A EUR invoice in the USD company, at ERPNext's 1.1 USD per EUR."""
	return make_sales_invoice(
		customer,
		lines=((hours, 45.5),),
		tax_rate=15,
		currency="EUR",
		conversion_rate=1.1,
		debit_to=receivable_account("EUR"),
	)


class TestLedger(XeroTestCase):
	organisations = (("US Org", "USD"), ("EU Org", "EUR"))

	@classmethod
	def link_organisations(cls):
		ensure_company(SECOND_COMPANY, SECOND_ABBR, "EUR")
		cls.us, cls.eu = cls.xero.tenants
		cls.xero.link_company(cls.us, COMPANY, tax_mappings=tax_mappings(ABBR))
		cls.xero.link_company(cls.eu, SECOND_COMPANY, tax_mappings=tax_mappings(SECOND_ABBR))

	def drain(self, *tenants):
		super().drain(*(tenants or (self.us, self.eu)))

	def test_foreign_currency_invoice_carries_xeros_rate_convention(self):
		euro_customer = make_customer(
			"Euro Customer",
			default_currency="EUR",
			accounts=[{"company": COMPANY, "account": receivable_account("EUR")}],
		)
		invoice = euro_invoice(euro_customer, 2)
		base = make_sales_invoice(make_customer("Dollar Customer"), lines=((1, 10),))
		self.drain(self.us)
		xero = self.xero_invoice(invoice.name, self.us)
		self.assertEqual(xero["CurrencyCode"], "EUR")
		# ERPNext: 1.1 USD per EUR. Xero: EUR per 1 USD of the organisation's base currency.
		self.assertEqual(
			Decimal(str(xero["CurrencyRate"])).quantize(Decimal("0.000001")), Decimal("0.909091")
		)
		self.assertEqual(
			Decimal(str(xero["Total"])), Decimal(str(flt(invoice.rounded_total or invoice.grand_total, 2)))
		)
		# A base-currency invoice sends no rate at all (Xero then keeps 1 itself).
		sent = frappe.db.get_value(
			"Xero Sync Log", {"reference_name": base.name, "status": "Success"}, "request"
		)
		self.assertNotIn("CurrencyRate", sent)
		self.assertIn(
			"CurrencyRate", frappe.db.get_value("Xero Sync Log", {"reference_name": invoice.name}, "request")
		)

	def test_currency_not_enabled_in_xero_is_reported_before_sending(self):
		if not frappe.db.get_value("Currency", "GBP", "enabled"):
			frappe.db.set_value("Currency", "GBP", "enabled", 1)
		customer = make_customer(
			"Pound Customer",
			default_currency="GBP",
			accounts=[{"company": COMPANY, "account": receivable_account("GBP")}],
		)
		invoice = make_sales_invoice(
			customer, currency="GBP", conversion_rate=1.3, debit_to=receivable_account("GBP")
		)
		posts = self.emulator.call_count("POST", "/api.xro/2.0/Invoices")
		self.drain(self.us)
		self.assertEqual(self.emulator.call_count("POST", "/api.xro/2.0/Invoices"), posts)
		message = frappe.db.get_value(
			"Xero Outbox", {"reference_name": invoice.name, "status": "Needs Attention"}, "last_error"
		)
		self.assertIn("GBP", message)

	def test_each_company_syncs_only_with_its_own_organisation_and_failures_stay_there(self):
		customer = make_customer("Two Company Customer")
		ours = make_sales_invoice(customer, lines=((1, 70),), tax_rate=15)
		theirs = make_sales_invoice(
			customer,
			lines=((1, 80),),
			company=SECOND_COMPANY,
			currency="EUR",
			debit_to=f"Debtors - {SECOND_ABBR}",
		)
		# An account the EU organisation has no mapping for parks that invoice, not the US queue.
		broken = make_sales_invoice(
			customer,
			lines=((1, 5),),
			company=SECOND_COMPANY,
			currency="EUR",
			taxes=[
				{
					"charge_type": "Actual",
					"account_head": f"Input Tax - {SECOND_ABBR}",
					"description": "Levy",
					"tax_amount": 3,
					"cost_center": f"Main - {SECOND_ABBR}",
				}
			],
		)
		self.drain()
		self.xero_invoice(ours.name, self.us)
		self.xero_invoice(theirs.name, self.eu)
		self.assertFalse(
			[i for i in self.emulator.org(self.us).invoices.values() if i["InvoiceNumber"] == theirs.name]
		)
		self.assertFalse(
			[i for i in self.emulator.org(self.eu).invoices.values() if i["InvoiceNumber"] == ours.name]
		)
		self.assertEqual(
			frappe.db.get_value(
				"Xero Outbox", {"reference_name": broken.name, "object_type": "Invoice"}, "status"
			),
			"Needs Attention",
		)
		log = frappe.get_all(
			"Xero Sync Log",
			filters={"reference_name": broken.name},
			fields=["organisation", "company", "message"],
		)[0]
		self.assertEqual((log.organisation, log.company), (self.eu, SECOND_COMPANY))

	def test_outstanding_equals_amount_due_after_a_mixed_run_in_two_companies_and_currencies(self):
		from erpnext.accounts.doctype.purchase_invoice.purchase_invoice import make_debit_note
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		run = frappe.generate_hash(length=6)
		euro_customer = make_customer(
			f"Reconciled Euro Customer {run}",
			default_currency="EUR",
			accounts=[{"company": COMPANY, "account": receivable_account("EUR")}],
		)
		books = []  # (organisation, company, customer, supplier)
		documents = []  # (organisation, invoice)
		for tenant, company, abbr, currency in (
			(self.us, COMPANY, ABBR, "USD"),
			(self.eu, SECOND_COMPANY, SECOND_ABBR, "EUR"),
		):
			customer = make_customer(f"Reconciled Customer {abbr} {run}")
			supplier = make_supplier(f"Reconciled Supplier {abbr} {run}")
			books.append((tenant, company, customer, supplier))
			in_company = {"company": company, "currency": currency}
			sales = [
				make_sales_invoice(
					customer, lines=((1 + i, 19.99),), tax_rate=15, debit_to=f"Debtors - {abbr}", **in_company
				)
				for i in range(4)
			]
			bills = [
				make_purchase_invoice(
					supplier,
					lines=((2 + i, 7.45),),
					tax_rate=15,
					bill_no=f"SUP-{abbr}-{run}-{i}",
					credit_to=f"Creditors - {abbr}",
					**in_company,
				)
				for i in range(3)
			]
			documents += [(tenant, doc) for doc in (*sales, *bills)]
		foreign = euro_invoice(euro_customer, 3)
		documents.append((self.us, foreign))
		books.append((self.us, COMPANY, euro_customer, None))
		self.drain()

		# Partial and full payments, in and out, one in a foreign currency; a return, a debit note,
		# a cancelled invoice and a cancelled bill in each company.
		for index in (0, 7):
			sales, bills = (
				[doc for _t, doc in documents[index : index + 4]],
				[doc for _t, doc in documents[index + 4 : index + 7]],
			)
			make_payment(sales[0], 10)
			make_payment(sales[1])
			make_sales_return(sales[2].name).insert().submit()
			sales[3].reload().cancel()
			make_payment(bills[0], 10)
			make_debit_note(bills[1].name).insert().submit()
			bills[2].reload().cancel()
		make_payment(foreign, 20)
		self.drain()

		for tenant, invoice in documents:
			invoice.reload()
			xero = self.xero_invoice(invoice.get("bill_no") or invoice.name, tenant)
			if invoice.docstatus == 2:
				self.assertEqual(xero["Status"], "VOIDED", invoice.name)
				continue
			self.assertEqual(
				Decimal(str(xero["AmountDue"])),
				Decimal(str(flt(invoice.outstanding_amount, 2))),
				invoice.name,
			)
		for tenant, company, customer, supplier in books:
			for doctype, party in (("Customer", customer), ("Supplier", supplier)):
				if party:
					self.assertEqual(
						self.xero_balance(tenant, doctype, party),
						self.erpnext_balance(company, doctype, party),
						f"{doctype} {party} in {company}",
					)

	def xero_balance(self, tenant: str, doctype: str, party: str) -> Decimal:
		"""What the party owes (or is owed) in Xero: amounts due less unallocated credit."""
		contact_id = frappe.db.get_value(
			"Xero Document Link",
			{"organisation": tenant, "reference_doctype": doctype, "reference_name": party},
			"xero_id",
		)
		org = self.emulator.org(tenant)
		return sum(
			(
				Decimal(str(i["AmountDue"]))
				for i in org.invoices.values()
				if i["Contact"]["ContactID"] == contact_id and i["Status"] in ("AUTHORISED", "PAID")
			),
			Decimal(0),
		) - sum(
			(
				Decimal(str(c.get("RemainingCredit", 0)))
				for c in org.credit_notes.values()
				if c["Contact"]["ContactID"] == contact_id and c["Status"] == "AUTHORISED"
			),
			Decimal(0),
		)

	def erpnext_balance(self, company: str, doctype: str, party: str) -> Decimal:
		"""The same in ERPNext, in the documents' own currency: the outstanding of submitted invoices,
		returns and debit notes included (a return not set against its invoice is negative)."""
		field = "customer" if doctype == "Customer" else "supplier"
		outstanding = frappe.get_all(
			"Sales Invoice" if doctype == "Customer" else "Purchase Invoice",
			filters={field: party, "company": company, "docstatus": 1},
			pluck="outstanding_amount",
		)
		return sum((Decimal(str(flt(amount, 2))) for amount in outstanding), Decimal(0))
