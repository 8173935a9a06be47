"""Group outbox work into Xero requests and split Xero's answers back onto the work. Frappe-free.

Xero takes up to about 50 elements (and 3.5 MB) per POST/PUT. With `summarizeErrors=false` each
element comes back in request order with its own status, so one bad document never sinks the other
49 — this module relies on that order.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from xero_integration.core.objects import OBJECTS

MAX_ELEMENTS = 50
# Xero's limit is 3.5 MB; keep headroom for the envelope and encoding differences.
MAX_BODY_BYTES = 3_000_000
MAX_IDEMPOTENCY_KEY = 128


@dataclass
class ElementResult:
	ok: bool
	xero_id: str | None = None
	errors: list[str] = field(default_factory=list)
	warnings: list[str] = field(default_factory=list)
	element: dict | None = None


def chunks(payloads: Sequence[dict], max_elements: int = MAX_ELEMENTS) -> Iterable[list[int]]:
	"""Indexes of `payloads` in request-sized groups: at most `max_elements` and MAX_BODY_BYTES each."""
	group, size = [], 0
	for index, payload in enumerate(payloads):
		payload_size = len(json.dumps(payload, default=str))
		if group and (len(group) >= max_elements or size + payload_size > MAX_BODY_BYTES):
			yield group
			group, size = [], 0
		group.append(index)
		size += payload_size
	if group:
		yield group


def split_results(kind: str, sent: Sequence[dict], body: dict | None) -> list[ElementResult]:
	"""One result per sent element, from a `summarizeErrors=false` response."""
	collection, id_key = OBJECTS[kind].collection, OBJECTS[kind].id_key
	elements = (body or {}).get(collection) or []
	if len(elements) != len(sent):
		raise ValueError(f"Xero answered {len(elements)} {collection} for {len(sent)} sent")
	results = []
	for element in elements:
		failed = element.get("StatusAttributeString") == "ERROR" or element.get("HasErrors")
		failed = failed or bool(element.get("ValidationErrors"))
		results.append(
			ElementResult(
				ok=not failed,
				xero_id=None if failed else element.get(id_key),
				errors=[e.get("Message", "") for e in element.get("ValidationErrors") or []],
				warnings=[w.get("Message", "") for w in element.get("Warnings") or []],
				element=element,
			)
		)
	return results


def idempotency_key(tenant_id: str, operation: str, item_keys: Iterable[str]) -> str:
	"""The same batch of the same outbox rows always gets the same key, so a resend is a replay."""
	digest = hashlib.sha256("\n".join([tenant_id, operation, *item_keys]).encode()).hexdigest()
	return f"xi-{operation}-{digest}"[:MAX_IDEMPOTENCY_KEY]
