"""Waiting outbox rows get their open_key (one waiting row per piece of work); older duplicates of the
same work, which the racy enqueue of earlier versions could leave, are merged into the first row."""

import frappe

from xero_integration.sync import outbox


def execute():
	rows = frappe.get_all(
		"Xero Outbox",
		filters={"status": ("in", (outbox.PENDING, outbox.NEEDS_ATTENTION)), "open_key": ("is", "not set")},
		fields=[
			"name",
			"organisation",
			"object_type",
			"operation",
			"reference_doctype",
			"reference_name",
			"uncertain",
		],
		order_by="creation asc, name asc",
	)
	kept: dict[str, dict] = {}
	for row in rows:
		key = outbox.work_key(
			row.organisation, row.object_type, row.operation, row.reference_doctype, row.reference_name
		)
		first = kept.get(key) or frappe.db.get_value(
			"Xero Outbox", {"open_key": key}, ["name", "uncertain"], as_dict=True
		)
		if first:
			if row.uncertain and not first.uncertain:
				frappe.db.set_value("Xero Outbox", first.name, "uncertain", 1, update_modified=False)
				first.uncertain = 1
			outbox.withdraw([row.name], f"Same work as outbox row {first.name}.")
			kept[key] = first
		else:
			frappe.db.set_value("Xero Outbox", row.name, "open_key", key, update_modified=False)
			kept[key] = row
