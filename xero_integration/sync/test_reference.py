"""Tier 2: Xero's lists on the organisation, suggested mappings, and tracking / item codes on the lines."""

import frappe

from xero_integration import api
from xero_integration.sync import reference
from xero_integration.testing import ABBR, XeroTestCase, make_customer, make_sales_invoice


class TestReferenceData(XeroTestCase):
	@classmethod
	def link_organisations(cls):
		cls.xero.link_company(cls.tenant)
		cls.xero.create_in_xero(cls.tenant, "Items", {"Code": "Xero Test Service", "Name": "Service"})

	def test_lists_are_imported_and_mappings_suggested_by_code_and_name(self):
		counts = reference.import_lists(self.tenant)
		org = frappe.get_doc("Xero Organisation", self.tenant)
		kinds = {row.kind for row in org.xero_references}
		self.assertEqual(kinds, {"Account", "Tax Rate", "Item", "Currency", "Tracking Option"})
		self.assertEqual(counts["Item"], 1)
		self.assertIn(
			("Account", "200", "Sales"), {(r.kind, r.code, r.reference_name) for r in org.xero_references}
		)
		added = reference.suggest_mappings(self.tenant)
		org.reload()
		accounts = {row.account: row.xero_account_code for row in org.account_mappings}
		self.assertEqual(accounts.get(f"Sales - {ABBR}"), "200")
		self.assertEqual(
			{row.item: row.xero_item_code for row in org.item_mappings},
			{"Xero Test Service": "Xero Test Service"},
		)
		self.assertTrue(added)
		# Suggestions never replace what a person mapped, and a second run adds nothing.
		self.assertEqual(reference.suggest_mappings(self.tenant), [])

	def test_cost_center_and_item_reach_xero_lines(self):
		category = next(iter(self.org().tracking_categories.values()))
		option = category["Options"][0]["Name"]
		org = frappe.get_doc("Xero Organisation", self.tenant)
		org.set("tracking_mappings", [])
		org.append(
			"tracking_mappings",
			{
				"cost_center": f"Main - {ABBR}",
				"tracking_category": category["Name"],
				"tracking_option": option,
			},
		)
		org.set("item_mappings", [{"item": "Xero Test Service", "xero_item_code": "Xero Test Service"}])
		org.save()
		invoice = make_sales_invoice(make_customer("Tracked Customer"), lines=((2, 30),))
		self.drain()
		line = self.xero_invoice(invoice.name)["LineItems"][0]
		self.assertEqual(line["ItemCode"], "Xero Test Service")
		self.assertEqual([(t["Name"], t["Option"]) for t in line["Tracking"]], [(category["Name"], option)])

	def test_only_managers_import_lists_or_suggest(self):
		frappe.set_user("Guest")
		for method in (api.import_xero_lists, api.suggest_mappings):
			with self.assertRaises(frappe.PermissionError):
				method(self.tenant)
