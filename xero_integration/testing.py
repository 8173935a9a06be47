"""Tier-2 test support: a real site pointed at a running Xero emulator, and ERPNext documents to sync.

Imported by tests and benchmarks inside a bench (it needs frappe); never by the frappe-free core.
"""

import os
import random
import socket
import sys
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import frappe
import requests
from frappe.installer import update_site_config
from frappe.utils import add_days, flt, nowdate

from xero_integration.emulator import Faults, Limits, XeroEmulator

try:  # Frappe 16 names it IntegrationTestCase (FrappeTestCase is deprecated there); Frappe 15 has only this
	from frappe.tests import IntegrationTestCase as FrappeTestCase
except ImportError:
	from frappe.tests.utils import FrappeTestCase
from xero_integration.sync import connection, outbox, push

CLIENT_ID = "xero-integration-tests"
CLIENT_SECRET = "xero-integration-tests-secret"
COMPANY = "Xero Test Company"
ABBR = "XTC"
CURRENCY = "USD"
URL_KEYS = ("xero_login_url", "xero_identity_url", "xero_api_url")


def sites_path() -> str:
	return os.path.join(frappe.utils.get_bench_path(), "sites")


def free_port() -> int:
	with socket.socket() as probe:
		probe.bind(("127.0.0.1", 0))
		return probe.getsockname()[1]


def bench_command(*args) -> list[str]:
	"""`bench --site <this site> <args>` run by the bench's own Python; run it in sites_path()."""
	return [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", frappe.local.site, *args]


class EmulatedXero:
	"""An emulator with one client and organisations, and the site configured to use it.

	Site config is written (not only frappe.conf) so that background workers see the emulator too.
	"""

	def __init__(self, *, time_scale: float = 60.0, limits: Limits | None = None, seed: int | None = None):
		# A fresh seed gives fresh tenant ids: rate-limit state in Redis is keyed by tenant, and runs on
		# other sites of the same machine must not share it.
		seed = random.randrange(1 << 30) if seed is None else seed
		self.emulator = XeroEmulator(time_scale=time_scale, limits=limits, seed=seed)
		self.time_scale = time_scale
		self.tenants: list[str] = []

	def start(self, organisations=(("Xero Test Org", CURRENCY),)) -> "EmulatedXero":
		base_url = self.emulator.start()
		self.emulator.register_client(CLIENT_ID, CLIENT_SECRET, redirect_uris=[connection.redirect_uri()])
		for name, currency in organisations:
			self.tenants.append(self.emulator.add_organisation(name, currency, (currency, "EUR", "NZD")))
		config = {key: base_url for key in URL_KEYS}
		# The site's limiter knows the emulator's limits and clock, as it would know Xero's.
		limits = self.emulator.limits
		config["xero_rate_limits"] = {
			"time_scale": self.time_scale,
			"per_minute": limits.per_minute,
			"per_day": limits.per_day,
			"concurrent": limits.concurrent,
		}
		for key, value in config.items():
			update_site_config(key, value)
			frappe.local.conf[key] = value
		reset_settings()
		settings = frappe.get_doc("Xero Settings")
		settings.update({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "enabled": 1})
		settings.save(ignore_permissions=True)
		frappe.db.commit()
		return self

	def stop(self):
		self.emulator.stop()
		for key in (*URL_KEYS, "xero_rate_limits"):
			update_site_config(key, None, validate=False)
			frappe.local.conf.pop(key, None)
		self.emulator.assert_no_violations()

	def connect(self) -> list[str]:
		"""The whole consent round trip, as a browser would do it."""
		location = requests.get(connection.start_authorization(), allow_redirects=False, timeout=10).headers[
			"Location"
		]
		query = parse_qs(urlparse(location).query)
		return connection.complete_authorization(query["code"][0], query["state"][0])

	def create_in_xero(self, tenant_id: str, collection: str, element: dict) -> dict:
		"""What a bookkeeper does in Xero's web app: a record the app did not write."""
		return self.create_many(tenant_id, collection, [element])[0]

	def create_many(self, tenant_id: str, collection: str, elements: list[dict]) -> list[dict]:
		return self.as_bookkeeper(tenant_id, "PUT", collection, {collection: elements})[collection]

	def pay_in_xero(self, tenant_id: str, invoice_id: str, amount, account_code: str = "090") -> dict:
		"""A bookkeeper records a payment of the invoice in Xero (ERPNext hears of it only from a pull)."""
		return self.create_in_xero(
			tenant_id,
			"Payments",
			{
				"Invoice": {"InvoiceID": invoice_id},
				"Account": {"Code": account_code},
				"Date": nowdate(),
				"Amount": amount,
			},
		)

	def as_bookkeeper(self, tenant_id: str, method: str, path: str, body: dict | None = None) -> dict:
		"""One Accounting API request of someone working in Xero: a change the app did not make."""
		token = self.emulator.issue_tokens(CLIENT_ID, [tenant_id])["access_token"]
		response = requests.request(
			method,
			f"{self.emulator.base_url}/api.xro/2.0/{path}",
			json=body,
			headers={
				"Authorization": f"Bearer {token}",
				"xero-tenant-id": tenant_id,
				"Accept": "application/json",
			},
			timeout=60,
		)
		response.raise_for_status()
		return response.json()

	def link_company(self, tenant_id: str, company: str = COMPANY, **values):
		organisation = frappe.get_doc("Xero Organisation", tenant_id)
		organisation.update({"company": company, **values})
		organisation.save(ignore_permissions=True)
		frappe.db.commit()
		return organisation


def reset_settings():
	"""A clean slate: no tokens, no organisations, nothing queued."""
	for name in frappe.get_all("Xero Organisation", pluck="name"):
		frappe.clear_document_cache("Xero Organisation", name)
	for doctype in (
		"Xero Outbox",
		"Xero Document Link",
		"Xero Sync Log",
		"Xero Held Record",
		"Xero Organisation",
	):
		frappe.db.delete(doctype)
	frappe.db.delete("__Auth", {"doctype": "Xero Settings"})
	frappe.db.delete("Singles", {"doctype": "Xero Settings"})
	frappe.clear_document_cache("Xero Settings", "Xero Settings")
	frappe.db.commit()


# ---- ERPNext fixtures --------------------------------------------------------------------------


def ensure_company(company: str = COMPANY, abbr: str = ABBR, currency: str = CURRENCY) -> str:
	if not frappe.db.exists("Company", company):
		frappe.get_doc(
			{
				"doctype": "Company",
				"company_name": company,
				"abbr": abbr,
				"default_currency": currency,
				"country": "United States",
				"create_chart_of_accounts_based_on": "Standard Template",
				"chart_of_accounts": "Standard",
			}
		).insert(ignore_permissions=True)
	for account_name in ("Sales Tax", "Input Tax"):
		if not frappe.db.exists("Account", f"{account_name} - {abbr}"):
			frappe.get_doc(
				{
					"doctype": "Account",
					"account_name": account_name,
					"parent_account": f"Duties and Taxes - {abbr}",
					"company": company,
					"account_type": "Tax",
					"tax_rate": 15,
				}
			).insert(ignore_permissions=True)
	frappe.db.commit()
	return company


def receivable_account(currency: str, company: str = COMPANY) -> str:
	"""ERPNext books a foreign-currency invoice on a receivable account in that currency."""
	abbr = frappe.get_cached_value("Company", company, "abbr")
	name = f"Debtors {currency} - {abbr}"
	if not frappe.db.exists("Account", name):
		frappe.get_doc(
			{
				"doctype": "Account",
				"account_name": f"Debtors {currency}",
				"parent_account": frappe.db.get_value("Account", f"Debtors - {abbr}", "parent_account"),
				"company": company,
				"account_type": "Receivable",
				"account_currency": currency,
			}
		).insert(ignore_permissions=True)
	return name


def ensure_item(item_code: str = "Xero Test Service") -> str:
	if not frappe.db.exists("Item", item_code):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": item_code,
				"item_group": "Services" if frappe.db.exists("Item Group", "Services") else "All Item Groups",
				"stock_uom": "Nos",
				"is_stock_item": 0,
			}
		).insert(ignore_permissions=True)
	return item_code


def make_customer(name: str, **values) -> str:
	if not frappe.db.exists("Customer", name):
		frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": name,
				"customer_group": "All Customer Groups",
				"territory": "All Territories",
				**values,
			}
		).insert(ignore_permissions=True)
	return name


def make_supplier(name: str, **values) -> str:
	if not frappe.db.exists("Supplier", name):
		frappe.get_doc(
			{"doctype": "Supplier", "supplier_name": name, "supplier_group": "All Supplier Groups", **values}
		).insert(ignore_permissions=True)
	return name


def make_sales_invoice(customer: str, lines=((1, 100),), *, tax_rate=None, submit=True, **values):
	"""lines: (qty, rate) pairs for the test service item; tax_rate adds an "On Net Total" tax."""
	return _make_invoice("Sales Invoice", {"customer": customer}, lines, tax_rate, submit, values)


def make_purchase_invoice(supplier: str, lines=((1, 100),), *, tax_rate=None, submit=True, **values):
	return _make_invoice("Purchase Invoice", {"supplier": supplier}, lines, tax_rate, submit, values)


def _make_invoice(doctype, party, lines, tax_rate, submit, values):
	abbr = frappe.get_cached_value("Company", values.get("company", COMPANY), "abbr")
	sales = doctype == "Sales Invoice"
	tax = {
		"charge_type": "On Net Total",
		"account_head": f"{'Sales' if sales else 'Input'} Tax - {abbr}",
		"description": "Tax",
		"rate": tax_rate,
		"cost_center": f"Main - {abbr}",
	}
	if not sales:
		tax.update({"category": "Total", "add_deduct_tax": "Add"})
	invoice = frappe.get_doc(
		{
			"doctype": doctype,
			"company": COMPANY,
			**party,
			"posting_date": nowdate(),
			"due_date": add_days(nowdate(), 30),
			"currency": CURRENCY,
			"debit_to" if sales else "credit_to": f"Debtors - {abbr}" if sales else f"Creditors - {abbr}",
			"items": [
				{
					"item_code": ensure_item(),
					"qty": qty,
					"rate": rate,
					"income_account" if sales else "expense_account": f"Sales - {abbr}"
					if sales
					else f"Cost of Goods Sold - {abbr}",
					"cost_center": f"Main - {abbr}",
				}
				for qty, rate in lines
			],
			"taxes": [tax] if tax_rate is not None else [],
			**values,
		}
	)
	invoice.set_missing_values()
	invoice.update(values)  # what the caller chose wins over the party's defaults
	invoice.insert(ignore_permissions=True)
	if submit:
		invoice.submit()
	return invoice


def expense_account(name: str, company: str = COMPANY) -> str:
	abbr = frappe.get_cached_value("Company", company, "abbr")
	account = f"{name} - {abbr}"
	if not frappe.db.exists("Account", account):
		frappe.get_doc(
			{
				"doctype": "Account",
				"account_name": name,
				"parent_account": f"Indirect Expenses - {abbr}",
				"company": company,
			}
		).insert(ignore_permissions=True)
	return account


def make_journal_entry(rows: list[dict], *, submit: bool = True, company: str = COMPANY, **values):
	"""A Journal Entry of these account rows (each in the company's cost centre)."""
	abbr = frappe.get_cached_value("Company", company, "abbr")
	journal = frappe.get_doc(
		{
			"doctype": "Journal Entry",
			"company": company,
			"posting_date": nowdate(),
			"accounts": [{"cost_center": f"Main - {abbr}", **row} for row in rows],
			**values,
		}
	)
	journal.insert()
	if submit:
		journal.submit()
	return journal


def write_off(invoice, amount, account: str):
	"""A Write Off Entry: what a Sales Invoice's customer owes, written off to this account (a bad debt)."""
	return make_journal_entry(
		[
			{"account": account, "debit_in_account_currency": amount},
			{
				"account": invoice.debit_to,
				"party_type": "Customer",
				"party": invoice.customer,
				"credit_in_account_currency": amount,
				"reference_type": "Sales Invoice",
				"reference_name": invoice.name,
			},
		],
		company=invoice.company,
		voucher_type="Write Off Entry",
	)


def mode_of_payment_account(mode: str, account: str, company: str = COMPANY) -> None:
	"""ERPNext wants a Mode of Payment's default account per Company before an invoice is paid with it."""
	doc = frappe.get_doc("Mode of Payment", mode)
	if not any(row.company == company for row in doc.accounts):
		doc.append("accounts", {"company": company, "default_account": account})
		doc.save(ignore_permissions=True)


def make_payment(invoice, amount=None, *, submit=True):
	from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

	abbr = frappe.get_cached_value("Company", invoice.company, "abbr")
	# party_amount: ERPNext allocates it and converts it to the bank account's currency itself.
	payment = get_payment_entry(
		invoice.doctype, invoice.name, party_amount=amount, bank_account=f"Cash - {abbr}"
	)
	payment.reference_no = f"REF-{invoice.name}"
	payment.reference_date = nowdate()
	payment.insert(ignore_permissions=True)
	if submit:
		payment.submit()
	return payment


def make_payment_with_deduction(invoice, deduction, account: str):
	"""A payment of the whole invoice of which `deduction` is written off to `account` (a discount, bank
	charges): the bank receives the rest."""
	abbr = frappe.get_cached_value("Company", invoice.company, "abbr")
	payment = make_payment(invoice, submit=False)
	payment.paid_amount = payment.received_amount = flt(payment.paid_amount - deduction, 2)
	payment.append("deductions", {"account": account, "cost_center": f"Main - {abbr}", "amount": deduction})
	payment.save()
	payment.submit()
	return payment


def make_sales_order(customer: str, rate: float):
	order = frappe.get_doc(
		{
			"doctype": "Sales Order",
			"company": COMPANY,
			"customer": customer,
			"currency": CURRENCY,
			"transaction_date": nowdate(),
			"delivery_date": add_days(nowdate(), 7),
			"items": [{"item_code": ensure_item(), "qty": 1, "rate": rate, "warehouse": None}],
		}
	)
	order.insert(ignore_permissions=True)
	order.submit()
	return order


def make_advance(party_type: str, party: str, amount, *, references=(), submit=True, company: str = COMPANY):
	"""Money received from a customer (or paid to a supplier) ahead of its invoices: a Payment Entry from
	the Cash account, allocated to references ((doctype, name, amount) each) and the rest left for later."""
	from erpnext.accounts.party import get_party_account

	abbr = frappe.get_cached_value("Company", company, "abbr")
	receive = party_type == "Customer"
	party_account = get_party_account(party_type, party, company)
	payment = frappe.get_doc(
		{
			"doctype": "Payment Entry",
			"payment_type": "Receive" if receive else "Pay",
			"company": company,
			"posting_date": nowdate(),
			"party_type": party_type,
			"party": party,
			"paid_from": party_account if receive else f"Cash - {abbr}",
			"paid_to": f"Cash - {abbr}" if receive else party_account,
			"paid_amount": amount,
			"received_amount": amount,
			"source_exchange_rate": 1,
			"target_exchange_rate": 1,
			"reference_no": f"ADV-{frappe.generate_hash(length=6)}",
			"reference_date": nowdate(),
			"references": [
				{"reference_doctype": doctype, "reference_name": name, "allocated_amount": allocated}
				for doctype, name, allocated in references
			],
		}
	)
	payment.setup_party_account_field()
	payment.set_missing_values()
	payment.set_missing_ref_details()
	payment.set_amounts()
	payment.insert()
	if submit:
		payment.submit()
	return payment


def reconcile(
	party_type: str, party: str, payment_name: str, invoice_name: str, company: str = COMPANY
) -> None:
	"""What a clerk does in Payment Reconciliation: fetch, allocate this payment (or credit) to this invoice,
	reconcile."""
	from erpnext.accounts.party import get_party_account

	tool = frappe.new_doc("Payment Reconciliation")
	tool.company = company
	tool.party_type, tool.party = party_type, party
	tool.receivable_payable_account = get_party_account(party_type, party, company)
	tool.get_unreconciled_entries()
	invoices = [row.as_dict() for row in tool.invoices if row.invoice_number == invoice_name]
	payments = [row.as_dict() for row in tool.payments if row.reference_name == payment_name]
	tool.allocate_entries(frappe._dict({"invoices": invoices, "payments": payments}))
	tool.reconcile()


def unreconcile(payment_name: str, invoice_name: str, company: str = COMPANY) -> None:
	"""Unreconcile Payment, for one invoice of a Payment Entry."""
	undo = frappe.get_doc(
		{
			"doctype": "Unreconcile Payment",
			"company": company,
			"voucher_type": "Payment Entry",
			"voucher_no": payment_name,
		}
	)
	undo.add_references()
	undo.allocations = [row for row in undo.allocations if row.reference_name == invoice_name]
	undo.save()
	undo.submit()


def make_user(email: str, *roles: str) -> str:
	"""A Desk user with these roles (a clerk, a bookkeeper), for tests that act as people do."""
	if not frappe.db.exists("User", email):
		frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": email.split("@")[0],
				"send_welcome_email": 0,
				"roles": [{"role": role} for role in roles],
			}
		).insert(ignore_permissions=True)
	else:
		frappe.get_doc("User", email).add_roles(*roles)
	frappe.db.commit()
	return email


def clerk() -> str:
	"""An accounts clerk: submits, cancels and amends invoices and payments; no Xero role."""
	return make_user("xero-test-clerk@example.com", "Accounts User")


def accounts_manager() -> str:
	"""Cancels Sales Invoices, which ERPNext does not let an Accounts User do; no Xero role."""
	return make_user("xero-test-accounts-manager@example.com", "Accounts Manager")


def xero_manager() -> str:
	return make_user("xero-test-manager@example.com", "Accounts User", "Xero Manager")


def amend(doc):
	"""What the Amend button does after a cancel: a new draft named -1, then submitted."""
	amended = frappe.copy_doc(doc)
	amended.docstatus = 0
	amended.amended_from = doc.name
	amended.insert()
	amended.submit()
	return amended


def webhook_event(tenant_id: str, status: str) -> str:
	"""A stored webhook event of the organisation, as sync/webhooks.py keeps one, in this status."""
	return (
		frappe.get_doc(
			{
				"doctype": "Xero Webhook Event",
				"name": f"test-event-{frappe.generate_hash(length=10)}",
				"organisation": tenant_id,
				"category": "INVOICE",
				"event_type": "UPDATE",
				"resource_id": frappe.generate_hash(length=12),
				"status": status,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def ensure_outgoing_email() -> str | None:
	"""An outgoing Email Account, so that mail is queued (nothing flushes the queue during tests).
	Returns its name when it was created here, for the caller to delete."""
	if frappe.db.exists("Email Account", {"default_outgoing": 1, "enable_outgoing": 1}):
		return None
	frappe.get_doc(
		{
			"doctype": "Email Account",
			"email_account_name": "Xero Test Outgoing",
			"email_id": "xero-digest@example.com",
			"enable_outgoing": 1,
			"default_outgoing": 1,
			"smtp_server": "127.0.0.1",
			"no_smtp_authentication": 1,
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	return "Xero Test Outgoing"


def read_organisation(tenant_id: str) -> None:
	"""A background job for the token-race test: one authenticated call, as any sync job makes."""
	connection.client_for(tenant_id).call("get_organisations")


def tax_mappings(abbr: str = ABBR) -> list[dict]:
	"""The test Company's sales and purchase tax accounts, mapped to the emulator's GST types."""
	return [
		{"erpnext_tax_type": "Account", "erpnext_tax": f"Sales Tax - {abbr}", "xero_tax_type": "OUTPUT2"},
		{"erpnext_tax_type": "Account", "erpnext_tax": f"Input Tax - {abbr}", "xero_tax_type": "INPUT2"},
	]


class XeroTestCase(FrappeTestCase):
	"""A real site connected to an emulated Xero organisation that is linked to the test Company."""

	time_scale = 60.0
	limits: Limits | None = None
	organisations = (("Xero Test Org", CURRENCY),)

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_company()
		ensure_item()  # tests map it before any invoice would create it
		cls.xero = EmulatedXero(time_scale=cls.time_scale, limits=cls.limits).start(cls.organisations)
		cls.emulator = cls.xero.emulator
		cls.tenant = cls.xero.tenants[0]
		cls.xero.connect()
		cls.link_organisations()
		frappe.clear_document_cache("Xero Settings", "Xero Settings")

	@classmethod
	def link_organisations(cls):
		cls.xero.link_company(cls.tenant, tax_mappings=tax_mappings())

	@classmethod
	def tearDownClass(cls):
		cls.xero.stop()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")
		self.emulator.faults = Faults()
		self.emulator.outage(False)

	def org(self, tenant_id: str | None = None):
		return self.emulator.org(tenant_id or self.tenant)

	def drain(self, *tenants):
		frappe.db.commit()
		for tenant in tenants or (self.tenant,):
			push.drain(tenant)

	def open_rows(self) -> int:
		return frappe.db.count("Xero Outbox", {"status": ("in", (outbox.PENDING, outbox.PROCESSING))})

	def drain_until_empty(self, rounds: int = 60):
		"""What the scheduler does after failures: drain again once each retry is due."""
		for _round in range(rounds):
			frappe.db.sql("update `tabXero Outbox` set next_attempt_at=null where status='Pending'")
			self.drain()
			if not self.open_rows():
				return
		self.fail(f"{self.open_rows()} outbox rows still open")

	def xero_invoice(self, number: str, tenant_id: str | None = None) -> dict:
		found = [i for i in self.org(tenant_id).invoices.values() if i.get("InvoiceNumber") == number]
		self.assertEqual(len(found), 1, f"{number} is in Xero {len(found)} times")
		return found[0]

	def assert_same_total(self, invoice, tenant_id: str | None = None) -> dict:
		xero = self.xero_invoice(invoice.name, tenant_id)
		expected = Decimal(str(flt(invoice.rounded_total or invoice.grand_total, 2)))
		self.assertEqual(Decimal(str(xero["Total"])), expected, invoice.name)
		return xero


def submit_slowly(customer: str, rate: float, hold_seconds: float) -> None:
	"""`bench execute` target: a clerk's submit whose transaction stays open a while before commit, so
	that two of them overlap."""
	import time

	frappe.set_user("Administrator")
	make_sales_invoice(customer, lines=((1, rate),))
	time.sleep(hold_seconds)
	frappe.db.commit()
