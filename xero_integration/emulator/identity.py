"""Xero's identity service: apps (clients), consent, authorization codes with PKCE, access and refresh tokens,
refresh-token rotation with its grace period, revocation, and the connections (organisations) a consent grants.
"""

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

from .clock import Clock

ACCESS_TOKEN_SECONDS = 1800
REFRESH_GRACE_SECONDS = 1800
REFRESH_IDLE_SECONDS = 60 * 86400
CODE_SECONDS = 300
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_SCOPES = (
	"offline_access accounting.contacts accounting.invoices accounting.payments accounting.banktransactions "
	"accounting.settings"
)


class OAuthError(Exception):
	"""An error of the token endpoint: HTTP 400 (401 for a bad client) with {"error": ...}."""

	def __init__(self, error: str, status: int = 400):
		super().__init__(error)
		self.error = error
		self.status = status


class AuthorizeError(Exception):
	"""The authorize endpoint refuses before it can redirect (unknown client, bad redirect URI)."""


@dataclass
class Client:
	client_id: str
	client_secret: str
	redirect_uris: tuple[str, ...] | None
	custom_connection_tenant: str | None = None

	def accepts_redirect(self, uri: str) -> bool:
		if self.redirect_uris is None:
			return urlsplit(uri).hostname in LOOPBACK_HOSTS
		return uri in self.redirect_uris


@dataclass
class Connection:
	id: str
	tenant_id: str
	auth_event_id: str
	created: datetime
	updated: datetime


@dataclass
class Grant:
	"""One consent (Xero's auth event): the scopes granted and the organisations connected by it."""

	auth_event_id: str
	client_id: str
	scopes: frozenset[str]
	user_id: str
	connections: dict[str, Connection] = field(default_factory=dict)
	custom_connection: bool = False

	def tenant_ids(self) -> set[str]:
		return {c.tenant_id for c in self.connections.values()}


@dataclass
class AccessToken:
	grant: Grant
	expires_at: float


@dataclass
class RefreshToken:
	grant: Grant
	last_used: float
	superseded_at: float | None = None
	revoked: bool = False


@dataclass
class AuthorizationCode:
	client_id: str
	redirect_uri: str
	scopes: frozenset[str]
	tenant_ids: tuple[str, ...]
	code_challenge: str | None
	code_challenge_method: str | None
	expires_at: float
	used: bool = False


class Identity:
	def __init__(self, clock: Clock):
		self.clock = clock
		self.clients: dict[str, Client] = {}
		self.codes: dict[str, AuthorizationCode] = {}
		self.access_tokens: dict[str, AccessToken] = {}
		self.refresh_tokens: dict[str, RefreshToken] = {}
		self.grants: dict[str, Grant] = {}
		self._signing_key = secrets.token_bytes(32)

	def register_client(self, client_id, client_secret, redirect_uris=None, custom_connection_tenant=None):
		uris = tuple(redirect_uris) if redirect_uris is not None else None
		self.clients[client_id] = Client(client_id, client_secret, uris, custom_connection_tenant)
		return self.clients[client_id]

	# --- authorize -------------------------------------------------------------------------------------

	def authorize(self, params, consent_tenants: list[str]) -> str:
		"""Consent at once; the redirect location carrying code and state."""
		client = self.clients.get(params.get("client_id", ""))
		if client is None:
			raise AuthorizeError("unauthorized_client: unknown client_id")
		redirect_uri = params.get("redirect_uri", "")
		if not redirect_uri or not client.accepts_redirect(redirect_uri):
			raise AuthorizeError("invalid_request: redirect_uri is not registered for this client")
		query = {"state": params["state"]} if "state" in params else {}
		scopes = frozenset(params.get("scope", "").split())
		method = params.get("code_challenge_method", "plain" if params.get("code_challenge") else None)
		if params.get("response_type") != "code":
			query["error"] = "unsupported_response_type"
		elif not scopes:
			query["error"] = "invalid_scope"
		elif method not in (None, "S256"):
			query["error"] = "invalid_request"
		else:
			code = secrets.token_urlsafe(32)
			self.codes[code] = AuthorizationCode(
				client.client_id,
				redirect_uri,
				scopes,
				tuple(consent_tenants),
				params.get("code_challenge"),
				method,
				self.clock.now() + CODE_SECONDS,
			)
			query = {"code": code, "scope": " ".join(sorted(scopes)), **query}
		separator = "&" if "?" in redirect_uri else "?"
		return f"{redirect_uri}{separator}{urlencode(query)}"

	# --- token endpoint --------------------------------------------------------------------------------

	def token(self, form, basic_auth: tuple[str, str] | None) -> dict:
		grant_type = form.get("grant_type")
		if grant_type == "authorization_code":
			return self._exchange_code(form, basic_auth)
		if grant_type == "refresh_token":
			return self._refresh(form, self._client(form, basic_auth))
		if grant_type == "client_credentials":
			return self._client_credentials(self._client(form, basic_auth))
		raise OAuthError("unsupported_grant_type")

	def _client(self, form, basic_auth, secret_required: bool = True) -> Client:
		client_id, secret = basic_auth or (form.get("client_id"), form.get("client_secret"))
		client = self.clients.get(client_id or "")
		if client is None:
			raise OAuthError("invalid_client")
		if secret is None and not secret_required:
			return client
		if not hmac.compare_digest(str(secret or ""), client.client_secret):
			raise OAuthError("invalid_client")
		return client

	def _exchange_code(self, form, basic_auth) -> dict:
		code = self.codes.get(form.get("code", ""))
		# A PKCE client keeps no secret; a confidential client must prove it has one.
		client = self._client(form, basic_auth, secret_required=not (code and code.code_challenge))
		if (
			code is None
			or code.used
			or code.expires_at < self.clock.now()
			or code.client_id != client.client_id
		):
			raise OAuthError("invalid_grant")
		code.used = True
		if form.get("redirect_uri") != code.redirect_uri:
			raise OAuthError("invalid_grant")
		if code.code_challenge:
			verifier = form.get("code_verifier") or ""
			digest = (
				base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
			)
			if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(digest, code.code_challenge):
				raise OAuthError("invalid_grant")
		grant = self._new_grant(client.client_id, code.scopes, code.tenant_ids)
		return self._issue(grant, with_refresh="offline_access" in code.scopes)

	def _refresh(self, form, client: Client) -> dict:
		record = self.refresh_tokens.get(form.get("refresh_token", ""))
		now = self.clock.now()
		if (
			record is None
			or record.revoked
			or record.grant.client_id != client.client_id
			or (record.superseded_at is not None and now > record.superseded_at + REFRESH_GRACE_SECONDS)
			or now > record.last_used + REFRESH_IDLE_SECONDS
		):
			raise OAuthError("invalid_grant")
		if record.superseded_at is None:
			record.superseded_at = now
		return self._issue(record.grant, with_refresh=True)

	def _client_credentials(self, client: Client) -> dict:
		if client.custom_connection_tenant is None:
			raise OAuthError("unauthorized_client")
		grant = self._new_grant(
			client.client_id,
			frozenset(DEFAULT_SCOPES.split()) - {"offline_access"},
			(client.custom_connection_tenant,),
		)
		grant.custom_connection = True
		return self._issue(grant, with_refresh=False)

	def issue_tokens(self, client_id: str, tenant_ids, scopes: str = DEFAULT_SCOPES) -> dict:
		"""The token endpoint's answer for a consent to tenant_ids, without the browser round trip."""
		if client_id not in self.clients:
			raise KeyError(f"unknown client {client_id}; register_client first")
		scope_set = frozenset(scopes.split())
		grant = self._new_grant(client_id, scope_set, tuple(tenant_ids))
		return self._issue(grant, with_refresh="offline_access" in scope_set)

	def _new_grant(self, client_id: str, scopes, tenant_ids) -> Grant:
		grant = Grant(str(uuid.uuid4()), client_id, frozenset(scopes), str(uuid.uuid4()))
		now = self.clock.utcnow()
		for tenant_id in tenant_ids:
			connection = Connection(str(uuid.uuid4()), tenant_id, grant.auth_event_id, now, now)
			grant.connections[connection.id] = connection
		self.grants[grant.auth_event_id] = grant
		return grant

	def _issue(self, grant: Grant, with_refresh: bool) -> dict:
		now = self.clock.now()
		access_token = self._jwt(
			{
				"nbf": int(now),
				"exp": int(now + ACCESS_TOKEN_SECONDS),
				"iss": "https://identity.xero.com",
				"aud": "https://identity.xero.com/resources",
				"client_id": grant.client_id,
				"sub": grant.user_id,
				"xero_userid": grant.user_id,
				"authentication_event_id": grant.auth_event_id,
				"jti": uuid.uuid4().hex,
				"scope": sorted(grant.scopes),
			}
		)
		self.access_tokens[access_token] = AccessToken(grant, now + ACCESS_TOKEN_SECONDS)
		answer = {
			"access_token": access_token,
			"expires_in": ACCESS_TOKEN_SECONDS,
			"token_type": "Bearer",
			"scope": " ".join(sorted(grant.scopes)),
		}
		if with_refresh:
			refresh_token = secrets.token_hex(32)
			self.refresh_tokens[refresh_token] = RefreshToken(grant, last_used=now)
			answer["refresh_token"] = refresh_token
		if "openid" in grant.scopes:
			answer["id_token"] = self._jwt({"sub": grant.user_id, "aud": grant.client_id, "iat": int(now)})
		return answer

	def _jwt(self, claims: dict) -> str:
		"""JWT-shaped like Xero's tokens (apps read authentication_event_id from them); signed HS256."""

		def part(value: dict) -> str:
			return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

		signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}"
		signature = hmac.new(self._signing_key, signing_input.encode(), hashlib.sha256).digest()
		return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

	# --- revocation ------------------------------------------------------------------------------------

	def revoke(self, form, basic_auth) -> None:
		"""Revoking a refresh token ends its consent: every token of it stops working, its connections go."""
		self._client(form, basic_auth)
		record = self.refresh_tokens.get(form.get("token", ""))
		if record is None:
			return  # RFC 7009: unknown tokens are not an error
		grant = record.grant
		grant.connections.clear()
		for refresh in self.refresh_tokens.values():
			if refresh.grant is grant:
				refresh.revoked = True
		for token, access in list(self.access_tokens.items()):
			if access.grant is grant:
				del self.access_tokens[token]

	# --- resource-server side --------------------------------------------------------------------------

	def authenticate(self, authorization: str | None) -> AccessToken:
		"""The access token of a request, or ValueError with Xero's 401 Detail."""
		if not authorization or not authorization.startswith("Bearer "):
			raise ValueError("AuthenticationUnsuccessful")
		token = self.access_tokens.get(authorization[len("Bearer ") :].strip())
		if token is None:
			raise ValueError("TokenInvalid: signature not valid")
		if token.expires_at <= self.clock.now():
			expired = datetime.fromtimestamp(token.expires_at, tz=timezone.utc)
			raise ValueError(f"TokenExpired: token expired at {expired.strftime('%m/%d/%Y %H:%M:%S')}")
		return token

	def delete_connection(self, grant: Grant, connection_id: str) -> bool:
		return grant.connections.pop(connection_id, None) is not None
