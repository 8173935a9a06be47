from frappe.model.document import Document


class XeroHeldRecord(Document):
	pass
