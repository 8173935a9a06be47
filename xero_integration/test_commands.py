"""Tier 2: `bench --site <site> xero status`, run as a user runs it, counts each organisation's queue."""

import subprocess

import frappe

from xero_integration.core.objects import STAGE_ORDER
from xero_integration.sync import outbox
from xero_integration.testing import COMPANY, XeroTestCase, bench_command, sites_path


class TestStatusCommand(XeroTestCase):
	def tearDown(self):
		frappe.db.delete("Xero Outbox", {"reference_name": ("like", "Status Command %")})
		frappe.db.commit()

	def test_status_counts_queued_and_parked_rows_but_not_settled_ones(self):
		contact_upsert = {
			"organisation": self.tenant,
			"company": COMPANY,
			"object_type": "Contact",
			"operation": "upsert",
			"stage": STAGE_ORDER[("Contact", "upsert")],
			"reference_doctype": "Customer",
		}
		statuses = (outbox.PENDING, outbox.PENDING, outbox.PROCESSING, outbox.NEEDS_ATTENTION, outbox.DONE)
		for number, status in enumerate(statuses):
			outbox.insert_row(**contact_upsert, reference_name=f"Status Command {number}", status=status)
		frappe.db.commit()

		printed = subprocess.run(
			bench_command("xero", "status"),
			cwd=sites_path(),
			capture_output=True,
			text=True,
			check=True,
			timeout=120,
		).stdout
		(line,) = [line for line in printed.splitlines() if self.tenant in line]
		self.assertIn("queued 3, needs attention 1", line)
