"""Tier 2: ERPNext Items reach the Xero price list when the admin turns Items on (issue 16, point 1,
ERPNext to Xero): once, matched to a Xero item of the same code, with long codes and names mapped
visibly, and nothing sent for a save that changes nothing."""

import frappe

from xero_integration.sync.test_push import PushTestCase
from xero_integration.testing import make_user

ITEMS_POST = ("POST", "/api.xro/2.0/Items")


def item_manager() -> str:
	return make_user("xero-test-item-manager@example.com", "Item Manager")


def set_items_direction(direction: str) -> None:
	frappe.db.set_single_value("Xero Settings", "sync_items", direction)
	frappe.clear_document_cache("Xero Settings", "Xero Settings")
	frappe.db.commit()


class TestItemsOut(PushTestCase):
	def setUp(self):
		super().setUp()
		set_items_direction("ERPNext to Xero")

	def tearDown(self):
		set_items_direction("Off")
		super().tearDown()

	def save_item(self, code: str, **values):
		frappe.set_user(item_manager())
		try:
			if frappe.db.exists("Item", code):
				item = frappe.get_doc("Item", code)
				item.update(values)
				item.save()
			else:
				item = frappe.get_doc(
					{
						"doctype": "Item",
						"item_code": code,
						"item_name": values.pop("item_name", code),
						"item_group": "All Item Groups",
						"stock_uom": "Nos",
						"is_stock_item": 0,
						**values,
					}
				).insert()
		finally:
			frappe.set_user("Administrator")
		return item

	def xero_items(self, code: str) -> list[dict]:
		return [i for i in self.org().items.values() if i["Code"] == code]

	def test_items_stay_out_of_xero_while_the_direction_is_off(self):
		set_items_direction("Off")
		item = self.save_item(f"OFF-{frappe.generate_hash(length=6)}")
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": item.name}))

	def test_a_saved_item_is_in_the_price_list_once_and_an_unchanged_save_sends_nothing(self):
		code = f"SERVICE-{frappe.generate_hash(length=6)}"
		self.save_item(code, item_name="Senior consulting", description="<p>Per hour</p>")
		self.drain()
		(xero,) = self.xero_items(code)
		self.assertEqual(
			(xero["Name"], xero["Description"], xero["IsSold"], xero["IsPurchased"]),
			("Senior consulting", "Per hour", True, True),
		)
		self.assertFalse(xero["IsTrackedAsInventory"])
		posts = self.emulator.call_count(*ITEMS_POST)
		self.save_item(code)  # saved again, nothing changed
		self.drain()
		self.assertEqual(self.emulator.call_count(*ITEMS_POST), posts)
		self.save_item(code, item_name="Principal consulting")
		self.drain()
		(xero,) = self.xero_items(code)
		self.assertEqual(xero["Name"], "Principal consulting")

	def test_a_code_xero_already_has_is_taken_over_and_a_long_code_is_mapped_visibly(self):
		taken = f"TAKEN-{frappe.generate_hash(length=6)}"
		self.xero.create_in_xero(self.tenant, "Items", {"Code": taken, "Name": "Made in Xero"})
		long_code = f"INDUSTRIAL-FASTENER-M12-STAINLESS-{frappe.generate_hash(length=6)}"
		self.save_item(taken, item_name="Made in ERPNext")
		self.save_item(long_code)
		self.drain()
		(xero,) = self.xero_items(taken)
		self.assertEqual(xero["Name"], "Made in ERPNext")
		log = frappe.get_last_doc("Xero Sync Log", {"reference_name": taken, "status": "Success"})
		self.assertIn("Linked to the existing Xero item", log.message)
		(mapped,) = [i for i in self.org().items.values() if i["Code"].startswith(long_code[:21] + "~")]
		self.assertEqual(len(mapped["Code"]), 30)
		log = frappe.get_last_doc("Xero Sync Log", {"reference_name": long_code, "status": "Success"})
		self.assertIn(f"it is {mapped['Code']} in Xero", log.message)
