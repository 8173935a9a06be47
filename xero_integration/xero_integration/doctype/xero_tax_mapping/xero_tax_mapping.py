from frappe.model.document import Document


class XeroTaxMapping(Document):
	pass
