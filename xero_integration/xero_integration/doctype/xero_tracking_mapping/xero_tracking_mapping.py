from frappe.model.document import Document


class XeroTrackingMapping(Document):
	pass
