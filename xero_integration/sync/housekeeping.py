"""Settled rows are cleared after a while; failures stay until someone fixes them.

Webhook events processed or ignored and outbox rows sent or withdrawn go once unchanged for Xero Settings'
"Keep Settled Rows for (Days)", every day; the Xero Sync Log's settled rows go the same way, on Log
Settings' schedule (its controller's clear_old_logs).
"""

import frappe
from frappe.query_builder import Interval
from frappe.query_builder.functions import Now

from xero_integration.sync import outbox, webhooks

SETTLED_STATUSES = {
	"Xero Outbox": (outbox.DONE, outbox.CANCELLED),
	"Xero Webhook Event": (webhooks.PROCESSED, webhooks.IGNORED),
}


def clear_settled_rows() -> None:
	"""The daily job."""
	days = frappe.db.get_single_value("Xero Settings", "keep_settled_rows_days")
	if not days:  # 0 keeps them
		return
	for doctype, statuses in SETTLED_STATUSES.items():
		delete_settled(doctype, statuses, days)


def delete_settled(doctype: str, statuses: tuple[str, ...], days: int) -> None:
	"""Rows in one of these statuses, unchanged for `days` days."""
	table = frappe.qb.DocType(doctype)
	frappe.db.delete(
		table, filters=(table.modified < (Now() - Interval(days=days))) & table.status.isin(statuses)
	)
