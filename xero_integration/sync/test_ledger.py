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
	make_sales_invoice,
	receivable_account,
	tax_mappings,
)

SECOND_COMPANY, SECOND_ABBR = "Xero Second Company", "XSC"


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
		invoice = make_sales_invoice(
			euro_customer,
			lines=((2, 45.5),),
			tax_rate=15,
			currency="EUR",
			conversion_rate=1.1,
			debit_to=receivable_account("EUR"),
		)
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

	def test_outstanding_equals_amount_due_after_a_mixed_run(self):
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		customer = make_customer(f"Reconciled Customer {frappe.generate_hash(length=6)}")
		invoices = [make_sales_invoice(customer, lines=((1 + i, 19.99),), tax_rate=15) for i in range(4)]
		self.drain()
		make_payment(invoices[0], 10)
		make_payment(invoices[1])
		returned = make_sales_return(invoices[2].name)
		returned.insert()
		returned.submit()
		invoices[3].reload().cancel()
		self.drain()
		for invoice in invoices[:3]:
			invoice.reload()
			xero = self.xero_invoice(invoice.name, self.us)
			self.assertEqual(
				Decimal(str(xero["AmountDue"])),
				Decimal(str(flt(invoice.outstanding_amount, 2))),
				invoice.name,
			)
		self.assertEqual(self.xero_invoice(invoices[3].name, self.us)["Status"], "VOIDED")
		contact_id = frappe.db.get_value("Customer", customer, "xero_id")
		xero_balance = sum(
			Decimal(str(i["AmountDue"]))
			for i in self.emulator.org(self.us).invoices.values()
			if i["Contact"]["ContactID"] == contact_id and i["Status"] in ("AUTHORISED", "PAID")
		) - sum(
			Decimal(str(c.get("RemainingCredit", 0)))
			for c in self.emulator.org(self.us).credit_notes.values()
			if c["Contact"]["ContactID"] == contact_id and c["Status"] == "AUTHORISED"
		)
		erpnext_balance = Decimal(
			str(
				flt(
					frappe.db.sql(
						"select sum(debit - credit) from `tabGL Entry` where party_type='Customer' and party=%s"
						" and company=%s and is_cancelled=0",
						(customer, COMPANY),
					)[0][0],
					2,
				)
			)
		)
		self.assertEqual(xero_balance, erpnext_balance)
