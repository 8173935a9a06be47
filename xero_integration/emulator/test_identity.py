"""OAuth 2.0 as Xero's identity service does it, and what the API answers to bad credentials."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from xero_python.exceptions import HTTPStatusException

from .pytest_plugin import CLIENT_ID, CLIENT_SECRET, connect
from .sdk import sdk_client

REDIRECT_URI = "http://127.0.0.1:8000/xero/callback"


def authorize(emu, **extra) -> dict:
	params = {
		"response_type": "code",
		"client_id": CLIENT_ID,
		"redirect_uri": REDIRECT_URI,
		"scope": "offline_access accounting.contacts accounting.invoices",
		"state": "s-123",
		**extra,
	}
	answer = requests.get(f"{emu.base_url}/identity/connect/authorize", params=params, allow_redirects=False)
	assert answer.status_code == 302
	location = urlsplit(answer.headers["Location"])
	assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
	return {k: v[0] for k, v in parse_qs(location.query).items()}


def token_request(emu, **form) -> requests.Response:
	return requests.post(f"{emu.base_url}/connect/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))


def pkce_pair() -> tuple[str, str]:
	verifier = secrets.token_urlsafe(48)
	challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
	return verifier, challenge


def test_authorization_code_with_pkce_round_trip(emulator, tenant_id):
	verifier, challenge = pkce_pair()
	granted = authorize(emulator, code_challenge=challenge, code_challenge_method="S256")
	assert granted["state"] == "s-123"
	exchange = {"grant_type": "authorization_code", "code": granted["code"], "redirect_uri": REDIRECT_URI}
	answer = requests.post(
		f"{emulator.base_url}/connect/token",
		data={**exchange, "client_id": CLIENT_ID, "code_verifier": verifier},
	)
	assert answer.status_code == 200
	token = answer.json()
	assert (token["token_type"], token["expires_in"]) == ("Bearer", 1800)
	assert token["refresh_token"]

	client = sdk_client(emulator.base_url, CLIENT_ID, CLIENT_SECRET, token)
	assert [c.tenant_id for c in client.identity.get_connections()] == [tenant_id]

	replay = token_request(emulator, **exchange, code_verifier=verifier)
	assert (replay.status_code, replay.json()) == (400, {"error": "invalid_grant"})


def test_wrong_pkce_verifier_and_wrong_redirect_are_refused(emulator, tenant_id):
	verifier, challenge = pkce_pair()
	for code_verifier, redirect_uri in (
		(pkce_pair()[0], REDIRECT_URI),
		(verifier, "http://127.0.0.1:9/elsewhere"),
	):
		code = authorize(emulator, code_challenge=challenge, code_challenge_method="S256")["code"]
		form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
		answer = token_request(emulator, **form, code_verifier=code_verifier)
		assert (answer.status_code, answer.json()) == (400, {"error": "invalid_grant"})


def test_authorize_refuses_unknown_client_and_foreign_redirect(emulator):
	for client_id, redirect_uri in (("nobody", REDIRECT_URI), (CLIENT_ID, "https://evil.example/cb")):
		params = {
			"response_type": "code",
			"client_id": client_id,
			"redirect_uri": redirect_uri,
			"scope": "openid",
		}
		answer = requests.get(
			f"{emulator.base_url}/identity/connect/authorize", params=params, allow_redirects=False
		)
		assert answer.status_code == 400


def test_consent_grants_several_organisations(emulator):
	tenants = [emulator.add_organisation(name) for name in ("First Ltd", "Second Ltd", "Third Ltd")]
	emulator.consent_tenants = tenants[:2]
	code = authorize(emulator)["code"]
	token = token_request(
		emulator, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI
	).json()
	client = sdk_client(emulator.base_url, CLIENT_ID, CLIENT_SECRET, token)
	assert sorted(c.tenant_name for c in client.identity.get_connections()) == ["First Ltd", "Second Ltd"]


def test_rotated_refresh_token_works_inside_grace_then_fails(emulator, tenant_id):
	first = emulator.issue_tokens(CLIENT_ID, [tenant_id])
	rotated = token_request(emulator, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
	assert rotated["refresh_token"] != first["refresh_token"]

	emulator.clock.advance(29 * 60)
	inside_grace = token_request(emulator, grant_type="refresh_token", refresh_token=first["refresh_token"])
	assert inside_grace.status_code == 200

	emulator.clock.advance(2 * 60)
	after_grace = token_request(emulator, grant_type="refresh_token", refresh_token=first["refresh_token"])
	assert (after_grace.status_code, after_grace.json()) == (400, {"error": "invalid_grant"})
	assert token_request(emulator, grant_type="refresh_token", refresh_token=rotated["refresh_token"]).ok


def test_sdk_refresh_rotates_the_stored_token(emulator, xero, tenant_id):
	before = xero.token["refresh_token"]
	xero.api_client.refresh_oauth2_token()
	assert xero.token["refresh_token"] != before
	assert xero.accounting.get_organisations(tenant_id).organisations[0].name == "Demo Company (NZ)"


def test_refresh_token_expires_after_60_days_unused(emulator, tenant_id):
	token = emulator.issue_tokens(CLIENT_ID, [tenant_id])
	emulator.clock.advance(60 * 86400 + 1)
	answer = token_request(emulator, grant_type="refresh_token", refresh_token=token["refresh_token"])
	assert answer.json() == {"error": "invalid_grant"}


def test_client_credentials_custom_connection(emulator, tenant_id):
	emulator.register_client("custom-app", "custom-secret", custom_connection_tenant=tenant_id)
	answer = requests.post(
		f"{emulator.base_url}/connect/token",
		data={"grant_type": "client_credentials"},
		auth=("custom-app", "custom-secret"),
	)
	token = answer.json()
	assert answer.status_code == 200 and "refresh_token" not in token
	client = sdk_client(emulator.base_url, "custom-app", "custom-secret", token)
	# A Custom Connection has one organisation: the tenant header may be left empty.
	assert client.accounting.get_organisations("").organisations[0].organisation_id == tenant_id

	denied = token_request(emulator, grant_type="client_credentials")
	assert (denied.status_code, denied.json()) == (400, {"error": "unauthorized_client"})


def test_wrong_client_secret_is_invalid_client(emulator):
	answer = requests.post(
		f"{emulator.base_url}/connect/token", data={"grant_type": "refresh_token"}, auth=(CLIENT_ID, "wrong")
	)
	assert answer.json() == {"error": "invalid_client"}


def test_revocation_ends_the_consent(emulator, xero, tenant_id):
	answer = requests.post(
		f"{emulator.base_url}/connect/revocation",
		data={"token": xero.token["refresh_token"]},
		auth=(CLIENT_ID, CLIENT_SECRET),
	)
	assert answer.status_code == 200
	refresh = token_request(emulator, grant_type="refresh_token", refresh_token=xero.token["refresh_token"])
	assert refresh.json() == {"error": "invalid_grant"}
	with pytest.raises(HTTPStatusException) as refused:
		xero.accounting.get_organisations(tenant_id)
	assert refused.value.status == 401


def test_deleting_a_connection_cuts_access_to_that_organisation(emulator):
	tenants = [emulator.add_organisation(name) for name in ("First Ltd", "Second Ltd")]
	client = sdk_client(
		emulator.base_url, CLIENT_ID, CLIENT_SECRET, emulator.issue_tokens(CLIENT_ID, tenants)
	)
	connections = {c.tenant_id: c.id for c in client.identity.get_connections()}
	assert set(connections) == set(tenants)

	client.identity.delete_connection(connections[tenants[0]])
	assert [c.tenant_id for c in client.identity.get_connections()] == [tenants[1]]
	with pytest.raises(HTTPStatusException) as refused:
		client.accounting.get_organisations(tenants[0])
	assert refused.value.status == 403
	assert client.accounting.get_organisations(tenants[1]).organisations[0].name == "Second Ltd"


def test_missing_or_unconnected_tenant_insufficient_scope_and_expired_token(emulator, xero, tenant_id):
	def status_of(client, tenant):
		with pytest.raises(HTTPStatusException) as refused:
			client.accounting.get_invoices(tenant)
		return refused.value.status, refused.value.body

	for tenant in ("", emulator.add_organisation("Not Connected Ltd")):
		status, body = status_of(xero, tenant)
		assert status == 403 and b"AuthenticationUnsuccessful" in body
	contacts_only, _ = connect(emulator, tenant_id, scopes="accounting.contacts")
	status, body = status_of(contacts_only, tenant_id)
	assert status == 401 and b"AuthorizationUnsuccessful" in body

	emulator.clock.advance(1801)
	status, body = status_of(xero, tenant_id)
	assert status == 401 and b"TokenExpired: token expired at" in body
