import frappe
from frappe.model.document import Document


class XeroWebhookEvent(Document):
	pass


def on_doctype_update():
	# The processing job asks for "this organisation's queued events, oldest first".
	frappe.db.add_index("Xero Webhook Event", ["organisation", "status"])
