"""Tier 2: the apps screen shows Xero Integration, with its logo, to those who configure the sync."""

import os

import frappe
from frappe.apps import get_apps

from xero_integration.testing import FrappeTestCase, clerk, xero_manager


class TestAppsScreen(FrappeTestCase):
	def apps_shown_to(self, user: str) -> dict:
		frappe.set_user(user)
		self.addCleanup(frappe.set_user, "Administrator")
		return {app["name"]: app for app in get_apps()}

	def test_a_xero_manager_is_taken_to_the_xero_workspace_and_a_clerk_sees_no_xero_app(self):
		manager, accounts_clerk = xero_manager(), clerk()
		shown = self.apps_shown_to(manager)["xero_integration"]
		self.assertEqual(shown["title"], "Xero Integration")
		self.assertTrue(shown["route"].endswith("/xero"), shown["route"])
		# /assets/xero_integration/ is the app's public folder
		logo = shown["logo"].removeprefix("/assets/xero_integration/")
		self.assertTrue(os.path.isfile(frappe.get_app_path("xero_integration", "public", logo)), logo)

		self.assertNotIn("xero_integration", self.apps_shown_to(accounts_clerk))
