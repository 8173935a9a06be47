"""Tier 2: connecting a site to Xero (the emulator) with OAuth 2.0, in a real Frappe/ERPNext site."""

import json
import threading
import time
from urllib.parse import parse_qs, unquote_plus, urlparse

import frappe
import requests
from frappe.utils.password import get_decrypted_password, set_encrypted_password

from xero_integration import api
from xero_integration.core import oauth
from xero_integration.sync import connection
from xero_integration.sync.log import create_log
from xero_integration.testing import (
	CLIENT_ID,
	CLIENT_SECRET,
	COMPANY,
	EmulatedXero,
	FrappeTestCase,
	ensure_company,
	make_user,
	xero_manager,
)

REFRESH_RACE_WORKERS = 8


class TestConnection(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_company()
		cls.xero = EmulatedXero(time_scale=1).start(
			organisations=(("Xero Test Org", "USD"), ("Second Org", "USD"))
		)
		cls.emulator = cls.xero.emulator

	@classmethod
	def tearDownClass(cls):
		cls.xero.stop()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")

	def authorize(self) -> dict:
		"""Follow the consent URL like a browser; returns the callback's query (code, state)."""
		url = connection.start_authorization()
		query = parse_qs(urlparse(url).query)
		self.assertEqual(query["code_challenge_method"], ["S256"])
		response = requests.get(url, allow_redirects=False, timeout=10)
		self.assertEqual(response.status_code, 302)
		location = urlparse(response.headers["Location"])
		self.assertTrue(response.headers["Location"].startswith(connection.redirect_uri()))
		return {key: values[0] for key, values in parse_qs(location.query).items()}

	def test_round_trip_stores_encrypted_tokens_and_every_organisation(self):
		callback = self.authorize()
		names = connection.complete_authorization(callback["code"], callback["state"])
		self.assertEqual(sorted(names), ["Second Org", "Xero Test Org"])
		self.assertEqual(frappe.db.get_single_value("Xero Settings", "connection_status"), "Connected")
		for tenant in self.xero.tenants:
			organisation = frappe.get_doc("Xero Organisation", tenant)
			self.assertEqual(organisation.status, "Connected")
			self.assertEqual(organisation.base_currency, "USD")
		access = get_decrypted_password("Xero Settings", "Xero Settings", "access_token")
		refresh = get_decrypted_password("Xero Settings", "Xero Settings", "refresh_token")
		self.assertTrue(access and refresh)
		stored = frappe.db.sql("select `password` from `__Auth` where doctype='Xero Settings'", pluck=True)
		self.assertNotIn(access, stored)
		self.assertNotIn(refresh, stored)
		singles = frappe.db.sql("select value from tabSingles where doctype='Xero Settings'", pluck=True)
		self.assertFalse([value for value in singles if value and (access in value or refresh in value)])
		self.assertEqual(connection.test_connection(self.xero.tenants[0]), "Xero Test Org")

	def test_saving_the_settings_form_keeps_the_connection(self):
		callback = self.authorize()
		connection.complete_authorization(callback["code"], callback["state"])
		refresh = get_decrypted_password("Xero Settings", "Xero Settings", "refresh_token")
		expires_at = frappe.db.get_single_value("Xero Settings", "token_expires_at")
		settings = frappe.get_doc("Xero Settings")
		settings.sync_payments = "ERPNext to Xero"
		settings.token_expires_at = 0
		settings.save()
		self.assertEqual(get_decrypted_password("Xero Settings", "Xero Settings", "refresh_token"), refresh)
		self.assertEqual(frappe.db.get_single_value("Xero Settings", "token_expires_at"), expires_at)
		self.assertEqual(connection.test_connection(self.xero.tenants[0]), "Xero Test Org")

	def test_wrong_state_is_refused_and_a_state_is_used_once(self):
		callback = self.authorize()
		with self.assertRaises(frappe.PermissionError):
			connection.complete_authorization(callback["code"], "forged-state")
		connection.complete_authorization(callback["code"], callback["state"])
		with self.assertRaises(frappe.PermissionError):
			connection.complete_authorization(callback["code"], callback["state"])

	def test_state_started_by_another_user_is_refused(self):
		callback = self.authorize()
		frappe.set_user("Guest")
		with self.assertRaises(frappe.PermissionError):
			connection.complete_authorization(callback["code"], callback["state"])

	def test_pkce_verifier_is_checked_by_xero(self):
		callback = self.authorize()
		key = connection._state_key(callback["state"])
		pending = json.loads(frappe.cache.get(key))
		pending["verifier"] = "x" * 64
		frappe.cache.set(key, frappe.as_json(pending), ex=60)
		with self.assertRaises(oauth.InvalidGrant):
			connection.complete_authorization(callback["code"], callback["state"])

	def test_callback_without_code_redirects_with_a_message_and_saves_nothing(self):
		callback = self.authorize()
		frappe.db.set_single_value("Xero Settings", "connection_status", "Not Connected")
		frappe.db.commit()
		api.oauth_callback(code=None, state=callback["state"])
		self.assertEqual(frappe.local.response["type"], "redirect")
		self.assertIn("xero_message=", frappe.local.response["location"])
		self.assertEqual(frappe.db.get_single_value("Xero Settings", "connection_status"), "Not Connected")

	def test_a_callback_by_someone_who_is_not_a_manager_writes_nothing_and_keeps_the_state(self):
		manager, clerk = xero_manager(), make_user("xero-clerk@example.com", "Accounts User")
		frappe.set_user(manager)
		callback = self.authorize()
		logs = frappe.db.count("Xero Sync Log")
		frappe.set_user(clerk)  # a logged-in clerk follows (or is sent) the callback link
		with self.assertRaises(frappe.PermissionError):
			api.oauth_callback(code=callback["code"], state=callback["state"])
		frappe.db.rollback()  # what Frappe does with the request's transaction after the error
		self.assertEqual(frappe.db.count("Xero Sync Log"), logs)
		self.assertTrue(frappe.cache.get(connection._state_key(callback["state"])))
		frappe.set_user(manager)  # the manager who started it still completes the sign-in
		self.assertIn("Xero Test Org", connection.complete_authorization(callback["code"], callback["state"]))

	def test_wrong_client_secret_is_a_plain_message_and_saves_nothing(self):
		callback = self.authorize()
		frappe.db.set_single_value("Xero Settings", "connection_status", "Not Connected")
		set_encrypted_password("Xero Settings", "Xero Settings", "not-the-secret", "client_secret")
		frappe.db.commit()
		try:
			api.oauth_callback(code=callback["code"], state=callback["state"])
			self.assertIn("Client ID or Client Secret", unquote_plus(frappe.local.response["location"]))
			self.assertEqual(
				frappe.db.get_single_value("Xero Settings", "connection_status"), "Not Connected"
			)
		finally:
			set_encrypted_password("Xero Settings", "Xero Settings", CLIENT_SECRET, "client_secret")
			frappe.db.commit()

	def test_custom_connection_gets_tokens_without_consent(self):
		self.emulator.register_client(
			"custom-app", "custom-secret", custom_connection_tenant=self.xero.tenants[0]
		)
		settings = frappe.get_doc("Xero Settings")
		settings.update(
			{
				"connection_type": "Custom Connection",
				"client_id": "custom-app",
				"client_secret": "custom-secret",
			}
		)
		settings.save()
		try:
			self.assertEqual(api.connect_custom_connection(), ["Xero Test Org"])
			self.assertEqual(connection.test_connection(self.xero.tenants[0]), "Xero Test Org")
			self.assertFalse(
				get_decrypted_password(
					"Xero Settings", "Xero Settings", "refresh_token", raise_exception=False
				)
			)
			# No refresh token: an expired access token is simply asked for again.
			frappe.db.set_single_value("Xero Settings", "token_expires_at", 0)
			frappe.db.commit()  # as time makes it expire: not a change of this transaction's own
			self.assertEqual(connection.test_connection(self.xero.tenants[0]), "Xero Test Org")
		finally:
			frappe.db.commit()  # a fresh look: the token was refreshed in a transaction of its own
			settings.reload()
			settings.update(
				{"connection_type": "OAuth 2.0", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
			)
			settings.save()
			frappe.db.commit()

	def test_eight_workers_with_an_expired_token_refresh_once(self):
		callback = self.authorize()
		connection.complete_authorization(callback["code"], callback["state"])
		frappe.db.set_single_value("Xero Settings", "token_expires_at", time.time() - 10)
		frappe.db.commit()
		refreshes_before = self.refresh_count()
		site, tokens, errors = frappe.local.site, [], []
		barrier = threading.Barrier(REFRESH_RACE_WORKERS)

		def worker():
			frappe.init(site=site)
			frappe.connect()
			try:
				barrier.wait()
				tokens.append(connection.get_access_token())
			except Exception as e:
				errors.append(e)
			finally:
				frappe.destroy()

		threads = [threading.Thread(target=worker) for _ in range(REFRESH_RACE_WORKERS)]
		for thread in threads:
			thread.start()
		for thread in threads:
			thread.join(60)
		self.assertEqual(errors, [])
		self.assertEqual(len(tokens), REFRESH_RACE_WORKERS)
		self.assertEqual(len(set(tokens)), 1)
		self.assertEqual(self.refresh_count() - refreshes_before, 1)
		self.assertEqual(frappe.db.get_single_value("Xero Settings", "connection_status"), "Connected")

	def test_invalid_grant_asks_for_reconnection_once(self):
		callback = self.authorize()
		connection.complete_authorization(callback["code"], callback["state"])
		self.emulator.clock.advance(61 * 24 * 3600)  # refresh tokens die after 60 days unused
		frappe.db.set_single_value("Xero Settings", "token_expires_at", 0)
		frappe.db.commit()
		notifications = frappe.db.count("Notification Log", {"subject": "Xero needs to be reconnected"})
		for _attempt in range(2):
			with self.assertRaises(oauth.InvalidGrant):
				connection.get_access_token()
		frappe.db.commit()  # see what the refresh, in a transaction of its own, recorded
		self.assertEqual(frappe.db.get_single_value("Xero Settings", "connection_status"), "Reconnect Needed")
		self.assertEqual(
			frappe.db.get_value("Xero Organisation", self.xero.tenants[0], "status"), "Reconnect Needed"
		)
		managers = frappe.get_all("Has Role", filters={"role": "Xero Manager", "parenttype": "User"})
		self.assertEqual(
			frappe.db.count("Notification Log", {"subject": "Xero needs to be reconnected"}) - notifications,
			len(managers),
		)

	def test_disconnect_removes_connections_and_revokes_when_none_is_left(self):
		callback = self.authorize()
		connection.complete_authorization(callback["code"], callback["state"])
		first, second = self.xero.tenants
		connection.disconnect(first)
		self.assertEqual(frappe.db.get_value("Xero Organisation", first, "status"), "Disconnected")
		self.assertEqual(frappe.db.get_single_value("Xero Settings", "connection_status"), "Connected")
		connection.disconnect(second)
		self.assertEqual(frappe.db.get_single_value("Xero Settings", "connection_status"), "Not Connected")
		self.assertFalse(
			get_decrypted_password("Xero Settings", "Xero Settings", "refresh_token", raise_exception=False)
		)
		self.assertEqual(self.emulator.call_count("DELETE", "/connections"), 2)
		self.assertGreaterEqual(self.emulator.call_count("POST", "/connect/revocation"), 1)

	def test_a_token_refresh_never_commits_the_callers_transaction(self):
		callback = self.authorize()
		connection.complete_authorization(callback["code"], callback["state"])
		frappe.db.set_single_value("Xero Settings", "token_expires_at", 0)
		frappe.db.commit()
		# A drain's batch, half settled: written, not yet committed, when a call needs a fresh token.
		create_log("Queued", operation="Half-settled batch", message="not committed by anyone but its drain")
		connection.get_access_token()
		frappe.db.rollback()  # the batch fails after all
		self.assertFalse(frappe.db.exists("Xero Sync Log", {"operation": "Half-settled batch"}))
		# The rotated token itself was stored for good.
		self.assertGreater(
			float(frappe.db.get_single_value("Xero Settings", "token_expires_at")), time.time()
		)
		connection.client_for(self.xero.tenants[0]).call("get_organisations")

	def test_disconnect_succeeds_when_xero_already_removed_the_connection(self):
		callback = self.authorize()
		connection.complete_authorization(callback["code"], callback["state"])
		first, _second = self.xero.tenants
		# The bookkeeper removed the app from the organisation in Xero's own settings.
		connection.client_for(None).delete_connection(
			frappe.db.get_value("Xero Organisation", first, "connection_id")
		)
		frappe.db.commit()
		frappe.set_user(make_user("xero-disconnecting-manager@example.com", "Xero Manager"))
		api.disconnect(first)
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value("Xero Organisation", first, "status"), "Disconnected")

	def test_an_organisation_links_to_one_company_only(self):
		callback = self.authorize()
		connection.complete_authorization(callback["code"], callback["state"])
		first, second = self.xero.tenants
		self.xero.link_company(first)
		with self.assertRaises(frappe.ValidationError):
			self.xero.link_company(second)

	def test_only_xero_managers_connect_and_only_their_company_s_logs_are_readable(self):
		callback = self.authorize()
		connection.complete_authorization(callback["code"], callback["state"])
		first, second = self.xero.tenants
		self.xero.link_company(first)
		other_company = frappe.db.get_value("Company", {"name": ("!=", COMPANY), "default_currency": "USD"})
		frappe.db.set_value("Xero Organisation", second, "company", other_company)
		ours = create_log("Failed", operation="Test", organisation=first, message="ours").name
		theirs = create_log("Failed", operation="Test", organisation=second, message="theirs").name
		frappe.db.commit()
		clerk = make_user("xero-clerk@example.com", "Accounts User")
		plain = make_user("xero-plain@example.com")
		permission = {"doctype": "User Permission", "user": clerk, "allow": "Company", "for_value": COMPANY}
		if not frappe.db.exists(permission):
			frappe.get_doc(permission).insert(ignore_permissions=True)
		frappe.db.commit()
		for user in (clerk, plain):
			frappe.set_user(user)
			with self.assertRaises(frappe.PermissionError):
				api.start_oauth()
			self.assertFalse(frappe.has_permission("Xero Settings", "read"))
		frappe.set_user(plain)
		self.assertFalse(frappe.has_permission("Xero Sync Log", "read"))
		frappe.set_user(clerk)
		readable = frappe.get_list("Xero Sync Log", filters={"operation": "Test"}, pluck="name")
		self.assertIn(ours, readable)
		self.assertNotIn(theirs, readable)

	def refresh_count(self) -> int:
		# Only refreshes reach the token endpoint between the two counts of the race test.
		return self.emulator.call_count("POST", "/connect/token")
