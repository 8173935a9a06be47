"""Tier 2: what install adds, uninstall removes (custom fields, their columns, the role) or disables (the
integration user), and migrate puts back idempotently."""

import frappe

from xero_integration import install
from xero_integration.core.parties import SYNCED_DOCTYPES
from xero_integration.sync.inbound.invoices import FRACTIONAL_UOM
from xero_integration.sync.integration_user import INTEGRATION_ROLES, INTEGRATION_USER
from xero_integration.sync.permissions import XERO_MANAGER
from xero_integration.testing import FrappeTestCase


def our_custom_fields() -> set[str]:
	return set(frappe.get_all("Custom Field", filters={"fieldname": ("like", "xero%")}, pluck="name"))


def integration_user() -> tuple[int, set[str]]:
	"""Whether the integration user is enabled, and its roles."""
	return (
		frappe.db.get_value("User", INTEGRATION_USER, "enabled"),
		set(frappe.get_all("Has Role", filters={"parent": INTEGRATION_USER}, pluck="role")),
	)


class TestInstall(FrappeTestCase):
	def tearDown(self):
		install.after_migrate()
		frappe.db.commit()

	def test_uninstall_removes_what_install_added_and_migrate_restores_it_once(self):
		expected = {
			f"{doctype}-{field['fieldname']}"
			for doctype, fields in install.custom_fields().items()
			for field in fields
		}
		self.assertEqual(our_custom_fields(), expected)
		self.assertTrue(frappe.db.exists("Role", XERO_MANAGER))
		self.assertEqual(integration_user(), (1, set(INTEGRATION_ROLES)))
		other_fields = frappe.db.count("Custom Field") - len(expected)
		install.before_uninstall()
		self.assertEqual(our_custom_fields(), set())
		self.assertEqual(frappe.db.count("Custom Field"), other_fields)
		self.assertFalse(frappe.db.exists("Role", XERO_MANAGER))
		self.assertEqual(integration_user()[0], 0)
		if not frappe.db.exists("Sales Invoice Item", {"uom": FRACTIONAL_UOM}):
			self.assertFalse(frappe.db.exists("UOM", FRACTIONAL_UOM))
		for doctype in SYNCED_DOCTYPES:
			self.assertNotIn("xero_id", frappe.db.get_table_columns(doctype))
		install.after_migrate()
		install.after_migrate()
		self.assertEqual(our_custom_fields(), expected)
		self.assertIn("xero_id", frappe.db.get_table_columns("Sales Invoice"))
		self.assertEqual(frappe.db.count("Role", {"name": XERO_MANAGER}), 1)
		self.assertEqual(frappe.db.get_value("UOM", FRACTIONAL_UOM, "must_be_whole_number"), 0)
		self.assertEqual(integration_user(), (1, set(INTEGRATION_ROLES)))
		self.assertEqual(frappe.db.count("User", {"name": INTEGRATION_USER}), 1)
