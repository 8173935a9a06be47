"""Webhook delivery as Xero does it: signed batches of thin events, and the intent-to-receive probes."""

import base64
import hashlib
import hmac
import json
import random
import string
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit

import requests

from .identity import LOOPBACK_HOSTS

DELIVERY_TIMEOUT_SECONDS = 5  # Xero gives a receiver 5 seconds


def signature(body: bytes, key: str) -> str:
	"""x-xero-signature: base64(HMAC-SHA256(raw body, webhook key))."""
	return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivery:
	url: str
	payload: dict
	signed_correctly: bool
	status: int | None  # None when the receiver could not be reached
	body: bytes


class EventSource(NamedTuple):
	"""Objects Xero sends webhook events for: the key of their id, the event category, the resource path."""

	id_key: str
	category: str
	resource: str

	def event(self, resource_id: str, tenant_id: str | None, moment: datetime, created: bool = False) -> dict:
		"""One thin event, as Xero sends it: the reader fetches the resource itself."""
		return {
			"resourceUrl": f"https://api.xero.com/api.xro/2.0/{self.resource}/{resource_id}",
			"resourceId": resource_id,
			"eventDateUtc": moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
			"eventType": "CREATE" if created else "UPDATE",
			"eventCategory": self.category,
			"tenantId": tenant_id,
			"tenantType": "ORGANISATION",
		}


class IntentProbe(NamedTuple):
	signed_correctly: bool
	status: int | None
	body: bytes


def intent_to_receive_passed(probes: list[IntentProbe]) -> bool:
	"""Xero enables a webhook only if the good probe got 200 with an empty body and the bad one 401."""
	return all(
		(p.status == 200 and p.body == b"") if p.signed_correctly else p.status == 401 for p in probes
	) and {p.signed_correctly for p in probes} == {True, False}


def batch(events: list[dict], first_sequence: int, rng: random.Random) -> dict:
	return {
		"events": events,
		"firstEventSequence": first_sequence,
		"lastEventSequence": first_sequence + len(events) - 1 if events else first_sequence,
		"entropy": "".join(rng.choices(string.ascii_uppercase, k=20)),
	}


def post(url: str, payload: dict, key: str, sign_correctly: bool) -> Delivery:
	if urlsplit(url).hostname not in LOOPBACK_HOSTS:
		raise ValueError(f"the emulator only delivers webhooks to loopback addresses, not {url}")
	body = json.dumps(payload, separators=(",", ":")).encode()
	signing_key = key if sign_correctly else key[::-1] + "wrong"
	headers = {"Content-Type": "application/json", "x-xero-signature": signature(body, signing_key)}
	try:
		response = requests.post(url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT_SECONDS)
	except requests.RequestException as error:
		return Delivery(url, payload, sign_correctly, None, str(error).encode())
	return Delivery(url, payload, sign_correctly, response.status_code, response.content)
