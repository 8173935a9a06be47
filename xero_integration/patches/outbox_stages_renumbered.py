"""The drain's stages were renumbered (advances, then returns' unallocations, took their place before the
voids): work still waiting keeps the place of its kind of work in the new order. patches.txt runs it
again after each such change."""

import frappe

from xero_integration.core.objects import STAGE_ORDER
from xero_integration.sync import outbox


def execute():
	for (object_type, operation), stage in STAGE_ORDER.items():
		frappe.db.set_value(
			"Xero Outbox",
			{
				"object_type": object_type,
				"operation": operation,
				"status": ("in", (outbox.PENDING, outbox.PROCESSING, outbox.NEEDS_ATTENTION)),
			},
			"stage",
			stage,
			update_modified=False,
		)
