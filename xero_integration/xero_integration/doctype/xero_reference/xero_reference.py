from frappe.model.document import Document


class XeroReference(Document):
	pass
