"""The emulator: one threaded HTTP server on loopback answering for login.xero.com, identity.xero.com and
api.xero.com, plus /_emulator/ control endpoints. Every API call goes through the same gate as at Xero:
outage and faults, bearer token, tenant header, scope, rate limits, spec validation, idempotency, then the
route of the object family that owns the path (objects/).
"""

import base64
import hashlib
import random
import secrets
import socket
import threading
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from ipaddress import ip_address

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import control, objects, spec, webhooks
from .clock import Clock
from .faults import FaultInjector, Faults
from .identity import DEFAULT_SCOPES, LOOPBACK_HOSTS, AuthorizeError, Identity, OAuthError
from .limits import Limits, RateLimiter
from .objects.base import Organisation
from .objects.endpoints import NOT_FOUND, ApiCall, ApiError, Route, bad_request
from .xerojson import dumps, loads

ACCOUNTING_PREFIX = "/api.xro/2.0"
IDEMPOTENCY_SECONDS = 6 * 60
MAX_IDEMPOTENCY_KEY = 128
MAX_BODY_BYTES = 3_500_000
INJECTED_RETRY_AFTER = 5


@dataclass(frozen=True)
class CallRecord:
	tenant: str | None
	method: str
	path: str  # the route template, e.g. /api.xro/2.0/Invoices/{InvoiceID}
	status: int


@dataclass(frozen=True)
class Violation:
	method: str
	path: str
	message: str


@dataclass
class _IdempotentAnswer:
	fingerprint: str
	expires_at: float
	response: Response


class _Quiet(WSGIRequestHandler):
	def log(self, type, message, *args):
		pass


def _is_loopback(host: str) -> bool:
	if host in LOOPBACK_HOSTS:
		return True
	try:
		return ip_address(host).is_loopback
	except ValueError:
		return False


def json_response(status: int, body, headers: dict | None = None) -> Response:
	if isinstance(body, str):
		return Response(body, status, headers, content_type="text/plain; charset=utf-8")
	return Response(dumps(body), status, headers, content_type="application/json; charset=utf-8")


def problem(status: int, title: str, detail: str, headers: dict | None = None) -> Response:
	"""The problem+json shape Xero's gateway answers with for 401/403/5xx."""
	body = {
		"Type": None,
		"Title": title,
		"Status": status,
		"Detail": detail,
		"Instance": str(uuid.uuid4()),
		"Extensions": {},
	}
	return json_response(status, body, headers)


class _Drop(Exception):
	"""Close the connection without an answer."""


class XeroEmulator:
	def __init__(
		self,
		time_scale: float = 1.0,
		limits: Limits | None = None,
		seed: int = 0,
		host: str = "127.0.0.1",
		port: int = 0,
		validate_requests: bool = True,
	):
		if not _is_loopback(host):
			raise ValueError(f"the emulator only listens on loopback, not {host}")
		self.host, self.port = host, port
		self.clock = Clock(time_scale)
		self.limits = limits or Limits()
		self.identity = Identity(self.clock)
		self.validate_requests = validate_requests
		self.consent_tenants: list[str] | None = None
		self.organisations: dict[str, Organisation] = {}
		self.calls: list[CallRecord] = []
		self.rate_limited_count: Counter = Counter()
		self.violations: list[Violation] = []
		self.emulator_errors: list[str] = []
		self.webhook_key = base64.b64encode(secrets.token_bytes(64)).decode()
		self.webhook_deliveries: list[webhooks.Delivery] = []
		self._rng = random.Random(seed)
		self._state = threading.RLock()
		self._limiter = RateLimiter(self.limits, self.clock)
		self._fault_injector = FaultInjector()
		self._down = False
		# Called with (method, resource path) as each accounting request arrives: what a test does
		# while Xero is busy with a request (another drain taking a lock, a bookkeeper's edit).
		self.on_request: list = []
		self._pending_events: dict[str, list[dict]] = defaultdict(list)
		self._event_sequence = 0
		self._idempotency: dict[tuple, _IdempotentAnswer] = {}
		self.idempotent_replays = 0  # requests answered with an earlier answer of the same key
		self._stopping = threading.Event()
		self._server = None
		self._thread: threading.Thread | None = None
		self.base_url: str | None = None

	# --- lifecycle -------------------------------------------------------------------------------------

	def start(self) -> str:
		spec.preload()
		self._server = make_server(self.host, self.port, self, threaded=True, request_handler=_Quiet)
		self.port = self._server.server_port
		self.base_url = f"http://{self.host}:{self.port}"
		self._thread = threading.Thread(
			target=self._server.serve_forever, args=(0.05,), name="xero-emulator", daemon=True
		)
		self._thread.start()
		return self.base_url

	def stop(self) -> None:
		self._stopping.set()
		if self._server is not None:
			self._server.shutdown()
			self._server.server_close()
			self._thread.join(timeout=5)
			self._server = None

	def __enter__(self):
		self.start()
		return self

	def __exit__(self, *exc):
		self.stop()

	# --- setup and inspection --------------------------------------------------------------------------

	def register_client(self, client_id, client_secret, redirect_uris=None, custom_connection_tenant=None):
		with self._state:
			self.identity.register_client(client_id, client_secret, redirect_uris, custom_connection_tenant)

	def add_organisation(
		self, name="Demo Company (NZ)", base_currency="NZD", currencies=("NZD", "USD", "AUD")
	):
		with self._state:
			tenant_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
			self.organisations[tenant_id] = Organisation(
				tenant_id,
				name,
				base_currency,
				currencies,
				self.clock,
				self._rng,
				self._pending_events[tenant_id].append,
				objects.FAMILIES,
			)
			return tenant_id

	def issue_tokens(self, client_id: str, tenant_ids, scopes: str = DEFAULT_SCOPES) -> dict:
		with self._state:
			return self.identity.issue_tokens(client_id, tenant_ids, scopes)

	def org(self, tenant_id: str) -> Organisation:
		return self.organisations[tenant_id]

	@property
	def faults(self) -> Faults:
		return self._fault_injector.faults

	@faults.setter
	def faults(self, faults: Faults) -> None:
		self._fault_injector.configure(faults)

	def outage(self, down: bool = True) -> None:
		self._down = down

	def call_count(self, method=None, path_prefix=None, tenant=None) -> int:
		return sum(
			1
			for call in list(self.calls)
			if (method is None or call.method == method)
			and (path_prefix is None or call.path.lower().startswith(path_prefix.lower()))
			and (tenant is None or call.tenant == tenant)
		)

	def assert_no_violations(self) -> None:
		problems = [f"{v.method} {v.path}: {v.message}" for v in self.violations]
		problems += [f"emulator error: {e}" for e in self.emulator_errors]
		if problems:
			raise AssertionError("Xero emulator recorded problems:\n" + "\n".join(problems))

	# --- webhooks --------------------------------------------------------------------------------------

	def pending_events(self, tenant_id: str | None = None) -> list[dict]:
		with self._state:
			if tenant_id is not None:
				return list(self._pending_events[tenant_id])
			return [event for events in self._pending_events.values() for event in events]

	def deliver_webhook(
		self, url, events=None, *, tenant_id=None, sign_correctly=True
	) -> tuple[int | None, bytes]:
		"""POST one signed batch. events None: the pending events (of tenant_id, or all), which are then
		cleared; otherwise event dicts, or Xero objects (with a ContactID/InvoiceID/CreditNoteID) to announce."""
		with self._state:
			if events is None:
				events = self.pending_events(tenant_id)
				for key in [tenant_id] if tenant_id else list(self._pending_events):
					self._pending_events[key].clear()
			events = [self._as_event(e, tenant_id) for e in events]
			first = self._event_sequence + 1
			self._event_sequence += len(events)
			payload = webhooks.batch(events, first, self._rng)
		delivery = webhooks.post(url, payload, self.webhook_key, sign_correctly)
		self.webhook_deliveries.append(delivery)
		return delivery.status, delivery.body

	def _as_event(self, item: dict, tenant_id: str | None) -> dict:
		if "eventCategory" in item:
			return item
		for source in objects.ANNOUNCED:
			if source.id_key in item:
				return source.event(item[source.id_key], tenant_id, self.clock.utcnow())
		kinds = "/".join(source.resource for source in objects.ANNOUNCED)
		raise ValueError(f"not an event nor one of {kinds}: {item!r}")

	def send_intent_to_receive(self, url) -> list[webhooks.IntentProbe]:
		"""Xero's two probes before it enables a webhook: events [], sequences 0, one signed wrongly."""
		probes = []
		for signed_correctly in (True, False):
			payload = webhooks.batch([], 0, self._rng)
			delivery = webhooks.post(url, payload, self.webhook_key, signed_correctly)
			self.webhook_deliveries.append(delivery)
			probes.append(webhooks.IntentProbe(signed_correctly, delivery.status, delivery.body))
		return probes

	intent_to_receive_passed = staticmethod(webhooks.intent_to_receive_passed)

	# --- WSGI ------------------------------------------------------------------------------------------

	def __call__(self, environ, start_response):
		request = Request(environ)
		try:
			response = self._dispatch(request)
		except _Drop:
			connection = environ.get("werkzeug.socket")
			if connection is not None:
				connection.shutdown(socket.SHUT_RDWR)
			raise ConnectionAbortedError("emulated dropped connection")
		except Exception as error:  # an emulator bug must fail tests, never hang a client
			self.emulator_errors.append(f"{request.method} {request.path}: {type(error).__name__}: {error}")
			response = problem(500, "Internal Server Error", "The emulator failed; see emu.emulator_errors")
		return response(environ, start_response)

	def _dispatch(self, request: Request) -> Response:
		lowered = request.path.lower()
		if lowered.startswith("/_emulator/"):
			return json_response(*control.handle(self, request))
		if lowered == "/identity/connect/authorize":
			return self._authorize(request)
		if lowered in ("/connect/token", "/connect/revocation"):
			return self._token_endpoint(request, lowered)
		if lowered.startswith(ACCOUNTING_PREFIX.lower() + "/") or lowered.split("/")[1:2] == ["connections"]:
			return self._api(request)
		return json_response(404, NOT_FOUND)

	# --- identity --------------------------------------------------------------------------------------

	def _authorize(self, request: Request) -> Response:
		with self._state:
			consent = self.consent_tenants if self.consent_tenants is not None else list(self.organisations)
			try:
				location = self.identity.authorize(request.args, consent)
			except AuthorizeError as error:
				self._record(None, request.method, "/identity/connect/authorize", 400)
				return Response(f"Sorry, something went wrong: {error}", 400, content_type="text/plain")
		self._record(None, request.method, "/identity/connect/authorize", 302)
		return Response("", 302, {"Location": location})

	def _token_endpoint(self, request: Request, path: str) -> Response:
		auth = request.authorization
		basic = (auth.username, auth.password) if auth and auth.type == "basic" else None
		with self._state:
			try:
				if path == "/connect/token":
					response = json_response(200, self.identity.token(request.form, basic))
				else:
					self.identity.revoke(request.form, basic)
					response = Response("", 200)
			except OAuthError as error:
				response = json_response(error.status, {"error": error.error})
		response.headers["Cache-Control"] = "no-store"
		self._record(None, request.method, path, response.status_code)
		return response

	# --- the API gate ----------------------------------------------------------------------------------

	def _api(self, request: Request) -> Response:
		accounting = request.path.lower().startswith(ACCOUNTING_PREFIX.lower())
		resource_path = request.path[len(ACCOUNTING_PREFIX) :] if accounting else request.path
		call = {"tenant": None, "template": request.path}
		if accounting:
			for hook in list(self.on_request):
				hook(request.method, resource_path)
		try:
			response = self._gate(request, accounting, resource_path, call)
		except ApiError as error:
			response = json_response(error.status, error.body)
		except _Drop:
			self._record(call["tenant"], request.method, call["template"], 0)
			raise
		self._record(call["tenant"], request.method, call["template"], response.status_code)
		return response

	def _gate(self, request: Request, accounting: bool, resource_path: str, call: dict) -> Response:
		if accounting:
			matched = objects.match(request.method, resource_path)
			if matched is None:
				return json_response(404, NOT_FOUND)
			route, params = matched
			call["template"] = ACCOUNTING_PREFIX + route.template
		else:
			route, params = None, {}
			call["template"] = (
				"/connections" if resource_path.lower() == "/connections" else "/connections/{id}"
			)

		if self._down:
			return problem(503, "Service Unavailable", "The Xero API is temporarily unavailable")
		fault = self._fault_injector.draw(resource_path)
		faults = self.faults
		if fault == "timeout":
			self._stopping.wait(faults.timeout_seconds)
			raise _Drop
		if fault == "http_500":
			return problem(500, "Internal Server Error", "An error occurred in Xero")
		if fault == "http_503":
			return problem(503, "Service Unavailable", "The Xero API is temporarily unavailable")

		try:
			token = self.identity.authenticate(request.headers.get("Authorization"))
		except ValueError as error:
			challenge = 'Bearer error="invalid_token"'
			return problem(401, "Unauthorized", str(error), {"WWW-Authenticate": challenge})
		grant = token.grant
		if not accounting:
			return self._connections(request, grant, call)

		tenant_id = request.headers.get("xero-tenant-id", "").strip().lower()
		spec_headers = dict(request.headers)
		if not tenant_id and grant.custom_connection:
			tenant_id = next(iter(grant.tenant_ids()))
			spec_headers["xero-tenant-id"] = tenant_id
		if tenant_id not in grant.tenant_ids() or tenant_id not in self.organisations:
			return problem(403, "Forbidden", "AuthenticationUnsuccessful")
		call["tenant"] = tenant_id
		if not route.allows(grant.scopes):
			challenge = 'Bearer error="insufficient_scope"'
			return problem(401, "Unauthorized", "AuthorizationUnsuccessful", {"WWW-Authenticate": challenge})

		admission = self._limiter.admit(tenant_id, grant.client_id)
		limit_headers = {**admission.headers, "X-Emulator-Time-Scale": str(self.clock.time_scale)}
		if admission.problem:
			return self._throttled(admission.problem, admission.retry_after, limit_headers)
		try:
			if fault == "http_429":
				return self._throttled("minute", INJECTED_RETRY_AFTER, limit_headers)
			if faults.latency_ms:
				# Inside the admitted section: a slow Xero keeps the call in flight (the concurrent limit).
				self._stopping.wait(faults.latency_ms / 1000)
			try:
				response = self._serve(request, route, params, tenant_id, grant, spec_headers)
			except ApiError as error:
				response = json_response(error.status, error.body)
		finally:
			self._limiter.release(tenant_id)
		response.headers.update(limit_headers)
		if fault == "commit_then_drop":
			raise _Drop
		return response

	def _throttled(self, problem_name: str, retry_after: int, headers: dict) -> Response:
		self.rate_limited_count[problem_name] += 1
		headers = {**headers, "Retry-After": str(retry_after), "X-Rate-Limit-Problem": problem_name}
		return problem(
			429, "Too Many Requests", f"You've exceeded the per {problem_name} rate limit", headers
		)

	def _serve(self, request, route: Route, params, tenant_id, grant, spec_headers) -> Response:
		if (request.content_length or 0) > MAX_BODY_BYTES:
			return json_response(413, "Request Entity Too Large")
		raw = request.get_data()
		if self.validate_requests:
			path = ACCOUNTING_PREFIX + spec.spec_path(route.template, params, route.numbers_allowed)
			error = spec.validate(
				"accounting",
				request.method,
				path,
				request.args.items(multi=True),
				spec_headers,
				spec.unwrapped(raw, route.example_wrapper),
				request.content_type,
			)
			if error:
				self.violations.append(Violation(request.method, ACCOUNTING_PREFIX + route.template, error))
				kind = "PostDataInvalidException" if route.writes else "QueryParseException"
				return json_response(
					400, {"ErrorNumber": 14 if route.writes else 16, "Type": kind, "Message": error}
				)
		key = request.headers.get("Idempotency-Key") if route.writes else None
		if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
			raise bad_request("Idempotency-Key must be at most 128 characters", 10, "ValidationException")
		try:
			body = loads(raw) if raw else None
		except ValueError:
			raise bad_request("The request body is not valid JSON", 14, "PostDataInvalidException")
		fingerprint = hashlib.sha256(f"{request.method} {request.full_path}\n".encode() + raw).hexdigest()
		with self._state:
			if key is not None:
				replay = self._idempotent_replay((grant.client_id, tenant_id, key), fingerprint)
				if replay is not None:
					return replay
			api_call = ApiCall(
				self.organisations[tenant_id],
				params,
				dict(request.args),
				dict(request.headers),
				body,
				grant.client_id,
				self.clock.utcnow(),
			)
			try:
				status, payload = route.handler(api_call)
				response = json_response(status, payload)
			except ApiError as error:
				response = json_response(error.status, error.body)
			if key is not None:
				self._idempotency[(grant.client_id, tenant_id, key)] = _IdempotentAnswer(
					fingerprint, self.clock.now() + IDEMPOTENCY_SECONDS, response
				)
		return response

	def _idempotent_replay(self, scope: tuple, fingerprint: str) -> Response | None:
		"""Within Xero's 6 minutes the same key answers the same request with the first answer."""
		earlier = self._idempotency.get(scope)
		if earlier is None or earlier.expires_at <= self.clock.now():
			return None
		if earlier.fingerprint != fingerprint:
			raise bad_request(
				"The Idempotency-Key has already been used for a different request", 10, "ValidationException"
			)
		first = earlier.response
		self.idempotent_replays += 1
		return Response(first.get_data(), first.status_code, dict(first.headers))

	def _connections(self, request: Request, grant, call: dict) -> Response:
		if self.validate_requests:
			error = spec.validate(
				"identity",
				request.method,
				call["template"]
				.replace("/connections", "/Connections")
				.replace("{id}", request.path.split("/")[-1]),
				request.args.items(multi=True),
				dict(request.headers),
				request.get_data(),
				request.content_type,
			)
			if error:
				self.violations.append(Violation(request.method, call["template"], error))
				return json_response(400, {"Title": "Bad Request", "Status": 400, "Detail": error})
		with self._state:
			if request.method == "DELETE" and call["template"].endswith("{id}"):
				if not self.identity.delete_connection(grant, request.path.split("/")[-1]):
					return json_response(404, NOT_FOUND)
				return Response("", 204)
			if request.method != "GET" or call["template"].endswith("{id}"):
				return json_response(405, {"Message": "Method not allowed"})
			auth_event = request.args.get("authEventId")
			connections = [
				{
					"id": c.id,
					"authEventId": c.auth_event_id,
					"tenantId": c.tenant_id,
					"tenantType": "ORGANISATION",
					"tenantName": self.organisations[c.tenant_id].organisation["Name"],
					"createdDateUtc": c.created.strftime("%Y-%m-%dT%H:%M:%S.%f"),
					"updatedDateUtc": c.updated.strftime("%Y-%m-%dT%H:%M:%S.%f"),
				}
				for c in grant.connections.values()
				if auth_event is None or c.auth_event_id == auth_event
			]
		return json_response(200, connections)

	def _record(self, tenant, method, path, status) -> None:
		self.calls.append(CallRecord(tenant, method, path, status))
