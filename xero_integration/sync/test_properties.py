"""Tier 2, property-based (hypothesis, fixed seed): for random invoices built and totalled by ERPNext
itself, Xero's total equals ERPNext's to the cent after the push; for random invoices raised in Xero,
the ERPNext invoice the pull creates totals Xero's to the cent."""

from decimal import Decimal

import frappe
from frappe.utils import flt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xero_integration.sync import pull
from xero_integration.testing import ABBR, XeroTestCase, make_customer, make_sales_invoice

HOURLY_ITEM = "Xero Hourly Service"
EXAMPLES = settings(
	max_examples=20,
	deadline=None,
	derandomize=True,
	suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
lines = st.lists(
	st.tuples(
		st.decimals(min_value="0.25", max_value="40", places=2),  # hours
		st.decimals(min_value="0.01", max_value="999.99", places=2),  # rate
		st.sampled_from([0, 0, 5, 12.5]),  # item discount %
	),
	min_size=1,
	max_size=6,
)


def ensure_hourly_item() -> str:
	if not frappe.db.exists("Item", HOURLY_ITEM):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": HOURLY_ITEM,
				"item_group": "All Item Groups",
				"stock_uom": "Hour",
				"is_stock_item": 0,
			}
		).insert(ignore_permissions=True)
	return HOURLY_ITEM


class TestTotalsProperties(XeroTestCase):
	@classmethod
	def link_organisations(cls):
		super().link_organisations()
		ensure_hourly_item()
		organisation = frappe.get_doc("Xero Organisation", cls.tenant)
		organisation.append("account_mappings", {"account": f"Sales - {ABBR}", "xero_account_code": "200"})
		organisation.save()
		frappe.db.commit()

	@EXAMPLES
	@given(
		lines=lines,
		tax=st.sampled_from(["none", "exclusive", "inclusive"]),
		invoice_discount=st.sampled_from([0, 0, 2.5, 10]),
	)
	def test_pushed_invoice_totals_equal_erpnexts(self, lines, tax, invoice_discount):
		customer = make_customer("Property Customer")
		invoice = make_sales_invoice(
			customer,
			lines=((1, 1),),
			tax_rate=None if tax == "none" else 15,
			submit=False,
			additional_discount_percentage=invoice_discount,
		)
		invoice.items = []
		for hours, rate, discount in lines:
			invoice.append(
				"items",
				{
					"item_code": HOURLY_ITEM,
					"qty": float(hours),
					"price_list_rate": float(rate),
					"rate": float(rate * (100 - Decimal(str(discount))) / 100),
					"discount_percentage": discount,
					"income_account": f"Sales - {ABBR}",
					"cost_center": f"Main - {ABBR}",
				},
			)
		if tax == "inclusive":
			invoice.taxes[0].included_in_print_rate = 1
		invoice.save()
		invoice.submit()
		self.drain()
		self.assert_same_total(invoice)

	@EXAMPLES
	@given(
		lines=lines,
		amount_types=st.sampled_from(["Exclusive", "Inclusive", "NoTax"]),
	)
	def test_pulled_invoice_totals_equal_xeros(self, lines, amount_types):
		contact = self.xero.create_in_xero(
			self.tenant, "Contacts", {"Name": f"Pulled {frappe.generate_hash(length=8)}"}
		)
		record = self.xero.create_in_xero(
			self.tenant,
			"Invoices",
			{
				"Type": "ACCREC",
				# The emulator numbers from INV-0001 each run; the site keeps earlier runs' invoices.
				"InvoiceNumber": f"PROP-{frappe.generate_hash(length=8)}",
				"Contact": {"ContactID": contact["ContactID"]},
				"Status": "AUTHORISED",
				"LineAmountTypes": amount_types,
				"Date": frappe.utils.nowdate(),
				"DueDate": frappe.utils.add_days(frappe.utils.nowdate(), 30),
				"LineItems": [
					{
						"Description": "Hours",
						"Quantity": float(hours),
						"UnitAmount": float(rate),
						"DiscountRate": discount,
						"AccountCode": "200",
						"TaxType": "NONE" if amount_types == "NoTax" else "OUTPUT2",
					}
					for hours, rate, discount in lines
				],
			},
		)
		pull.pull_organisation(self.tenant)
		frappe.db.commit()
		name = frappe.db.get_value(
			"Xero Document Link",
			{"xero_id": record["InvoiceID"], "reference_doctype": "Sales Invoice"},
			"reference_name",
		)
		self.assertTrue(name, f"Xero invoice {record['InvoiceNumber']} was not pulled")
		invoice = frappe.get_doc("Sales Invoice", name)
		self.assertEqual(invoice.docstatus, 1)
		erpnext_total = Decimal(str(flt(invoice.rounded_total or invoice.grand_total, 2)))
		self.assertEqual(erpnext_total, Decimal(str(record["Total"])))
