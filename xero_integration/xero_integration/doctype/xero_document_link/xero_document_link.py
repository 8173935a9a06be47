import frappe
from frappe.model.document import Document


class XeroDocumentLink(Document):
	pass


def on_doctype_update():
	# One Xero record per document, object and organisation: the durable half of duplicate prevention.
	frappe.db.add_unique(
		"Xero Document Link",
		["organisation", "reference_doctype", "reference_name", "xero_object"],
		constraint_name="unique_document_object",
	)
	# A document's links in every organisation (its form, a party's later edits) without scanning them all.
	frappe.db.add_index("Xero Document Link", ["reference_doctype", "reference_name"])
