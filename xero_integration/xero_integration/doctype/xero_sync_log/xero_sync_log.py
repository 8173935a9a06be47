from frappe.model.document import Document

from xero_integration.sync.desk import log_url
from xero_integration.sync.housekeeping import delete_settled

# Failures stay until someone fixes them: only settled rows are cleared by Log Settings.
CLEARABLE_STATUSES = ("Success", "Skipped")


class XeroSyncLog(Document):
	def onload(self):
		self.set_onload("xero_url", log_url(self))

	@staticmethod
	def clear_old_logs(days=30):
		delete_settled("Xero Sync Log", CLEARABLE_STATUSES, days)
