"""Tier 2, in a real browser: Debian's headless Chromium, driven by Playwright, against `bench serve` on
a free loopback port and the emulated Xero. A Xero Manager and an Accounts User open the workspace, the
settings form, a log with an error and a Sales Invoice; the manager presses Retry and Preview. Any
JavaScript console error fails the test. Screenshots go to artefacts/ (not committed).

Run: cd /root/frappe-bench && CI=1 bench --site test.localhost run-tests --app xero_integration \
	--module xero_integration.sync.test_browser
"""

import os
import socket
import subprocess
import time
import unittest
from pathlib import Path

import frappe
import requests
from frappe.utils.password import update_password

from xero_integration.sync.test_desk import ACCOUNTS_USER, XERO_MANAGER, DeskTestCase
from xero_integration.testing import bench_command, free_port, make_customer, make_sales_invoice, sites_path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--no-first-run",
]
PASSWORD = "Xero-Desk-Browser-1!"
ARTEFACTS = Path(frappe.get_app_path("xero_integration")).parent / "artefacts"
SERVER_START_SECONDS = 60


def sync_playwright():
	try:
		from playwright.sync_api import sync_playwright
	except ImportError:
		raise unittest.SkipTest(
			"Browser test skipped: Playwright is not installed (bench pip install playwright)."
		)
	if not os.path.exists(CHROMIUM):
		raise unittest.SkipTest(
			f"Browser test skipped: no Chromium at {CHROMIUM} (apt-get install -y chromium)."
		)
	return sync_playwright


def default_site() -> str:
	return frappe.get_conf(None).get("default_site") or ""


def resolvable(host: str) -> bool:
	try:
		socket.gethostbyname(host)
	except OSError:
		return False
	return True


def listening(port: int) -> bool:
	with socket.socket() as probe:
		return probe.connect_ex(("127.0.0.1", port)) == 0


class BenchServe:
	"""`bench serve` on a free port, with the realtime server beside it; the test only talks to 127.0.0.1.

	`bench serve` alone has no socket.io, and Desk's failed socket.io polls are console errors. With
	DEV_SERVER=1 Desk connects to the realtime port instead, which this starts unless one is running.
	"""

	def __init__(self):
		bench = Path(frappe.utils.get_bench_path())
		self.port = free_port()
		# socket.io serves the bench's default site on 127.0.0.1; any other site by its own name, which
		# its server must then be able to resolve (checked in setUpClass).
		host = "127.0.0.1" if frappe.local.site == default_site() else frappe.local.site
		self.url = f"http://{host}:{self.port}"
		self.probe_url = f"http://127.0.0.1:{self.port}/api/method/ping"
		self.probe_headers = {"Host": frappe.local.site}
		self.log = open(ARTEFACTS / "bench-serve.log", "w")
		self.processes = []
		socketio_port = frappe.conf.socketio_port or 9000
		if not listening(socketio_port):
			self.start(["node", "apps/frappe/socketio.js"], bench)
		self.start(
			bench_command("serve", "--port", str(self.port), "--noreload"),
			sites_path(),
			env={**os.environ, "DEV_SERVER": "1"},
		)
		deadline = time.monotonic() + SERVER_START_SECONDS
		while time.monotonic() < deadline:
			try:
				ping = requests.get(self.probe_url, headers=self.probe_headers, timeout=2)
				if ping.ok and listening(socketio_port):
					return
			except requests.ConnectionError:
				pass
			time.sleep(0.5)
		self.stop()
		raise RuntimeError(f"bench serve or socket.io did not start; see {self.log.name}")

	def start(self, command: list[str], cwd: Path, env=None):
		self.processes.append(
			subprocess.Popen(command, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
		)

	def stop(self):
		for process in self.processes:
			process.terminate()
			process.wait(timeout=20)
		self.log.close()


class TestDeskInBrowser(DeskTestCase):
	@classmethod
	def setUpClass(cls):
		cls.sync_playwright = sync_playwright()
		if frappe.local.site != default_site() and not resolvable(frappe.local.site):
			raise unittest.SkipTest(
				f"Browser test skipped: {frappe.local.site} is not the bench's default site and does not "
				"resolve, so socket.io cannot reach it (add it to /etc/hosts, or run on the default site)."
			)
		super().setUpClass()
		ARTEFACTS.mkdir(exist_ok=True)
		for user in (XERO_MANAGER, ACCOUNTS_USER):
			update_password(user, PASSWORD)
		frappe.db.commit()
		cls.server = BenchServe()
		cls.playwright = cls.sync_playwright().start()
		cls.browser = cls.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

	@classmethod
	def tearDownClass(cls):
		cls.browser.close()
		cls.playwright.stop()
		cls.server.stop()
		super().tearDownClass()

	def setUp(self):
		super().setUp()
		self.console_errors = []

	def login(self, user: str):
		context = self.browser.new_context(viewport={"width": 1400, "height": 1000})
		self.addCleanup(context.close)
		page = context.new_page()
		page.on(
			"console",
			lambda message: (
				message.type == "error" and self.console_errors.append(f"{page.url}: {message.text}")
			),
		)
		page.on("pageerror", lambda error: self.console_errors.append(f"{page.url}: {error}"))
		page.goto(f"{self.server.url}/login")
		page.fill("#login_email", user)
		page.fill("#login_password", PASSWORD)
		page.click(".btn-login")
		page.wait_for_url("**/app**")
		return page

	def open(self, page, path: str, ready: str):
		page.goto(f"{self.server.url}{path}")
		try:
			page.wait_for_selector(ready)
		except Exception:
			self.shot(page, f"failed-{self._testMethodName}")
			raise
		# Form scripts load Xero status after the form renders: let those requests finish.
		page.wait_for_load_state("networkidle")

	def open_workspace(self, page):
		"""The Xero workspace once its chart shows today's syncs. frappe-charts grows the bars from zero
		height (an SVG animation): a screenshot taken as the chart appears shows an empty chart."""
		self.open(page, "/app/xero", ".number-widget-box")
		page.wait_for_selector(".frappe-chart rect.bar:not([height='0'])")

	def open_invoice(self, page, name: str):
		"""The invoice with its Connections tab open: the Xero sync history is listed there."""
		self.open(page, f"/app/sales-invoice/{name}", ".form-tabs-list")
		page.get_by_role("tab", name="Connections").click()
		page.wait_for_selector(".xero-sync-history")

	def shot(self, page, name: str):
		page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)

	def assert_no_console_errors(self):
		self.assertEqual(self.console_errors, [], "JavaScript console errors")

	def parked_invoice(self, customer: str):
		"""A Sales Invoice stuck in Needs Attention (no Xero tax type for its tax), then the cause fixed."""
		organisation = frappe.get_doc("Xero Organisation", self.tenant)
		mappings = [row.as_dict() for row in organisation.tax_mappings]
		organisation.tax_mappings = [r for r in organisation.tax_mappings if "Sales Tax" not in r.erpnext_tax]
		organisation.save(ignore_permissions=True)
		frappe.db.commit()
		invoice = make_sales_invoice(make_customer(customer), tax_rate=15)
		self.drain_until_empty()
		organisation = frappe.get_doc("Xero Organisation", self.tenant)
		for row in mappings:
			organisation.append(
				"tax_mappings",
				{key: row[key] for key in ("erpnext_tax_type", "erpnext_tax", "xero_tax_type")},
			)
		organisation.save(ignore_permissions=True)
		frappe.db.commit()
		log = frappe.get_last_doc(
			"Xero Sync Log", {"reference_name": invoice.name, "status": "Needs Attention"}
		)
		return invoice, log

	def test_a_xero_manager_retries_a_failed_sync_and_previews_an_invoice(self):
		synced = self.synced_invoice("Browser Synced Customer", po_no="PO-BROWSER")
		parked, log = self.parked_invoice("Browser Parked Customer")
		page = self.login(XERO_MANAGER)

		self.open_workspace(page)
		self.assertTrue(page.get_by_text("Needs Attention in Xero").first.is_visible())
		self.shot(page, "manager-workspace")

		self.open(page, "/app/xero-settings", ".indicator-pill")
		self.assertIn("Connected", page.locator(".page-head .indicator-pill").first.inner_text())
		self.assertTrue(page.get_by_role("button", name="Reconnect").is_visible())
		self.shot(page, "manager-settings")

		self.open(page, "/app/xero-sync-log", ".list-row")
		self.shot(page, "manager-sync-log-list")

		self.open(page, f"/app/xero-sync-log/{log.name}", ".page-head .indicator-pill")
		self.assertIn("Sales Tax", page.locator(".form-message").first.inner_text())
		self.shot(page, "manager-log-with-error")
		page.get_by_role("button", name="Retry").click()
		page.wait_for_selector(".alert-message:has-text('queued for Xero again')")
		frappe.db.rollback()  # a fresh snapshot: the server committed the retry
		self.assertEqual(
			frappe.db.get_value(
				"Xero Outbox", {"reference_name": parked.name, "object_type": "Invoice"}, "status"
			),
			"Pending",
		)
		self.drain_until_empty()
		self.assertEqual(frappe.db.get_value("Sales Invoice", parked.name, "xero_status"), "AUTHORISED")

		writes = self.xero_writes()
		self.open_invoice(page, synced.name)
		self.assertIn("In Xero: AUTHORISED", page.locator(".form-message").first.inner_text())
		self.shot(page, "manager-sales-invoice")
		page.get_by_role("button", name="Xero").click()
		page.get_by_role("link", name="Preview Xero Payload").click()
		dialog = page.locator(".modal-dialog:has-text('Xero preview of')")
		dialog.wait_for()
		self.assertIn("Xero already has exactly this.", dialog.inner_text())
		dialog.locator("summary").click()
		self.assertIn(
			'"InvoiceNumber": "' + synced.name, dialog.locator(".xero-preview-payload").inner_text()
		)
		self.shot(page, "manager-preview")
		self.assertEqual(self.xero_writes(), writes)
		self.assert_no_console_errors()

	def test_an_accounts_user_sees_status_and_history_but_no_actions(self):
		synced = self.synced_invoice("Browser Reader Customer")
		_parked, log = self.parked_invoice("Browser Reader Parked Customer")
		page = self.login(ACCOUNTS_USER)

		self.open_workspace(page)
		self.shot(page, "accounts-user-workspace")

		self.open(page, f"/app/xero-sync-log/{log.name}", ".page-head .indicator-pill")
		self.assertEqual(page.get_by_role("button", name="Retry").count(), 0)
		self.shot(page, "accounts-user-log-with-error")

		self.open_invoice(page, synced.name)
		page.get_by_role("button", name="Xero").click()
		self.assertTrue(page.get_by_role("link", name="Open in Xero").is_visible())
		self.assertEqual(page.get_by_role("link", name="Preview Xero Payload").count(), 0)
		self.assertEqual(page.get_by_role("link", name="Sync to Xero").count(), 0)
		self.shot(page, "accounts-user-sales-invoice")
		self.assert_no_console_errors()
