"""The one wrapper around xero-python. Frappe-free.

Every Accounting API call goes through `XeroClient.call`: it takes a place from the tenant's shared
rate limiter, sends through the official SDK (so headers, idempotency keys and URLs are the SDK's),
feeds Xero's remaining-calls headers back to the limiter, and turns failures into core.errors types.
Bodies are Xero's JSON (PascalCase dicts), parsed with Decimal so amounts stay exact.
"""

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import HTTPStatusException
from xero_python.identity import IdentityApi

from xero_integration.core import batching
from xero_integration.core.errors import (
	XeroAuthError,
	XeroError,
	XeroNotFound,
	XeroRateLimited,
	XeroUnavailable,
	XeroValidationError,
)
from xero_integration.core.oauth import XERO_API_URL
from xero_integration.core.objects import OBJECTS
from xero_integration.core.ratelimit import RateLimitWait, TenantRateLimiter

# (connect, read) seconds; a read timeout on a write is an "uncertain" outcome, never a failure.
DEFAULT_TIMEOUT = (10, 60)
# Inline 429 retries: after these the caller reschedules the work instead of holding a worker.
MAX_RATE_LIMIT_RETRIES = 3
PAGE_SIZE = 1000
# Xero's IDs= filter breaks somewhere past 50 GUIDs; stay well under.
ID_CHUNK = 40

# Called with None for the current token, or with a token Xero refused to get a fresh one.
TokenProvider = Callable[[str | None], str]


@dataclass
class XeroResponse:
	status: int
	headers: dict = field(default_factory=dict)
	body: dict | None = None


def sdk_configuration(oauth2_token: OAuth2Token) -> Configuration:
	"""A Configuration of our own. xero-python's Configuration() returns a shallow copy of the first one
	ever made in the process, ignoring its arguments, so every client would share one token object."""
	configuration = Configuration()
	configuration.oauth2_token = oauth2_token
	return configuration


def parse_json(raw: bytes | str | None):
	if not raw:
		return None
	try:
		return json.loads(raw, parse_float=Decimal)
	except ValueError:
		return None


class XeroClient:
	"""One organisation's Accounting API. Not thread-safe (neither is the SDK): one per job."""

	def __init__(
		self,
		tenant_id: str | None,
		token_provider: TokenProvider,
		*,
		api_url: str = XERO_API_URL,
		limiter: TenantRateLimiter | None = None,
		max_wait: float = 60.0,
		timeout=DEFAULT_TIMEOUT,
	):
		self.tenant_id = tenant_id
		self.limiter = limiter
		self.max_wait = max_wait
		self.timeout = timeout
		self._token_provider = token_provider
		self._access_token = None
		# Called before every request is sent (after waiting for the rate limiter): e.g. the drain
		# renewing its lock, or stopping when it has lost it.
		self.before_request: Callable[[], None] | None = None
		api_client = ApiClient(
			sdk_configuration(OAuth2Token()),
			oauth2_token_getter=self._sdk_token,
			oauth2_token_saver=lambda token: None,
		)
		# urllib3 2.x (under xero-python) silently repeats GET/PUT/DELETE up to 3 times, sleeping through
		# a 429's Retry-After: that would hide Xero's answers from the shared limiter and hold a worker.
		# Retries are ours to decide (limiter, outbox backoff), so urllib3 must not make any.
		pool = api_client.rest_client.pool_manager
		pool.request = functools.partial(pool.request, retries=False)
		self.accounting = AccountingApi(api_client, base_url=f"{api_url.rstrip('/')}/api.xro/2.0")
		self.identity = IdentityApi(api_client, base_url=api_url.rstrip("/"))
		self.calls = 0

	def _sdk_token(self) -> dict:
		# expires_at None: the SDK must never refresh on its own; sync/connection.py does, under a lock.
		return {
			"access_token": self._access_token,
			"token_type": "Bearer",
			"scope": "",
			"expires_in": None,
			"expires_at": None,
		}

	def call(self, operation: str, *args, **params) -> XeroResponse:
		"""Run an AccountingApi method by name for this tenant, e.g. call("get_invoices", page=1)."""
		return self._send(getattr(self.accounting, operation), (self.tenant_id, *args), params)

	# ---- Xero objects, by the catalogue (core/objects.py) -------------------------------------------

	def records(self, kind: str, response: XeroResponse) -> list[dict]:
		return (response.body or {}).get(OBJECTS[kind].collection) or []

	def pages(
		self, kind: str, *, page_size: int = PAGE_SIZE, **params
	) -> Iterator[tuple[list[dict], dict | None]]:
		"""The object's list, a page at a time: (records, pagination). A list Xero does not page comes as
		one page; params are the list's own (if_modified_since, where, order, ...)."""
		xero_object = OBJECTS[kind]
		params = {**xero_object.read_params(), **params}
		if not xero_object.paged:
			yield self.records(kind, self.call(xero_object.list_method, **params)), None
			return
		page = 1
		while True:
			response = self.call(xero_object.list_method, page=page, page_size=page_size, **params)
			records = self.records(kind, response)
			pagination = (response.body or {}).get("pagination")
			yield records, pagination
			if is_last_page(len(records), page, pagination, page_size):
				return
			page += 1

	def list_all(self, kind: str, **params) -> list[dict]:
		"""Every record of the object's list, all pages."""
		return [record for records, _pagination in self.pages(kind, **params) for record in records]

	def by_ids(self, kind: str, ids: Iterable[str]) -> dict[str, dict]:
		"""The current records of these IDs, by lowercase ID; an ID Xero no longer has is absent. Lists
		that filter by IDs= are read 40 IDs a call, the others one record a call."""
		xero_object, found = OBJECTS[kind], {}
		for chunk in id_chunks(ids):
			if xero_object.by_ids:
				# An announced record may have just been archived: read it all the same.
				archived = {"include_archived": True} if xero_object.archived else {}
				records = self.list_all(kind, i_ds=chunk, **archived)
			else:
				records = [record for xero_id in chunk if (record := self.get(kind, xero_id))]
			found.update({record[xero_object.id_key].lower(): record for record in records})
		return found

	def get(self, kind: str, xero_id: str) -> dict | None:
		"""One record by its id, or None when Xero has no such record."""
		xero_object = OBJECTS[kind]
		params = {"unitdp": 4} if xero_object.unitdp else {}
		try:
			records = self.records(kind, self.call(xero_object.get_method, xero_id, **params))
		except XeroNotFound:
			return None
		return records[0] if records else None

	def send(self, kind: str, payloads: list[dict], **params) -> list[batching.ElementResult]:
		"""One batch of the object, with an outcome per element (summarizeErrors=false)."""
		xero_object = OBJECTS[kind]
		response = self.call(
			xero_object.send_method,
			{xero_object.collection: payloads},
			summarize_errors=False,
			**xero_object.send_params(),
			**params,
		)
		return batching.split_results(kind, payloads, response.body)

	def connections(self) -> list[dict]:
		return self._send(self.identity.get_connections, (), {}, limited=False).body or []

	def delete_connection(self, connection_id: str) -> None:
		self._send(self.identity.delete_connection, (connection_id,), {}, limited=False)

	def _send(self, method, args, params, limited: bool = True) -> XeroResponse:
		refreshed, rate_limited = False, 0
		while True:
			# The provider returns the stored token, refreshing it (under a lock) when it is due.
			self._access_token = self._token_provider(None)
			try:
				return self._send_once(method, args, params, limited)
			except XeroAuthError:
				if refreshed:
					raise
				# Revoked or expired early: one forced refresh, then the refusal stands.
				refreshed = True
				self._token_provider(self._access_token)
			except XeroRateLimited as e:
				rate_limited += 1
				if not self.limiter or e.problem == "day" or rate_limited > MAX_RATE_LIMIT_RETRIES:
					raise

	def _send_once(self, method, args, params, limited: bool) -> XeroResponse:
		permit = None
		if limited and self.limiter:
			try:
				permit = self.limiter.acquire(self.max_wait)
			except RateLimitWait as e:
				raise XeroRateLimited(str(e), retry_after=e.wait_seconds, problem=e.reason, status=None)
		try:
			if self.before_request:
				self.before_request()
			self.calls += 1
			data, status, headers = method(
				*args,
				**params,
				_return_http_data_only=False,
				_preload_content=False,
				_request_timeout=self.timeout,
			)
			response = XeroResponse(status, dict(headers or {}), parse_json(data.data))
		except HTTPStatusException as e:
			response = XeroResponse(e.status, dict(e.headers or {}), parse_json(e.body))
		except urllib3.exceptions.HTTPError as e:
			raise XeroUnavailable(f"Xero did not answer: {type(e).__name__}", uncertain=True) from e
		finally:
			if permit:
				permit.release()
		if limited and self.limiter:
			self.limiter.observe(response.status, response.headers)
		if response.status >= 300:
			raise error_for(response)
		return response


def id_chunks(ids: Iterable[str], size: int = ID_CHUNK) -> list[list[str]]:
	"""Distinct IDs, in first-seen order, in chunks Xero's IDs= filter accepts."""
	distinct = list(dict.fromkeys(i for i in ids if i))
	return [distinct[start : start + size] for start in range(0, len(distinct), size)]


def is_last_page(items_on_page: int, page: int, pagination: dict | None, page_size: int = PAGE_SIZE) -> bool:
	if pagination and pagination.get("pageCount") is not None:
		return page >= int(pagination["pageCount"])
	return items_on_page < page_size


def error_for(response: XeroResponse) -> XeroError:
	status, body = response.status, response.body
	headers = {k.lower(): v for k, v in response.headers.items()}
	if status == 429:
		return XeroRateLimited(
			"Xero asked us to slow down",
			retry_after=float(headers.get("retry-after") or 1),
			problem=headers.get("x-rate-limit-problem", "minute"),
		)
	if status in (401, 403):
		return XeroAuthError(_error_text(body) or "Xero refused the access token", status=status, body=body)
	if status == 404:
		return XeroNotFound("Xero has no such document", status=status, body=body)
	if status >= 500:
		return XeroUnavailable(f"Xero is unavailable (HTTP {status})", status=status, body=body)
	messages = validation_messages(body)
	return XeroValidationError(
		"; ".join(messages) or f"Xero refused the request (HTTP {status})",
		status=status,
		body=body,
		messages=messages,
	)


def validation_messages(body) -> list[str]:
	"""Xero's plain-language messages from a ValidationException body or one element of a batch."""
	if not isinstance(body, dict):
		return []
	messages = [e.get("Message", "") for e in body.get("ValidationErrors") or [] if isinstance(e, dict)]
	for element in body.get("Elements") or []:
		messages.extend(validation_messages(element))
	if not messages:
		text = _error_text(body)
		if text:
			messages.append(text)
	return [m for m in messages if m]


def _error_text(body) -> str:
	if not isinstance(body, dict):
		return ""
	return str(body.get("Detail") or body.get("Message") or body.get("Title") or "")
