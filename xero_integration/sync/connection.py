"""Tokens and organisations: connect, refresh under a lock, test, disconnect.

The refresh token rotates on every refresh and the previous one dies 30 minutes later, so two
workers refreshing at once is how integrations lose their connection. Every refresh here happens
while holding a row lock on the stored expiry (SELECT ... FOR UPDATE), and re-reads the stored
token after taking it: the first worker refreshes, the others find a fresh token and use it.
"""

import json
import time
from contextlib import contextmanager

import frappe
from frappe import _
from frappe.utils import get_url
from frappe.utils.password import decrypt, get_decrypted_password, set_encrypted_password

from xero_integration.core import oauth
from xero_integration.core.client import XeroClient
from xero_integration.core.errors import XeroAuthError, XeroNotFound
from xero_integration.core.ratelimit import Limits, TenantRateLimiter
from xero_integration.sync.log import create_log
from xero_integration.sync.permissions import XERO_MANAGER

SETTINGS = "Xero Settings"
STATE_TTL_SECONDS = 600


def login_url() -> str:
	return frappe.conf.get("xero_login_url") or oauth.XERO_LOGIN_URL


def identity_url() -> str:
	return frappe.conf.get("xero_identity_url") or oauth.XERO_IDENTITY_URL


def api_url() -> str:
	return frappe.conf.get("xero_api_url") or oauth.XERO_API_URL


def redirect_uri() -> str:
	return get_url("/api/method/xero_integration.api.oauth_callback")


def rate_limits() -> Limits:
	"""Xero's limits, or a site's own (site config `xero_rate_limits`, e.g. a time-scaled emulator)."""
	return Limits(**(frappe.conf.get("xero_rate_limits") or {}))


def client_for(organisation: str | None = None, *, max_wait: float = 60.0) -> XeroClient:
	"""The XeroClient for one organisation (by tenant id), or for the identity endpoints when None."""
	limiter = TenantRateLimiter(frappe.cache, organisation, rate_limits()) if organisation else None
	return XeroClient(organisation, get_access_token, api_url=api_url(), limiter=limiter, max_wait=max_wait)


def _credentials() -> tuple[str, str | None]:
	client_id = (frappe.db.get_single_value(SETTINGS, "client_id") or "").strip()
	if not client_id:
		frappe.throw(_("Enter the Client ID of your Xero app in Xero Settings first."))
	secret = get_decrypted_password(SETTINGS, SETTINGS, "client_secret", raise_exception=False)
	return client_id, secret or None


# ---- Organisations -------------------------------------------------------------------------------

CONNECTED = "Connected"


def connected_organisations(*, linked: bool = False) -> list[str]:
	"""The organisations this site is connected to; linked: only those linked to a Company."""
	filters = {"status": CONNECTED}
	if linked:
		filters["company"] = ("is", "set")
	return frappe.get_all("Xero Organisation", filters=filters, pluck="name")


def organisations_in(statuses) -> list[str]:
	return frappe.get_all("Xero Organisation", filters={"status": ("in", statuses)}, pluck="name")


def is_connected(organisation: str, *, linked: bool = False) -> bool:
	values = frappe.db.get_value("Xero Organisation", organisation, ["status", "company"], as_dict=True)
	return bool(values and values.status == CONNECTED and (values.company or not linked))


def organisation_of_company(company: str) -> str | None:
	"""The connected organisation of a Company: documents of unconnected Companies are never queued."""
	return frappe.db.get_value("Xero Organisation", {"company": company, "status": CONNECTED}, "name")


# ---- Authorization code flow -------------------------------------------------------------------


def _state_key(state: str) -> str:
	return f"{frappe.local.site}:xero_integration:oauth_state:{state}"


def start_authorization() -> str:
	"""The Xero consent URL; `state` is bound to this user's session and used once."""
	client_id, _secret = _credentials()
	scopes = frappe.db.get_single_value(SETTINGS, "scopes") or oauth.DEFAULT_SCOPES
	state = oauth.new_state()
	verifier, challenge = oauth.new_pkce_pair()
	frappe.cache.set(
		_state_key(state),
		frappe.as_json({"user": frappe.session.user, "sid": frappe.session.sid, "verifier": verifier}),
		ex=STATE_TTL_SECONDS,
	)
	return oauth.authorization_url(login_url(), client_id, redirect_uri(), scopes, state, challenge)


def complete_authorization(code: str | None, state: str | None, error: str | None = None) -> list[str]:
	"""Check state, exchange the code, store tokens, record the organisations. Returns their names.
	`error` is Xero's refusal, reported once the state shows the sign-in is this user's."""
	if not state:
		frappe.throw(_("Xero did not return the sign-in state. Start again with Connect to Xero."))
	key = _state_key(state)
	raw = frappe.cache.get(key)
	pending = json.loads(raw) if raw else None
	# Checked before it is used up: someone else's request leaves the state to the user who started it.
	# DEL then makes it single-use even if the callback is replayed concurrently.
	if (
		not pending
		or pending.get("user") != frappe.session.user
		or pending.get("sid") != frappe.session.sid
		or not frappe.cache.delete(key)
	):
		frappe.throw(
			_("This Xero sign-in is not valid any more (expired, already used, or started by someone else)."),
			frappe.PermissionError,
		)
	if error:
		frappe.throw(_("Xero did not grant access: {0}").format(error))
	if not code:
		frappe.throw(_("Xero did not return an authorisation code. Start again with Connect to Xero."))
	client_id, secret = _credentials()
	tokens = oauth.exchange_code(identity_url(), client_id, secret, code, redirect_uri(), pending["verifier"])
	_store_tokens(tokens)
	frappe.db.set_single_value(
		SETTINGS, {"connection_status": "Connected", "connected_by": frappe.session.user}
	)
	names = record_organisations()
	frappe.db.commit()
	return names


def connect_custom_connection() -> list[str]:
	"""Custom Connections (client_credentials): one organisation, no consent screen, no refresh token."""
	# Tokens of an earlier consent belong to another grant (and maybe another app): start afresh.
	forget_tokens()
	# In this request's own transaction: it has just changed the rows a separate one would wait for.
	_refresh_in_transaction(rejected_token=None)
	frappe.db.set_single_value(SETTINGS, "connection_status", "Connected")
	names = record_organisations()
	frappe.db.commit()
	return names


def record_organisations() -> list[str]:
	"""Create or update one Xero Organisation per organisation the consent covers."""
	client = client_for(None)
	names = []
	for connection in client.connections():
		if connection.get("tenantType") != "ORGANISATION":
			continue
		tenant_id = connection["tenantId"]
		details = client_for(tenant_id).list_all("Organisation") or [{}]
		values = {
			"organisation_name": connection.get("tenantName") or details[0].get("Name"),
			"connection_id": connection.get("id"),
			"status": "Connected",
			"base_currency": details[0].get("BaseCurrency"),
			"short_code": details[0].get("ShortCode"),
		}
		if not frappe.db.exists("Currency", values["base_currency"]):
			values["base_currency"] = None
		if frappe.db.exists("Xero Organisation", tenant_id):
			organisation = frappe.get_doc("Xero Organisation", tenant_id)
			organisation.update(values)
		else:
			# company "" (not None): the admin picks it; a default Company must not be filled in.
			organisation = frappe.get_doc(
				{"doctype": "Xero Organisation", "tenant_id": tenant_id, "company": "", **values}
			)
		organisation.save(ignore_permissions=True)
		names.append(organisation.organisation_name)
	return names


# ---- Tokens ------------------------------------------------------------------------------------


def get_access_token(rejected_token: str | None = None) -> str:
	"""A valid access token, refreshed (once, across all workers) when due or when Xero refused
	`rejected_token`."""
	if rejected_token is None:
		expires_at = float(frappe.db.get_single_value(SETTINGS, "token_expires_at") or 0)
		if expires_at - refresh_margin() > time.time():
			token = get_decrypted_password(SETTINGS, SETTINGS, "access_token", raise_exception=False)
			if token:
				return token
	return _refresh_locked(rejected_token)


def _refresh_locked(rejected_token: str | None) -> str:
	# In a transaction of its own: the rotated token is stored and committed at once, whatever the
	# caller's transaction (a drain's batch, a pull's page) later does, and none of that is committed.
	with own_transaction():
		token = _refresh_in_transaction(rejected_token)
	# The caller's cached and snapshot reads still show the old expiry: until its transaction ends, its
	# calls come back here and find the stored token fresh (no second refresh, only a locked read).
	frappe.db.value_cache.pop(SETTINGS, None)
	return token


def _refresh_in_transaction(rejected_token: str | None) -> str:
	# Locking reads see the latest committed values whatever this transaction's snapshot is, and
	# make every other refresher wait here until we commit the rotated token.
	expires_at = float(_locked_single_value("token_expires_at") or 0)
	stored_access = _locked_password("access_token")
	still_valid = expires_at - refresh_margin() > time.time()
	# Another worker refreshed while we waited for the lock: its token is the fresh one.
	if stored_access and still_valid and stored_access != rejected_token:
		return stored_access
	client_id, secret = _credentials()
	try:
		if frappe.db.get_single_value(SETTINGS, "connection_type") == "Custom Connection":
			scopes = frappe.db.get_single_value(SETTINGS, "scopes") or oauth.DEFAULT_SCOPES
			tokens = oauth.client_credentials(identity_url(), client_id, secret, scopes)
		else:
			refresh_token = _locked_password("refresh_token")
			if not refresh_token:
				frappe.throw(_("Xero is not connected. Use Connect to Xero in Xero Settings."))
			tokens = oauth.refresh(identity_url(), client_id, secret, refresh_token)
	except oauth.InvalidGrant:
		mark_reconnect_needed()
		raise
	_store_tokens(tokens)
	return tokens.access_token


@contextmanager
def own_transaction():
	"""Run the block on a database connection of its own, committed when the block ends (rolled back if
	it fails), leaving the caller's transaction as it was."""
	from frappe.database import get_db

	conf, caller = frappe.local.conf, frappe.local.db
	own = get_db(
		socket=conf.db_socket,
		host=conf.db_host,
		port=conf.db_port,
		user=conf.db_name,
		password=conf.db_password,
		cur_db_name=conf.db_name,
	)
	frappe.local.db = own
	try:
		yield
		own.commit()
	except BaseException:
		own.rollback()
		raise
	finally:
		own.close()
		frappe.local.db = caller


def _locked_single_value(fieldname: str):
	row = frappe.db.sql(
		"select value from `tabSingles` where doctype=%s and field=%s for update", (SETTINGS, fieldname)
	)
	return row[0][0] if row else None


def _locked_password(fieldname: str) -> str | None:
	row = frappe.db.sql(
		"select `password` from `__Auth` where doctype=%s and name=%s and fieldname=%s for update",
		(SETTINGS, SETTINGS, fieldname),
	)
	return decrypt(row[0][0]) if row and row[0][0] else None


def _store_tokens(tokens: oauth.TokenSet) -> None:
	set_encrypted_password(SETTINGS, SETTINGS, tokens.access_token, "access_token")
	if tokens.refresh_token:
		set_encrypted_password(SETTINGS, SETTINGS, tokens.refresh_token, "refresh_token")
	# expires_in is in Xero's seconds; a time-scaled emulator runs them faster than ours.
	expires_at = time.time() + tokens.expires_in / rate_limits().time_scale
	frappe.db.set_single_value(SETTINGS, "token_expires_at", expires_at)


def forget_tokens() -> None:
	for fieldname in ("access_token", "refresh_token"):
		frappe.db.delete("__Auth", {"doctype": SETTINGS, "name": SETTINGS, "fieldname": fieldname})
	frappe.db.set_single_value(SETTINGS, "token_expires_at", 0)


def refresh_margin() -> float:
	return oauth.REFRESH_MARGIN_SECONDS / rate_limits().time_scale


def mark_reconnect_needed() -> None:
	"""The consent is gone (invalid_grant): stop trying, tell the Xero Managers once. Committed: the
	refresh that found out runs in its own transaction."""
	already = frappe.db.get_single_value(SETTINGS, "connection_status") == "Reconnect Needed"
	frappe.db.set_single_value(SETTINGS, "connection_status", "Reconnect Needed")
	frappe.db.set_value("Xero Organisation", {"status": "Connected"}, "status", "Reconnect Needed")
	if not already:
		_notify_managers(
			_("Xero needs to be reconnected"),
			_("Xero refused the stored sign-in. Open Xero Settings and press Connect to Xero."),
		)
	frappe.db.commit()


def mark_organisation_reconnect_needed(organisation: str, reason: str) -> None:
	"""Xero refused access to one organisation (its connection was removed in Xero, say): its queue
	waits, and the Xero Managers are told once, not with a failure every minute."""
	values = frappe.db.get_value(
		"Xero Organisation", organisation, ["status", "organisation_name"], as_dict=True
	)
	if not values or values.status != "Connected":
		return
	frappe.db.set_value("Xero Organisation", organisation, "status", "Reconnect Needed")
	message = _(
		"Xero refused access to {0} ({1}). Its queued work waits; press Connect to Xero in Xero Settings "
		"and choose this organisation again."
	).format(values.organisation_name, reason)
	_notify_managers(_("Xero needs to be reconnected for {0}").format(values.organisation_name), message)
	create_log("Failed", operation="Send to Xero", organisation=organisation, message=message)


def _notify_managers(subject: str, message: str) -> None:
	for user in frappe.get_all(
		"Has Role", filters={"role": XERO_MANAGER, "parenttype": "User"}, pluck="parent"
	):
		frappe.get_doc(
			{
				"doctype": "Notification Log",
				"for_user": user,
				"type": "Alert",
				"subject": subject,
				"email_content": message,
				"document_type": SETTINGS,
				"document_name": SETTINGS,
			}
		).insert(ignore_permissions=True)


# ---- Test and disconnect -----------------------------------------------------------------------


def test_connection(organisation: str) -> str:
	organisations = client_for(organisation, max_wait=10).list_all("Organisation")
	return (organisations or [{}])[0].get("Name")


def disconnect(organisation: str) -> None:
	"""Remove one organisation's connection; revoke the consent when none is left."""
	doc = frappe.get_doc("Xero Organisation", organisation)
	if doc.connection_id and doc.status == "Connected":
		try:
			client_for(None).delete_connection(doc.connection_id)
		except (XeroNotFound, XeroAuthError, oauth.InvalidGrant):
			pass  # Xero already removed the connection (or the whole consent): nothing left to remove
	doc.status = "Disconnected"
	doc.save(ignore_permissions=True)
	if not frappe.db.exists("Xero Organisation", {"status": "Connected"}):
		refresh_token = get_decrypted_password(SETTINGS, SETTINGS, "refresh_token", raise_exception=False)
		if refresh_token:
			client_id, secret = _credentials()
			oauth.revoke(identity_url(), client_id, secret, refresh_token)
		forget_tokens()
		frappe.db.set_single_value(SETTINGS, "connection_status", "Not Connected")
	frappe.db.commit()
