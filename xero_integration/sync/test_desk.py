"""Tier 2: what the Desk buttons do in a real site against the emulated Xero — who may press them,
Retry through the outbox, the dry-run Preview, the failure digest and the reconciliation report."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import frappe
from frappe.utils import nowdate

from xero_integration import api
from xero_integration.sync import digest
from xero_integration.sync.log import create_log
from xero_integration.sync.test_push import PushTestCase
from xero_integration.testing import ensure_outgoing_email, make_customer, make_sales_invoice
from xero_integration.xero_integration.report.xero_reconciliation import xero_reconciliation

ACCOUNTS_USER = "xero-desk-accounts@example.com"
XERO_MANAGER = "xero-desk-manager@example.com"
WRITES = ("POST", "PUT", "DELETE")


def ensure_user(email: str, roles: tuple[str, ...]) -> str:
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": email.split("@")[0], "send_welcome_email": 0}
		).insert(ignore_permissions=True)
		user.add_roles(*roles)
	frappe.db.commit()
	return email


class DeskTestCase(PushTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_user(ACCOUNTS_USER, ("Accounts User",))
		ensure_user(XERO_MANAGER, ("Xero Manager", "Accounts User"))

	def tearDown(self):
		frappe.set_user("Administrator")

	def synced_invoice(self, customer: str, **values):
		invoice = make_sales_invoice(make_customer(customer), tax_rate=15, **values)
		self.drain_until_empty()
		return invoice

	def xero_writes(self) -> int:
		return sum(self.api_calls(method) for method in WRITES)

	def edit_in_xero(self, invoice_id: str, **changes):
		"""A bookkeeper changes the invoice in Xero's web app."""
		self.xero.as_bookkeeper(
			self.tenant,
			"POST",
			f"Invoices/{invoice_id}",
			{"Invoices": [{"InvoiceID": invoice_id, **changes}]},
		)


class TestRoles(DeskTestCase):
	def test_an_accounts_user_reads_logs_but_cannot_retry_preview_or_sync(self):
		invoice = self.synced_invoice("Desk Roles Customer")
		log = frappe.get_last_doc("Xero Sync Log", {"reference_name": invoice.name})
		frappe.set_user(ACCOUNTS_USER)
		self.assertIn(log.name, frappe.get_list("Xero Sync Log", pluck="name"))
		status = api.document_status("Sales Invoice", invoice.name)
		self.assertEqual(status["records"][0]["xero_status"], "AUTHORISED")
		for press in (
			lambda: api.retry_logs([log.name]),
			lambda: api.preview("Sales Invoice", invoice.name),
			lambda: api.sync_document("Sales Invoice", invoice.name),
		):
			self.assertRaises(frappe.PermissionError, press)

	def test_a_xero_manager_queues_a_document_with_sync_to_xero(self):
		invoice = self.synced_invoice("Desk Sync Customer")
		frappe.set_user(XERO_MANAGER)
		(row,) = api.sync_document("Sales Invoice", invoice.name)
		self.assertEqual(frappe.db.get_value("Xero Outbox", row, "status"), "Pending")

	def test_documents_that_are_not_synced_are_refused(self):
		self.assertRaises(frappe.ValidationError, api.document_status, "Journal Entry", "anything")


class TestRetry(DeskTestCase):
	def test_retry_puts_a_parked_row_back_and_it_succeeds_once_the_cause_is_fixed(self):
		organisation = frappe.get_doc("Xero Organisation", self.tenant)
		mappings = [row.as_dict() for row in organisation.tax_mappings]
		organisation.tax_mappings = [r for r in organisation.tax_mappings if "Sales Tax" not in r.erpnext_tax]
		organisation.save(ignore_permissions=True)
		frappe.db.commit()
		self.addCleanup(self.restore_tax_mappings, mappings)

		invoice = self.synced_invoice("Desk Retry Customer")
		log = frappe.get_last_doc(
			"Xero Sync Log", {"reference_name": invoice.name, "status": "Needs Attention"}
		)
		self.assertIn("Sales Tax", log.message)

		self.restore_tax_mappings(mappings)
		frappe.set_user(XERO_MANAGER)
		result = api.retry_logs([log.name])
		frappe.set_user("Administrator")
		self.assertEqual(result["retried"], 1)
		self.drain_until_empty()
		self.assertEqual(frappe.db.get_value("Sales Invoice", invoice.name, "xero_status"), "AUTHORISED")
		self.assert_same_total(invoice)

	def restore_tax_mappings(self, mappings):
		organisation = frappe.get_doc("Xero Organisation", self.tenant)
		organisation.tax_mappings = []
		for row in mappings:
			organisation.append(
				"tax_mappings",
				{key: row[key] for key in ("erpnext_tax_type", "erpnext_tax", "xero_tax_type")},
			)
		organisation.save(ignore_permissions=True)
		frappe.clear_document_cache("Xero Organisation", self.tenant)
		frappe.db.commit()

	def test_retry_of_a_log_whose_document_is_already_in_sync_says_so(self):
		invoice = self.synced_invoice("Desk In Sync Customer")
		log = frappe.get_last_doc("Xero Sync Log", {"reference_name": invoice.name})
		result = api.retry_logs([log.name])
		self.assertEqual(result["retried"], 0)
		self.assertIn("already in sync", result["message"])


class TestPreview(DeskTestCase):
	def test_preview_of_a_new_document_shows_the_payload_and_writes_nothing(self):
		customer = make_customer("Desk Preview New Customer")
		invoice = make_sales_invoice(customer, tax_rate=15, submit=False)
		writes = self.xero_writes()
		(entry,) = api.preview("Sales Invoice", invoice.name)
		self.assertEqual(self.xero_writes(), writes)
		payload = json.loads(entry["payload"])
		self.assertEqual(payload["InvoiceNumber"], invoice.name)
		self.assertEqual(payload["LineItems"][0]["TaxType"], "OUTPUT2")
		self.assertIsNone(entry["differences"])
		self.assertTrue(any(customer in note for note in entry["notes"]))
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": invoice.name}))

	def test_preview_of_a_synced_document_lists_what_xero_holds_differently(self):
		invoice = self.synced_invoice("Desk Preview Customer", po_no="PO-DESK-1")
		xero_id = frappe.db.get_value("Sales Invoice", invoice.name, "xero_id")
		(entry,) = api.preview("Sales Invoice", invoice.name)
		self.assertEqual(entry["differences"], [])

		self.edit_in_xero(xero_id, Reference="Changed in Xero")
		writes = self.xero_writes()
		logs = frappe.db.count("Xero Sync Log")
		(entry,) = api.preview("Sales Invoice", invoice.name)
		self.assertEqual(self.xero_writes(), writes)
		self.assertEqual(frappe.db.count("Xero Sync Log"), logs)
		self.assertEqual(
			entry["differences"],
			[{"field": "Reference", "erpnext": "PO-DESK-1", "xero": "Changed in Xero"}],
		)
		self.assertIn(xero_id, entry["url"])


class TestDigest(DeskTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.email_account = ensure_outgoing_email()

	@classmethod
	def tearDownClass(cls):
		if cls.email_account:
			frappe.delete_doc("Email Account", cls.email_account, ignore_permissions=True, force=True)
			frappe.db.commit()
		super().tearDownClass()

	def setUp(self):
		super().setUp()
		frappe.db.set_single_value("Xero Settings", "failure_digest_sent_until", None)
		digest.send_failure_digest()  # everything logged so far is reported: start from a clean slate
		frappe.db.delete("Email Queue")
		frappe.db.commit()

	def test_many_failures_make_one_email_and_one_chat_message(self):
		chat = LoopbackWebhook()
		self.addCleanup(chat.stop)
		frappe.db.set_single_value("Xero Settings", "failure_webhook_url", chat.url)
		self.addCleanup(frappe.db.set_single_value, "Xero Settings", "failure_webhook_url", None)
		for number in range(5):
			create_log(
				"Needs Attention",
				operation="Invoice upsert",
				organisation=self.tenant,
				message=f"Account code DIGEST-{number} is not valid",
			)
		self.assertEqual(digest.send_failure_digest(), 5)

		(mail,) = frappe.get_all("Email Queue", fields=["name", "message"])
		self.assertIn("DIGEST-4", mail.message)
		recipients = frappe.get_all("Email Queue Recipient", filters={"parent": mail.name}, pluck="recipient")
		self.assertIn(XERO_MANAGER, recipients)
		self.assertEqual(len(chat.messages), 1)
		self.assertIn("5", chat.messages[0]["text"])
		self.assertEqual(chat.messages[0]["text"], chat.messages[0]["content"])

		self.assertEqual(digest.send_failure_digest(), 0)
		self.assertEqual(frappe.db.count("Email Queue"), 1)


class LoopbackWebhook:
	"""A Slack/Discord stand-in on 127.0.0.1 that keeps every JSON body it receives."""

	def __init__(self):
		messages = self.messages = []

		class Handler(BaseHTTPRequestHandler):
			def do_POST(self):
				messages.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
				self.send_response(204)
				self.end_headers()

			def log_message(self, *args):
				pass

		self.server = HTTPServer(("127.0.0.1", 0), Handler)
		self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
		threading.Thread(target=self.server.serve_forever, daemon=True).start()

	def stop(self):
		self.server.shutdown()
		self.server.server_close()


class TestReconciliation(DeskTestCase):
	def run_report(self, view="Invoices"):
		_columns, rows = xero_reconciliation.execute(
			{"organisation": self.tenant, "from_date": nowdate(), "to_date": nowdate(), "view": view}
		)
		return rows

	def test_equal_after_a_clean_sync_and_a_payment_made_only_in_xero_stands_out(self):
		customer = f"Desk Reconcile {frappe.generate_hash(length=6)}"
		invoice = self.synced_invoice(customer)
		(row,) = [r for r in self.run_report() if r.get("reference_name") == invoice.name]
		self.assertEqual(row["differences"], "")
		self.assertEqual(row["erpnext_total"], row["xero_total"])

		self.xero.pay_in_xero(self.tenant, row["xero_id"], row["xero_total"])
		(row,) = [r for r in self.run_report() if r.get("reference_name") == invoice.name]
		self.assertEqual(row["differences"], "Status, Amount Due")
		self.assertEqual(row["xero_amount_due"], 0)
		(balance,) = [r for r in self.run_report("Balances") if r["party"] == customer]
		self.assertEqual(balance["difference"], row["erpnext_outstanding"])

	def test_an_invoice_only_in_xero_is_listed(self):
		contact = self.xero.create_in_xero(self.tenant, "Contacts", {"Name": "Desk Xero Only Contact"})
		self.xero.create_in_xero(
			self.tenant,
			"Invoices",
			{
				"Type": "ACCREC",
				"Contact": {"ContactID": contact["ContactID"]},
				"InvoiceNumber": "XERO-ONLY-1",
				"Date": nowdate(),
				"DueDate": nowdate(),
				"Status": "AUTHORISED",
				"LineItems": [
					{"Description": "Made in Xero", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}
				],
			},
		)
		(row,) = [r for r in self.run_report() if "XERO-ONLY-1" in r["differences"]]
		self.assertEqual(row["party"], "Desk Xero Only Contact")
		self.assertNotIn("reference_name", row)
