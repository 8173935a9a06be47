import frappe
from frappe.model.document import Document
from frappe.query_builder import Interval
from frappe.query_builder.functions import Now

from xero_integration.sync.desk import log_url

# Failures stay until someone fixes them: only settled rows are cleared by Log Settings.
CLEARABLE_STATUSES = ("Success", "Skipped")


class XeroSyncLog(Document):
	def onload(self):
		self.set_onload("xero_url", log_url(self))

	@staticmethod
	def clear_old_logs(days=30):
		table = frappe.qb.DocType("Xero Sync Log")
		frappe.db.delete(
			table,
			filters=(table.modified < (Now() - Interval(days=days))) & table.status.isin(CLEARABLE_STATUSES),
		)
