"""Tier 2: who reads which Xero rows. Two Companies, each with its own Xero organisation; a bookkeeper
restricted to one Company by a User Permission reads that Company's logs, queue, links and webhook events
only, in lists, forms, the report view, a document's Xero panel, the reconciliation and the chart."""

import json

import frappe
from frappe.desk import reportview
from frappe.utils import nowdate

from xero_integration import api
from xero_integration.sync import push
from xero_integration.sync.log import create_log
from xero_integration.sync.test_push import PushTestCase
from xero_integration.testing import (
	ABBR,
	COMPANY,
	CURRENCY,
	ensure_company,
	ensure_outgoing_email,
	make_customer,
	make_sales_invoice,
	make_user,
	tax_mappings,
	webhook_event,
)
from xero_integration.xero_integration.dashboard_chart_source.xero_sync_activity import xero_sync_activity
from xero_integration.xero_integration.report.xero_reconciliation import xero_reconciliation

OTHER_COMPANY, OTHER_ABBR = "Xero Access Other Company", "XAO"
XERO_DOCTYPES = ("Xero Sync Log", "Xero Outbox", "Xero Document Link", "Xero Webhook Event")
RESTRICTED = "xero-access-restricted@example.com"
ONE_CUSTOMER = "xero-access-one-customer@example.com"
UNRESTRICTED = "xero-access-unrestricted@example.com"
SYSTEM_MANAGER = "xero-access-system-manager@example.com"
SALES_USER = "xero-access-sales@example.com"


def restrict(user: str, doctype: str, value: str) -> None:
	"""A User Permission: the user sees only documents linked to this value."""
	permission = {"doctype": "User Permission", "user": user, "allow": doctype, "for_value": value}
	if not frappe.db.exists(permission):
		frappe.get_doc(permission).insert(ignore_permissions=True)


def desk_rows(doctype: str, view: str) -> set:
	"""The names Desk's List or Report view is given (the request the browser sends)."""
	frappe.local.form_dict = frappe._dict(
		doctype=doctype, fields=json.dumps([f"`tab{doctype}`.`name`"]), view=view, page_length=500
	)
	try:
		result = reportview.get()
	finally:
		frappe.local.form_dict = frappe._dict()
	return {str(values[0]) for values in (result or {}).get("values", [])}


class TestAccessByCompany(PushTestCase):
	organisations = (("Xero Test Org", CURRENCY), ("Xero Access Other Org", CURRENCY))

	@classmethod
	def link_organisations(cls):
		ensure_company(OTHER_COMPANY, OTHER_ABBR)
		cls.ours, cls.theirs = cls.xero.tenants
		cls.xero.link_company(cls.ours, COMPANY, tax_mappings=tax_mappings(ABBR))
		cls.xero.link_company(cls.theirs, OTHER_COMPANY, tax_mappings=tax_mappings(OTHER_ABBR))

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		# One customer buys from both Companies: its Xero records and logs are in both organisations.
		cls.customer = make_customer(f"Access Shared Customer {frappe.generate_hash(length=6)}")
		cls.our_invoice = make_sales_invoice(cls.customer)
		cls.their_invoice = make_sales_invoice(
			cls.customer, company=OTHER_COMPANY, debit_to=f"Debtors - {OTHER_ABBR}"
		)
		cls.other_customer = make_customer(f"Access Other Customer {frappe.generate_hash(length=6)}")
		cls.other_invoice = make_sales_invoice(cls.other_customer)
		frappe.db.commit()
		for tenant in (cls.ours, cls.theirs):
			push.drain(tenant)
			webhook_event(tenant, "Processed")
		make_user(RESTRICTED, "Accounts User", "Xero Manager")
		restrict(RESTRICTED, "Company", COMPANY)
		make_user(ONE_CUSTOMER, "Accounts User")
		restrict(ONE_CUSTOMER, "Company", COMPANY)
		restrict(ONE_CUSTOMER, "Customer", cls.customer)
		make_user(UNRESTRICTED, "Accounts User", "Xero Manager")
		make_user(SYSTEM_MANAGER, "System Manager")
		make_user(SALES_USER, "Sales User")
		frappe.db.commit()

	def tearDown(self):
		frappe.set_user("Administrator")

	def rows_of(self, doctype: str, organisation: str) -> set:
		names = {str(name) for name in frappe.get_all(doctype, {"organisation": organisation}, pluck="name")}
		self.assertTrue(names, f"no {doctype} of {organisation} to read")
		return names

	def test_a_user_restricted_to_one_company_sees_only_its_rows_in_lists_forms_and_report_view(self):
		for doctype in XERO_DOCTYPES:
			ours, theirs = self.rows_of(doctype, self.ours), self.rows_of(doctype, self.theirs)
			frappe.set_user(RESTRICTED)
			for view in ("List", "Report"):
				shown = desk_rows(doctype, view)
				self.assertTrue(ours <= shown, f"{doctype} {view}: own rows missing")
				self.assertFalse(theirs & shown, f"{doctype} {view} shows the other Company's rows")
			self.assertEqual(frappe.client.get(doctype, next(iter(ours)))["organisation"], self.ours)
			with self.assertRaises(frappe.PermissionError, msg=doctype):
				frappe.client.get(doctype, next(iter(theirs)))
			frappe.set_user("Administrator")

	def test_a_log_of_no_organisation_is_read_only_by_users_not_limited_to_companies(self):
		sign_in = create_log("Failed", operation="Connect to Xero", message="Xero refused the sign-in").name
		frappe.db.commit()
		frappe.set_user(UNRESTRICTED)
		self.assertIn(str(sign_in), desk_rows("Xero Sync Log", "List"))
		frappe.set_user(RESTRICTED)
		self.assertNotIn(str(sign_in), desk_rows("Xero Sync Log", "List"))
		self.assertRaises(frappe.PermissionError, frappe.client.get, "Xero Sync Log", sign_in)

	def test_users_without_a_company_restriction_see_every_company_s_rows(self):
		everything = {d: self.rows_of(d, self.ours) | self.rows_of(d, self.theirs) for d in XERO_DOCTYPES}
		for user in ("Administrator", SYSTEM_MANAGER, UNRESTRICTED):
			frappe.set_user(user)
			for doctype, names in everything.items():
				self.assertTrue(names <= desk_rows(doctype, "List"), f"{user} {doctype}")

	def test_a_document_s_xero_panel_shows_only_the_organisations_of_the_user_s_companies(self):
		both = api.document_status("Customer", self.customer)
		self.assertEqual({r.organisation for r in both["records"]}, {self.ours, self.theirs})
		frappe.set_user(RESTRICTED)
		status = api.document_status("Customer", self.customer)
		self.assertEqual([r.organisation for r in status["records"]], [self.ours])
		history = frappe.get_all(
			"Xero Sync Log",
			filters={"name": ("in", [row.name for row in status["history"]])},
			pluck="organisation",
		)
		self.assertEqual(set(history), {self.ours})
		# Someone who reads the customer but no Xero rows sees no Xero panel, not an error.
		frappe.set_user(SALES_USER)
		status = api.document_status("Customer", self.customer)
		self.assertEqual((status["records"], status["history"]), ([], []))

	def test_the_reconciliation_needs_the_organisation_s_company_and_lists_only_readable_invoices(self):
		filters = {"from_date": nowdate(), "to_date": nowdate()}
		frappe.set_user(RESTRICTED)
		with self.assertRaises(frappe.PermissionError):
			xero_reconciliation.execute({**filters, "organisation": self.theirs})
		frappe.set_user(ONE_CUSTOMER)
		_columns, rows = xero_reconciliation.execute({**filters, "organisation": self.ours})
		self.assertIn(self.our_invoice.name, [row.get("reference_name") for row in rows])
		shown = json.dumps(rows, default=str)
		self.assertNotIn(self.other_invoice.name, shown)
		self.assertNotIn(self.other_customer, shown)

	def test_the_activity_chart_counts_only_the_syncs_of_the_user_s_companies(self):
		def charted():  # every log of this class is a few seconds old: within the chart's 30 days
			chart = xero_sync_activity.get(chart_name="Xero Sync Activity", refresh=1)
			return sum(sum(dataset["values"]) for dataset in chart["datasets"])

		self.assertEqual(charted(), frappe.db.count("Xero Sync Log"))
		self.assertTrue(frappe.db.count("Xero Sync Log", {"organisation": self.theirs}))
		frappe.set_user(RESTRICTED)
		self.assertEqual(charted(), frappe.db.count("Xero Sync Log", {"organisation": self.ours}))

	def test_the_failure_digest_tells_each_xero_manager_of_their_companies_only(self):
		from xero_integration.sync import digest

		outgoing = ensure_outgoing_email()
		if outgoing:
			self.addCleanup(frappe.delete_doc, "Email Account", outgoing, ignore_permissions=True, force=True)
		frappe.db.set_single_value("Xero Settings", "failure_digest_sent_until", None)
		digest.send_failure_digest()
		frappe.db.delete("Email Queue")
		for organisation, text in ((self.ours, "OURS-FAILED"), (self.theirs, "THEIRS-FAILED")):
			create_log("Needs Attention", operation="Invoice upsert", organisation=organisation, message=text)
		frappe.db.commit()
		digest.send_failure_digest()
		mails = {}
		for mail in frappe.get_all("Email Queue", fields=["name", "message"]):
			for recipient in frappe.get_all(
				"Email Queue Recipient", {"parent": mail.name}, pluck="recipient"
			):
				mails[recipient] = mail.message
		self.assertIn("OURS-FAILED", mails[RESTRICTED])
		self.assertNotIn("THEIRS-FAILED", mails[RESTRICTED])
		self.assertIn("THEIRS-FAILED", mails[UNRESTRICTED])

	def test_retry_reaches_only_the_rows_of_the_user_s_companies(self):
		theirs = frappe.get_all("Xero Outbox", {"organisation": self.theirs}, pluck="name", limit=1)[0]
		their_log = frappe.get_all("Xero Sync Log", {"organisation": self.theirs}, pluck="name", limit=1)[0]
		frappe.db.set_value("Xero Outbox", theirs, {"status": "Needs Attention", "last_error": "parked"})
		frappe.db.commit()
		frappe.set_user(RESTRICTED)
		with self.assertRaises(frappe.PermissionError):
			api.retry([theirs])
		with self.assertRaises(frappe.PermissionError):
			api.retry_logs([their_log])
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value("Xero Outbox", theirs, "status"), "Needs Attention")
		frappe.set_user(UNRESTRICTED)
		self.assertEqual(api.retry([theirs]), 1)
