from frappe.model.document import Document


class XeroOutbox(Document):
	pass
