from frappe.model.document import Document


class XeroAccountMapping(Document):
	pass
