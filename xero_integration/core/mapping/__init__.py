"""Pure mappings between ERPNext document dicts and Xero Accounting API payloads (no frappe here)."""

import hashlib
import json

from xero_integration.core.money import json_ready


def content_hash(payload: dict) -> str:
	"""A stable fingerprint of a payload, so an unchanged document is not sent again.

	Keys are sorted and Decimals compared by value, so Decimal("1.50") and Decimal("1.5") agree.
	"""
	text = json.dumps(json_ready(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
	return hashlib.sha256(text.encode()).hexdigest()
