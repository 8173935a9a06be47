import base64
import hashlib
import hmac
import json

import pytest

from xero_integration.core import webhook

KEY = "webhook-key-for-tests"


def _event(**overrides):
	event = {
		"resourceUrl": "https://api.xero.com/api.xro/2.0/Invoices/abc",
		"resourceId": "abc",
		"eventDateUtc": "2026-11-22T03:00:00.000",
		"eventType": "UPDATE",
		"eventCategory": "INVOICE",
		"tenantId": "tenant-1",
		"tenantType": "ORGANISATION",
	}
	event.update(overrides)
	return event


def test_signature_is_base64_hmac_sha256_of_the_raw_body():
	body = json.dumps({"events": [], "firstEventSequence": 0, "lastEventSequence": 0}).encode()
	expected = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()
	assert webhook.is_signature_valid(body, expected, KEY)
	assert not webhook.is_signature_valid(body, expected, "another-key")
	assert not webhook.is_signature_valid(body + b" ", expected, KEY)
	assert not webhook.is_signature_valid(body, None, KEY)
	assert not webhook.is_signature_valid(body, expected, "")


def test_intent_to_receive_probe_has_no_events():
	assert webhook.parse_events(b'{"events": [], "firstEventSequence": 0, "lastEventSequence": 0}') == []


def test_redelivered_event_has_the_same_dedup_key_and_a_new_time_does_not():
	body = json.dumps({"events": [_event(), _event(), _event(eventDateUtc="2026-11-22T04:00:00.000")]})
	first, again, later = webhook.parse_events(body.encode())
	assert first.dedup_key == again.dedup_key
	assert first.dedup_key != later.dedup_key
	assert (first.tenant_id, first.category, first.resource_id) == ("tenant-1", "INVOICE", "abc")


@pytest.mark.parametrize(
	"body",
	[b"not json", b"{}", b'{"events": {}}', json.dumps({"events": [{"resourceId": "x"}]}).encode()],
)
def test_malformed_bodies_are_refused(body):
	with pytest.raises(webhook.MalformedWebhook):
		webhook.parse_events(body)


def test_unknown_category_is_refused():
	with pytest.raises(webhook.MalformedWebhook):
		webhook.parse_events(json.dumps({"events": [_event(eventCategory="BANKFEED")]}).encode())


@pytest.mark.parametrize("signature", ["é" * 44, "Ã©Ã©", "not base64 at all", "=" * 44, " "])
def test_a_malformed_or_non_ascii_signature_is_invalid_not_an_error(signature):
	body = b'{"events": []}'
	assert not webhook.is_signature_valid(body, signature, KEY)


def test_a_body_over_the_cap_is_too_large_whatever_it_says():
	assert not webhook.is_too_large(None)  # chunked: the length is checked once read
	assert not webhook.is_too_large(webhook.MAX_BODY_BYTES)
	assert webhook.is_too_large(webhook.MAX_BODY_BYTES + 1)
