"""Xero webhooks: signature check, payload parsing and de-duplication keys. Frappe-free."""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

EVENT_CATEGORIES = frozenset({"CONTACT", "INVOICE", "CREDITNOTE", "SUBSCRIPTION"})
# Xero's deliveries are a few kilobytes (thin events, small batches); anything near this is not Xero.
MAX_BODY_BYTES = 1024 * 1024


class MalformedWebhook(ValueError):
	"""The body is signed correctly but is not a Xero event batch."""


@dataclass(frozen=True)
class WebhookEvent:
	tenant_id: str
	category: str
	event_type: str
	resource_id: str
	resource_url: str
	event_date: str

	@property
	def dedup_key(self) -> str:
		"""The same event delivered twice (Xero delivers at least once) has the same key."""
		raw = "|".join((self.tenant_id, self.category, self.resource_id, self.event_date, self.event_type))
		return hashlib.sha256(raw.encode()).hexdigest()


def sign(body: bytes, webhook_key: str) -> str:
	digest = hmac.new(webhook_key.encode(), body, hashlib.sha256).digest()
	return base64.b64encode(digest).decode("ascii")


def is_signature_valid(body: bytes, signature: str | None, webhook_key: str) -> bool:
	if not signature or not webhook_key:
		return False
	# Bytes, not text: compare_digest refuses non-ASCII text, and a forged header may hold anything.
	given = signature.strip().encode("utf-8", "surrogateescape")
	return hmac.compare_digest(sign(body, webhook_key).encode("ascii"), given)


def is_too_large(length: int | None) -> bool:
	"""Whether a body of this many bytes is refused unread (None: not known yet, e.g. chunked)."""
	return length is not None and length > MAX_BODY_BYTES


def parse_events(body: bytes) -> list[WebhookEvent]:
	"""Events of a verified body; an intent-to-receive probe yields an empty list."""
	try:
		payload = json.loads(body)
		raw_events = payload["events"]
	except (ValueError, KeyError, TypeError) as e:
		raise MalformedWebhook("The body is not a Xero webhook payload") from e
	if not isinstance(raw_events, list):
		raise MalformedWebhook("'events' is not a list")
	events = []
	for raw in raw_events:
		try:
			event = WebhookEvent(
				tenant_id=str(raw["tenantId"]),
				category=str(raw["eventCategory"]).upper(),
				event_type=str(raw["eventType"]).upper(),
				resource_id=str(raw["resourceId"]),
				resource_url=str(raw.get("resourceUrl", "")),
				event_date=str(raw["eventDateUtc"]),
			)
		except (KeyError, TypeError) as e:
			raise MalformedWebhook(f"An event lacks {e}") from e
		if event.category not in EVENT_CATEGORIES:
			raise MalformedWebhook(f"Unknown event category {event.category}")
		events.append(event)
	return events
