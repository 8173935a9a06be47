"""Tier 2: the daily clean-up clears settled queue rows and processed webhook events once they are older than
Xero Settings says, and keeps recent ones and every failure; Log Settings clears sync logs the same way."""

import frappe
from frappe.utils import add_days, now_datetime

from xero_integration.core.objects import STAGE_ORDER
from xero_integration.patches import keep_settled_rows_30_days
from xero_integration.sync import outbox
from xero_integration.sync.log import create_log
from xero_integration.testing import COMPANY, XeroTestCase, webhook_event
from xero_integration.xero_integration.doctype.xero_sync_log.xero_sync_log import XeroSyncLog

DAILY_JOB = "xero_integration.sync.housekeeping.clear_settled_rows"
OUTBOX_STATUSES = ("Done", "Cancelled", "Pending", "Processing", "Needs Attention")
EVENT_STATUSES = ("Processed", "Ignored", "Failed", "Queued")


class TestHousekeeping(XeroTestCase):
	def tearDown(self):
		frappe.db.set_single_value("Xero Settings", "keep_settled_rows_days", 30)
		frappe.db.delete("Xero Outbox", {"reference_name": ("like", "Housekeeping %")})
		frappe.db.delete("Xero Webhook Event", {"name": ("like", "test-event-%")})
		frappe.db.commit()

	def keep_days(self, days: int):
		frappe.db.set_single_value("Xero Settings", "keep_settled_rows_days", days)
		frappe.db.commit()

	def aged_rows(self) -> dict:
		"""One outbox row and one webhook event of every status, last changed 11 days and 9 days ago."""
		rows = {}
		for age in (11, 9):
			for status in OUTBOX_STATUSES:
				rows[("Xero Outbox", status, age)] = outbox.insert_row(
					organisation=self.tenant,
					company=COMPANY,
					object_type="Contact",
					operation="upsert",
					stage=STAGE_ORDER[("Contact", "upsert")],
					reference_doctype="Customer",
					reference_name=f"Housekeeping {status} {age}",
					status=status,
				)
			for status in EVENT_STATUSES:
				rows[("Xero Webhook Event", status, age)] = webhook_event(self.tenant, status)
		for (doctype, _status, age), name in rows.items():
			frappe.db.set_value(
				doctype, name, "modified", add_days(now_datetime(), -age), update_modified=False
			)
		frappe.db.commit()
		return rows

	def remaining(self, rows: dict) -> set:
		return {key for key, name in rows.items() if frappe.db.exists(key[0], name)}

	def test_settled_rows_older_than_the_setting_go_and_recent_ones_and_failures_stay(self):
		self.assertIn(DAILY_JOB, frappe.get_hooks("scheduler_events")["daily"])
		clear_settled_rows = frappe.get_attr(DAILY_JOB)
		rows = self.aged_rows()

		self.keep_days(0)  # keep for ever
		clear_settled_rows()
		self.assertEqual(self.remaining(rows), set(rows))

		self.keep_days(10)
		clear_settled_rows()
		settled_and_old = {
			("Xero Outbox", "Done", 11),
			("Xero Outbox", "Cancelled", 11),
			("Xero Webhook Event", "Processed", 11),
			("Xero Webhook Event", "Ignored", 11),
		}
		self.assertEqual(self.remaining(rows), set(rows) - settled_and_old)

	def test_settings_keep_thirty_days_on_new_and_upgraded_sites(self):
		self.assertEqual(
			frappe.get_doc("Xero Settings").keep_settled_rows_days, 30
		)  # EmulatedXero saved them
		# A site whose settings were saved before the field existed, then migrated.
		frappe.db.delete("Singles", {"doctype": "Xero Settings", "field": "keep_settled_rows_days"})
		keep_settled_rows_30_days.execute()
		self.assertEqual(frappe.db.get_single_value("Xero Settings", "keep_settled_rows_days"), 30)
		self.keep_days(7)
		keep_settled_rows_30_days.execute()
		self.assertEqual(frappe.db.get_single_value("Xero Settings", "keep_settled_rows_days"), 7)

	def test_log_settings_clears_settled_sync_logs_the_same_way(self):
		logs = {
			(status, age): create_log(status, operation="Housekeeping", organisation=self.tenant).name
			for status in ("Success", "Skipped", "Needs Attention", "Failed")
			for age in (11, 9)
		}
		for (_status, age), name in logs.items():
			frappe.db.set_value(
				"Xero Sync Log", name, "modified", add_days(now_datetime(), -age), update_modified=False
			)
		XeroSyncLog.clear_old_logs(days=10)
		remaining = {key for key, name in logs.items() if frappe.db.exists("Xero Sync Log", name)}
		self.assertEqual(remaining, set(logs) - {("Success", 11), ("Skipped", 11)})
