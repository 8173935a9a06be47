"""OAuth 2.0 with Xero: PKCE, state, token arithmetic and the identity endpoints.

Frappe-free. The Frappe layer (sync/connection.py) stores what these functions return and serialises
refreshes; nothing here keeps state between calls.
"""

import base64
import hashlib
import secrets
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

import requests

XERO_LOGIN_URL = "https://login.xero.com"
XERO_IDENTITY_URL = "https://identity.xero.com"
XERO_API_URL = "https://api.xero.com"

# Apps created on or after 2026-03-02 must ask for granular scopes; these are what the sync needs.
DEFAULT_SCOPES = (
	"offline_access accounting.contacts accounting.invoices accounting.payments accounting.banktransactions "
	"accounting.settings"
)

# Refresh a little before Xero's expiry so a token never dies on the wire.
REFRESH_MARGIN_SECONDS = 120
HTTP_TIMEOUT_SECONDS = 30


class OAuthError(Exception):
	"""Xero's identity server refused a request; `error` is the OAuth error code."""

	def __init__(self, error: str, description: str = "", status: int | None = None):
		self.error = error
		self.description = description
		self.status = status
		super().__init__(f"{error}: {description}" if description else error)


class InvalidGrant(OAuthError):
	"""The code or refresh token is no longer valid: the user must connect again."""


@dataclass(frozen=True)
class TokenSet:
	access_token: str
	expires_at: float
	expires_in: float = 1800.0
	refresh_token: str | None = None
	scope: str = ""
	token_type: str = "Bearer"

	@classmethod
	def from_response(cls, data: dict, now: float | None = None) -> "TokenSet":
		now = time.time() if now is None else now
		expires_in = float(data.get("expires_in", 1800))
		return cls(
			access_token=data["access_token"],
			expires_at=now + expires_in,
			expires_in=expires_in,
			refresh_token=data.get("refresh_token"),
			scope=data.get("scope", ""),
			token_type=data.get("token_type", "Bearer"),
		)

	def needs_refresh(self, now: float | None = None, margin: float = REFRESH_MARGIN_SECONDS) -> bool:
		now = time.time() if now is None else now
		return self.expires_at - margin <= now

	def as_dict(self) -> dict:
		return asdict(self)

	def __repr__(self) -> str:
		# Tokens must never reach a log through a repr.
		return f"TokenSet(expires_at={self.expires_at!r}, scope={self.scope!r})"


def new_state() -> str:
	return secrets.token_urlsafe(32)


def new_pkce_pair() -> tuple[str, str]:
	"""Return (code_verifier, S256 code_challenge); the verifier is 64 chars, inside RFC 7636's 43-128."""
	verifier = secrets.token_urlsafe(48)
	return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
	digest = hashlib.sha256(verifier.encode("ascii")).digest()
	return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
	login_url: str, client_id: str, redirect_uri: str, scopes: str, state: str, code_challenge: str
) -> str:
	query = urlencode(
		{
			"response_type": "code",
			"client_id": client_id,
			"redirect_uri": redirect_uri,
			"scope": scopes,
			"state": state,
			"code_challenge": code_challenge,
			"code_challenge_method": "S256",
		}
	)
	return f"{login_url.rstrip('/')}/identity/connect/authorize?{query}"


def exchange_code(
	identity_url: str,
	client_id: str,
	client_secret: str | None,
	code: str,
	redirect_uri: str,
	code_verifier: str,
	session: requests.Session | None = None,
) -> TokenSet:
	return _token_request(
		identity_url,
		client_id,
		client_secret,
		{
			"grant_type": "authorization_code",
			"code": code,
			"redirect_uri": redirect_uri,
			"code_verifier": code_verifier,
		},
		session,
	)


def refresh(
	identity_url: str,
	client_id: str,
	client_secret: str | None,
	refresh_token: str,
	session: requests.Session | None = None,
) -> TokenSet:
	return _token_request(
		identity_url,
		client_id,
		client_secret,
		{"grant_type": "refresh_token", "refresh_token": refresh_token},
		session,
	)


def client_credentials(
	identity_url: str,
	client_id: str,
	client_secret: str,
	scopes: str,
	session: requests.Session | None = None,
) -> TokenSet:
	"""Custom Connections: one organisation, no refresh token, a new access token on demand."""
	scopes = " ".join(s for s in scopes.split() if s != "offline_access")
	return _token_request(
		identity_url, client_id, client_secret, {"grant_type": "client_credentials", "scope": scopes}, session
	)


def revoke(
	identity_url: str,
	client_id: str,
	client_secret: str | None,
	refresh_token: str,
	session: requests.Session | None = None,
) -> None:
	response = (session or requests).post(
		f"{identity_url.rstrip('/')}/connect/revocation",
		data={"token": refresh_token, "client_id": client_id},
		auth=(client_id, client_secret) if client_secret else None,
		timeout=HTTP_TIMEOUT_SECONDS,
	)
	if response.status_code >= 400:
		raise _oauth_error(response)


def _token_request(
	identity_url: str,
	client_id: str,
	client_secret: str | None,
	form: dict,
	session: requests.Session | None,
) -> TokenSet:
	if not client_secret:
		# Public (PKCE-only) clients identify themselves in the form instead of Basic auth.
		form = {**form, "client_id": client_id}
	response = (session or requests).post(
		f"{identity_url.rstrip('/')}/connect/token",
		data=form,
		auth=(client_id, client_secret) if client_secret else None,
		timeout=HTTP_TIMEOUT_SECONDS,
	)
	if response.status_code >= 400:
		raise _oauth_error(response)
	return TokenSet.from_response(response.json())


def _oauth_error(response: requests.Response) -> OAuthError:
	try:
		body = response.json()
	except ValueError:
		body = {}
	error = body.get("error") or f"http_{response.status_code}"
	description = body.get("error_description", "")
	error_class = InvalidGrant if error == "invalid_grant" else OAuthError
	return error_class(error, description, response.status_code)
