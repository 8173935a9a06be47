"""Webhook delivery: Xero's signature, thin events from writes, and the intent-to-receive probes."""

import base64
import hashlib
import hmac
import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response
from xero_python.accounting import Account, Contact, Contacts, Invoice, Invoices, LineItem, Payment


class Receiver:
	"""A webhook endpoint on loopback that checks x-xero-signature the documented way."""

	def __init__(self, key: str, honest: bool = True):
		self.key = key
		self.honest = honest  # a dishonest receiver answers 200 whatever the signature
		self.batches: list[dict] = []
		self.server = make_server("127.0.0.1", 0, self)
		self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/xero"
		threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

	def __call__(self, environ, start_response):
		request = Request(environ)
		body = request.get_data()
		expected = base64.b64encode(hmac.new(self.key.encode(), body, hashlib.sha256).digest()).decode()
		if self.honest and not hmac.compare_digest(expected, request.headers.get("x-xero-signature", "")):
			return Response("", 401)(environ, start_response)
		self.batches.append(json.loads(body))
		return Response("", 200)(environ, start_response)


@pytest.fixture
def receiver(emulator):
	receiver = Receiver(emulator.webhook_key)
	yield receiver
	receiver.server.shutdown()


def test_intent_to_receive_probes_are_recorded_and_judged(emulator, receiver):
	probes = emulator.send_intent_to_receive(receiver.url)
	assert [(p.signed_correctly, p.status, p.body) for p in probes] == [(True, 200, b""), (False, 401, b"")]
	assert emulator.intent_to_receive_passed(probes)
	assert receiver.batches[0]["events"] == []
	assert (receiver.batches[0]["firstEventSequence"], receiver.batches[0]["lastEventSequence"]) == (0, 0)
	assert len(emulator.webhook_deliveries) == 2


def test_a_receiver_that_ignores_signatures_fails_intent_to_receive(emulator):
	careless = Receiver(emulator.webhook_key, honest=False)
	try:
		assert not emulator.intent_to_receive_passed(emulator.send_intent_to_receive(careless.url))
	finally:
		careless.server.shutdown()


def test_writes_produce_thin_signed_events_and_payments_none(emulator, xero, tenant_id, receiver):
	contact = xero.accounting.create_contacts(
		tenant_id, Contacts(contacts=[Contact(name="Acme Ltd")])
	).contacts[0]
	line = LineItem(description="Work", quantity=1, unit_amount=100, account_code="200")
	invoice = Invoice(type="ACCREC", contact=Contact(contact_id=contact.contact_id), status="AUTHORISED")
	invoice.line_items = [line]
	created = xero.accounting.create_invoices(tenant_id, Invoices(invoices=[invoice])).invoices[0]
	payment = Payment(invoice=Invoice(invoice_id=created.invoice_id), account=Account(code="090"), amount=10)
	xero.accounting.create_payment(tenant_id, payment)

	pending = emulator.pending_events(tenant_id)
	assert [(e["eventCategory"], e["eventType"]) for e in pending] == [
		("CONTACT", "CREATE"),
		("INVOICE", "CREATE"),
	]
	assert pending[1]["resourceUrl"].endswith(f"/api.xro/2.0/Invoices/{created.invoice_id}")

	status, body = emulator.deliver_webhook(receiver.url, tenant_id=tenant_id)
	assert (status, body) == (200, b"")
	delivered = receiver.batches[-1]
	assert [e["resourceId"] for e in delivered["events"]] == [contact.contact_id, created.invoice_id]
	assert (delivered["firstEventSequence"], delivered["lastEventSequence"]) == (1, 2)
	assert emulator.pending_events(tenant_id) == []


def test_wrongly_signed_delivery_is_refused_by_an_honest_receiver(emulator, tenant_id, receiver):
	status, _ = emulator.deliver_webhook(
		receiver.url, [{"ContactID": "abc"}], tenant_id=tenant_id, sign_correctly=False
	)
	assert status == 401
	assert emulator.webhook_deliveries[-1].payload["events"][0]["eventCategory"] == "CONTACT"


def test_webhooks_only_go_to_loopback(emulator):
	with pytest.raises(ValueError):
		emulator.deliver_webhook("https://example.com/hook", [])
