from frappe.model.document import Document


class XeroItemMapping(Document):
	pass
