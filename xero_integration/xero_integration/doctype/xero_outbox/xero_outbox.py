import frappe
from frappe.model.document import Document


class XeroOutbox(Document):
	pass


def on_doctype_update():
	# The drain asks for "this organisation's due rows in dependency order" every batch.
	frappe.db.add_index("Xero Outbox", ["organisation", "status", "stage"])
	frappe.db.add_index("Xero Outbox", ["reference_doctype", "reference_name"])
