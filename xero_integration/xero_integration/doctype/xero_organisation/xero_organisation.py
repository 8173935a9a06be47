import frappe
from frappe import _
from frappe.model.document import Document


class XeroOrganisation(Document):
	def validate(self):
		self.validate_company()

	def validate_company(self):
		if not self.company:
			return
		other = frappe.db.get_value(
			"Xero Organisation", {"company": self.company, "name": ("!=", self.name)}, "organisation_name"
		)
		if other:
			frappe.throw(
				_(
					"Company {0} is already linked to the Xero organisation {1}. Unlink it there first."
				).format(frappe.bold(self.company), frappe.bold(other))
			)
		company_currency = frappe.get_cached_value("Company", self.company, "default_currency")
		if self.base_currency and company_currency != self.base_currency:
			frappe.throw(
				_(
					"Company {0} keeps its books in {1} but {2} uses {3}. Link a Company with the same base currency."
				).format(self.company, company_currency, self.organisation_name, self.base_currency)
			)
