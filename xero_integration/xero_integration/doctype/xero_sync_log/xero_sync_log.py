import frappe
from frappe.model.document import Document
from frappe.query_builder import Interval
from frappe.query_builder.functions import Now

# Failures stay until someone fixes them: only settled rows are cleared by Log Settings.
CLEARABLE_STATUSES = ("Success", "Skipped")


class XeroSyncLog(Document):
	@staticmethod
	def clear_old_logs(days=30):
		table = frappe.qb.DocType("Xero Sync Log")
		frappe.db.delete(
			table,
			filters=(table.modified < (Now() - Interval(days=days))) & table.status.isin(CLEARABLE_STATUSES),
		)
