"""Tier 2: Xero's webhook deliveries reach the real endpoint over HTTP (a `bench serve` on loopback),
are verified, stored once and processed into ERPNext documents, by the job and by a real worker."""

import json
import math
import random
import subprocess
import time
from decimal import Decimal

import frappe
import requests
from frappe.utils import flt

from xero_integration.core.webhook import MAX_BODY_BYTES, sign
from xero_integration.sync import push, webhooks
from xero_integration.sync.integration_user import INTEGRATION_USER
from xero_integration.sync.test_pull import InboundTestCase
from xero_integration.testing import (
	ABBR,
	bench_command,
	free_port,
	make_customer,
	make_sales_invoice,
	sites_path,
)

# A port of its own: benches side by side on one machine each serve their own site.
PORT = free_port()
URL = f"http://127.0.0.1:{PORT}/api/method/xero_integration.api.webhook"


class WebhookTestCase(InboundTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		command, sites = bench_command("serve", "--port", str(PORT), "--noreload"), sites_path()
		cls.server = subprocess.Popen(
			command, cwd=sites, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
		)
		for _attempt in range(100):
			try:
				requests.get(f"http://127.0.0.1:{PORT}/api/method/ping", timeout=1)
				break
			except requests.ConnectionError:
				time.sleep(0.2)
		else:
			cls.server.kill()
			raise RuntimeError("bench serve did not start")

	@classmethod
	def tearDownClass(cls):
		cls.server.terminate()
		cls.server.wait(timeout=10)
		super().tearDownClass()

	def deliver(self, events=None, **kwargs):
		frappe.db.commit()
		status, body = self.emulator.deliver_webhook(URL, events, tenant_id=self.tenant, **kwargs)
		frappe.db.commit()  # see what the server committed
		return status, body

	def process(self):
		frappe.db.commit()
		webhooks.process(self.tenant)
		frappe.db.commit()

	def stored(self, resource_id: str) -> list[dict]:
		return frappe.get_all(
			"Xero Webhook Event",
			filters={"resource_id": resource_id},
			fields=["name", "status", "message", "category"],
		)

	def run_worker(self):
		"""A real `bench worker` does the queued webhook work, as it does on a live site."""
		# The scheduler's safety net too, in case another bench worker took the endpoint's job first.
		webhooks.process_all()
		frappe.db.commit()
		subprocess.run(
			bench_command("worker", "--burst", "--queue", "short"), cwd=sites_path(), check=True, timeout=300
		)
		frappe.db.commit()

	def event(self, category: str, resource_id: str, tenant_id: str | None = None) -> dict:
		"""One event as Xero sends it, for a record the emulator did not announce itself."""
		return {
			"resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource_id}",
			"resourceId": resource_id,
			"eventDateUtc": "2026-11-22T03:00:00.000",
			"eventType": "UPDATE",
			"eventCategory": category,
			"tenantId": tenant_id or self.tenant,
			"tenantType": "ORGANISATION",
		}


class TestEndpoint(WebhookTestCase):
	def test_intent_to_receive_probes_pass(self):
		probes = self.emulator.send_intent_to_receive(URL)
		self.assertTrue(self.emulator.intent_to_receive_passed(probes), probes)

	def test_a_forged_delivery_is_refused_and_changes_nothing(self):
		contact = self.contact("Forged Contact")
		events = self.emulator.pending_events(self.tenant)
		status, body = self.deliver(events, sign_correctly=False)
		self.assertEqual((status, body), (401, b""))
		self.process()
		self.assertFalse(self.stored(contact["ContactID"]))
		self.assertFalse(self.linked("Contact", contact["ContactID"]))
		self.assertEqual(self.deliver(events)[0], 200)  # the genuine delivery of the same events
		self.process()
		self.assertTrue(self.linked("Contact", contact["ContactID"]))

	def test_a_signed_body_that_is_not_an_event_batch_is_a_bad_request(self):
		body = b'{"not": "events"}'
		response = requests.post(
			URL, data=body, headers={"x-xero-signature": sign(body, self.emulator.webhook_key)}, timeout=5
		)
		self.assertEqual(response.status_code, 400)
		unsigned = requests.post(URL, data=body, timeout=5)
		self.assertEqual(unsigned.status_code, 401)

	def test_events_of_an_organisation_not_connected_here_are_acknowledged_and_ignored(self):
		stranger = "0f0f0f0f-0000-4000-8000-000000000000"
		event = self.event("INVOICE", f"aaaaaaaa-0000-4000-8000-{self.run_id:0>12}", tenant_id=stranger)
		status, body = self.deliver([event])
		self.assertEqual((status, body), (200, b""))
		self.assertFalse(self.stored(event["resourceId"]))
		self.assertTrue(
			frappe.db.exists("Xero Sync Log", {"operation": "Webhook", "message": ("like", f"%{stranger}%")})
		)

	def test_a_malformed_or_non_ascii_signature_is_refused_without_an_error(self):
		body = json.dumps({"events": [], "firstEventSequence": 0, "lastEventSequence": 0}).encode()
		errors = frappe.db.count("Error Log")
		# requests sends header text as latin-1 bytes, as any client may.
		for signature in ("é" * 44, "not-base64!", "=" * 44):
			response = requests.post(URL, data=body, headers={"x-xero-signature": signature}, timeout=5)
			self.assertEqual((response.status_code, response.content), (401, b""), signature)
		frappe.db.commit()
		self.assertEqual(frappe.db.count("Error Log"), errors)

	def test_a_body_over_the_cap_is_refused_and_nothing_is_stored(self):
		resource = f"cccccccc-0000-4000-8000-{self.run_id:0>12}"
		payload = {"events": [self.event("INVOICE", resource)], "entropy": "x" * MAX_BODY_BYTES}
		body = json.dumps(payload).encode()
		headers = {"x-xero-signature": sign(body, self.emulator.webhook_key)}
		response = requests.post(URL, data=body, headers=headers, timeout=30)
		self.assertEqual(response.status_code, 413)
		# Without a Content-Length (chunked), the length read is what counts.
		chunked = requests.post(URL, data=iter([body[:1000], body[1000:]]), headers=headers, timeout=30)
		self.assertEqual(chunked.status_code, 413)
		frappe.db.commit()
		self.assertFalse(self.stored(resource))

	def test_events_of_an_organisation_that_must_reconnect_are_kept_until_it_is_connected(self):
		contact = self.contact("Kept For Later")
		frappe.db.set_value("Xero Organisation", self.tenant, "status", "Reconnect Needed")
		frappe.db.commit()
		try:
			self.assertEqual(self.deliver(), (200, b""))
			self.run_worker()
			self.assertEqual([e.status for e in self.stored(contact["ContactID"])], ["Queued"])
			self.assertFalse(self.linked("Contact", contact["ContactID"]))
		finally:
			frappe.db.set_value("Xero Organisation", self.tenant, "status", "Connected")
			frappe.db.commit()
		self.run_worker()
		self.assertEqual([e.status for e in self.stored(contact["ContactID"])], ["Processed"])
		self.assertEqual(len(self.linked("Contact", contact["ContactID"])), 1)

	def test_hundreds_of_events_are_stored_once_each_and_fetched_in_bulk(self):
		# A bookkeeper's contact import: one request of 120 contacts.
		contacts = self.xero_request(
			"PUT", "Contacts", {"Contacts": [{"Name": f"Bulk {n} {self.run_id}"} for n in range(120)]}
		)["Contacts"]
		events = self.emulator.pending_events(self.tenant)
		self.deliver()  # the pending batch ...
		self.assertEqual(self.deliver(events)[0], 200)  # ... and Xero's redelivery of it
		ids = [c["ContactID"] for c in contacts]
		self.assertEqual(
			frappe.db.count("Xero Webhook Event", {"resource_id": ("in", ids), "status": "Queued"}), 120
		)
		queued = frappe.get_all(
			"Xero Webhook Event", filters={"status": "Queued", "category": "CONTACT"}, pluck="resource_id"
		)
		listed = self.emulator.call_count("GET", "/api.xro/2.0/Contacts")
		self.process()
		# IDs in chunks under 50: a list call per chunk, not one fetch per contact.
		self.assertEqual(
			self.emulator.call_count("GET", "/api.xro/2.0/Contacts") - listed,
			math.ceil(len(set(queued)) / 40),
		)
		for contact_id in ids:
			self.assertEqual(len(self.linked("Contact", contact_id)), 1)
		self.assertEqual(
			frappe.db.count("Xero Webhook Event", {"resource_id": ("in", ids), "status": "Processed"}), 120
		)

	def test_a_flood_with_forged_and_duplicated_deliveries_changes_each_contact_once(self):
		contacts = self.xero_request(
			"PUT", "Contacts", {"Contacts": [{"Name": f"Flood {n} {self.run_id}"} for n in range(60)]}
		)["Contacts"]
		events = self.emulator.pending_events(self.tenant)
		rng = random.Random(17)
		batches = [events[i : i + 3] for i in range(0, len(events), 3)]
		forged_only, statuses = [], []
		for batch in batches:
			if rng.random() < 0.1:
				# A forger's copy of these events, never delivered genuinely.
				statuses.append(("forged", self.deliver(batch, sign_correctly=False)[0]))
				forged_only.extend(event["resourceId"] for event in batch)
				continue
			statuses.append(("genuine", self.deliver(batch)[0]))
			if rng.random() < 0.2:
				statuses.append(("genuine", self.deliver(batch)[0]))  # Xero's at-least-once redelivery
		self.assertTrue(forged_only, "the seed forged nothing")
		self.assertEqual({status for kind, status in statuses if kind == "forged"}, {401})
		self.assertEqual({status for kind, status in statuses if kind == "genuine"}, {200})
		self.process()
		for contact in contacts:
			expected = 0 if contact["ContactID"] in forged_only else 1
			self.assertEqual(len(self.linked("Contact", contact["ContactID"])), expected, contact["Name"])
			self.assertEqual(len(self.stored(contact["ContactID"])), expected)


class TestProcessing(WebhookTestCase):
	def test_an_invoice_raised_in_xero_arrives_once_even_when_delivered_twice(self):
		contact = self.contact("Webhook Buyer")
		invoice = self.invoice(contact, [(4, 12.5, "200", "OUTPUT2")], number="WH")  # 57.50
		events = self.emulator.pending_events(self.tenant)
		self.deliver()
		self.deliver(events)
		self.process()
		self.process()
		doc = self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice")
		self.assertEqual((doc.docstatus, flt(doc.grand_total, 2)), (1, 57.5))
		self.assertEqual(self.ledger(doc.name)[f"Debtors - {ABBR}"], Decimal("57.50"))
		self.assertEqual(frappe.db.count("Sales Invoice", {"customer": doc.customer}), 1)
		self.assertEqual({e.status for e in self.stored(invoice["InvoiceID"])}, {"Processed"})

	def test_our_own_push_announced_back_changes_nothing_and_is_not_pushed_again(self):
		customer = make_customer(f"Echo Customer {self.run_id}")
		invoice = make_sales_invoice(customer, lines=((3, 19.99),), tax_rate=15)
		frappe.db.commit()
		push.drain(self.tenant)
		frappe.db.commit()
		xero_id = frappe.db.get_value("Sales Invoice", invoice.name, "xero_id")
		self.assertTrue(xero_id)
		modified = frappe.db.get_value("Sales Invoice", invoice.name, "modified")
		outbox_rows = frappe.db.count("Xero Outbox")
		writes = self.emulator.call_count("POST") + self.emulator.call_count("PUT")
		self.deliver()  # Xero announces the contact and invoice we just wrote
		self.process()
		self.assertEqual(frappe.db.get_value("Sales Invoice", invoice.name, "modified"), modified)
		self.assertEqual(frappe.db.count("Sales Invoice", {"customer": customer}), 1)
		self.assertEqual(frappe.db.count("Customer", {"customer_name": customer}), 1)
		self.assertEqual(frappe.db.count("Xero Outbox"), outbox_rows)
		push.drain(self.tenant)
		self.assertEqual(self.emulator.call_count("POST") + self.emulator.call_count("PUT"), writes)
		self.assertEqual({e.status for e in self.stored(xero_id)}, {"Ignored"})

	def test_a_record_xero_no_longer_has_is_reported(self):
		missing = f"bbbbbbbb-0000-4000-8000-{self.run_id:0>12}"
		self.deliver([self.event("INVOICE", missing)])
		self.process()
		self.assertEqual([e.status for e in self.stored(missing)], ["Failed"])
		self.assertIn("no longer has it", self.attention_logs(missing)[0].message)

	def test_a_credit_note_raised_in_xero_becomes_a_return(self):
		contact = self.contact("Credited Buyer")
		invoice = self.invoice(contact, [(2, 40, "200", "OUTPUT2")], number="CRI")  # 92.00
		note = self.credit_note(contact, 40, number="CN", description="Returned")
		self.deliver()
		self.process()
		credit = self.document_of("CreditNote", note["CreditNoteID"], "Sales Invoice")
		self.assertEqual((credit.is_return, credit.docstatus, flt(credit.grand_total, 2)), (1, 1, -46.0))
		self.assertEqual(self.ledger(credit.name)[f"Debtors - {ABBR}"], Decimal("-46.00"))
		self.assertTrue(self.linked("Invoice", invoice["InvoiceID"]))

	def test_a_real_worker_processes_the_queued_events_as_the_integration_user(self):
		contact = self.contact("Worker Buyer")
		invoice = self.invoice(contact, [(1, 80, "200", "OUTPUT2")], number="WRK")
		self.deliver()  # Xero's POST, without a login
		self.assertTrue(self.stored(invoice["InvoiceID"]))
		self.run_worker()
		doc = self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice")
		customer = self.document_of("Contact", contact["ContactID"], "Customer")
		self.assertEqual((doc.docstatus, flt(doc.grand_total, 2)), (1, 92.0))
		self.assertEqual({e.status for e in self.stored(invoice["InvoiceID"])}, {"Processed"})
		self.assertEqual((doc.owner, customer.owner), (INTEGRATION_USER, INTEGRATION_USER))

		# A bookkeeper voids it in Xero: the worker cancels it in ERPNext, as the integration user.
		self.xero_request("POST", f"Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Status": "VOIDED"}]})
		self.deliver()
		self.run_worker()
		doc.reload()
		self.assertEqual((doc.docstatus, doc.modified_by), (2, INTEGRATION_USER))
		self.assertEqual(self.ledger(doc.name), {})
		logs = frappe.get_all(
			"Xero Sync Log",
			filters={"xero_id": ("in", [invoice["InvoiceID"], contact["ContactID"]])},
			fields=["status", "owner"],
		)
		self.assertEqual({(log.status, log.owner) for log in logs}, {("Success", INTEGRATION_USER)})
