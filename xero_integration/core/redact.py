"""Secrets never reach a log: every body written to Xero Sync Log passes through `redact`. Frappe-free."""

import json
from decimal import Decimal

SECRET_KEYS = frozenset(
	{
		"access_token",
		"refresh_token",
		"id_token",
		"client_secret",
		"code_verifier",
		"authorization",
		"webhook_key",
		"token",
		"password",
	}
)
MASK = "********"


def redact(value):
	"""A copy of `value` with every secret-named key masked, at any depth."""
	if isinstance(value, dict):
		return {
			key: MASK if str(key).lower().replace("-", "_") in SECRET_KEYS else redact(item)
			for key, item in value.items()
		}
	if isinstance(value, list | tuple):
		return [redact(item) for item in value]
	return value


def to_log_json(value) -> str | None:
	"""Readable, redacted JSON for the log form; Decimals stay exact."""
	if value is None:
		return None
	if isinstance(value, bytes | str):
		try:
			value = json.loads(value, parse_float=Decimal)
		except ValueError:
			return str(value if isinstance(value, str) else value.decode(errors="replace"))
	return json.dumps(redact(value), indent=1, default=_default, ensure_ascii=False)


def _default(value):
	if isinstance(value, Decimal):
		return str(value)
	return str(value)
