import datetime

import frappe
from frappe import _
from frappe.model.document import Document

from xero_integration.core.pull import CLOCK_MARGIN
from xero_integration.sync.pull import WATERMARK_FIELD, db_datetime


class XeroOrganisation(Document):
	def validate(self):
		self.validate_company()
		self.start_pulls_when_first_linked()

	def start_pulls_when_first_linked(self):
		"""Scheduled pulls of a newly linked organisation start now: what Xero held before is Import
		History's to bring in, from the date the admin chooses, not the first hourly pull's."""
		watermarks = WATERMARK_FIELD.values()
		if not self.company or not self.has_value_changed("company") or any(map(self.get, watermarks)):
			return
		start = db_datetime(datetime.datetime.now(datetime.timezone.utc) - CLOCK_MARGIN)
		for field in watermarks:
			self.set(field, start)

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
