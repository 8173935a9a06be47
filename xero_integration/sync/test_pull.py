"""Tier 2: what a bookkeeper does in (emulated) Xero reaches a real ERPNext site through the pull:
documents, their ledger, totals to the cent, no duplicates, conflicts reported, the watermark safe."""

import datetime
import subprocess
from decimal import Decimal

import frappe
from frappe.utils import add_days, flt, nowdate
from frappe.utils.password import set_encrypted_password

from xero_integration.core.pull import HOLD_ATTEMPTS, xero_datetime
from xero_integration.emulator.xerojson import ms_timestamp
from xero_integration.sync import pull
from xero_integration.sync.integration_user import INTEGRATION_USER
from xero_integration.testing import (
	ABBR,
	COMPANY,
	EmulatedXero,
	FrappeTestCase,
	bench_command,
	ensure_company,
	sites_path,
	xero_manager,
)

INPUT_TAX = f"Input Tax - {ABBR}"
SALES_TAX = f"Sales Tax - {ABBR}"


def ensure_input_tax_account():
	if not frappe.db.exists("Account", INPUT_TAX):
		frappe.get_doc(
			{
				"doctype": "Account",
				"account_name": "Input Tax",
				"parent_account": f"Duties and Taxes - {ABBR}",
				"company": COMPANY,
				"account_type": "Tax",
			}
		).insert(ignore_permissions=True)


class InboundTestCase(FrappeTestCase):
	"""A connected organisation linked to the test Company, with GST mapped both ways."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_company()
		ensure_input_tax_account()
		# The emulator's IDs repeat from run to run (seeded): forget events stored by earlier runs.
		frappe.db.delete("Xero Webhook Event")
		cls.xero = EmulatedXero(time_scale=60, seed=5).start()
		cls.emulator = cls.xero.emulator
		cls.tenant = cls.xero.tenants[0]
		cls.xero.connect()
		cls.xero.link_company(
			cls.tenant,
			tax_mappings=[
				{"erpnext_tax_type": "Account", "erpnext_tax": SALES_TAX, "xero_tax_type": "OUTPUT2"},
				{"erpnext_tax_type": "Account", "erpnext_tax": INPUT_TAX, "xero_tax_type": "INPUT2"},
			],
		)
		# Not through settings.save(): the tokens, stored apart from the form, would be wiped.
		set_encrypted_password("Xero Settings", "Xero Settings", cls.emulator.webhook_key, "webhook_key")
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.xero.stop()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")
		# Names are unique per run: the site keeps documents of earlier runs, which would be matched.
		self.run_id = frappe.generate_hash(length=6)
		self.set_policy("ERPNext wins")

	def set_policy(self, policy: str):
		frappe.db.set_single_value(
			"Xero Settings", {"conflict_policy": policy, "invoices_conflict_policy": ""}
		)
		frappe.clear_document_cache("Xero Settings", "Xero Settings")
		frappe.db.commit()

	def org(self):
		return self.emulator.org(self.tenant)

	# ---- a bookkeeper at work in Xero ---------------------------------------------------------------

	def xero_request(self, method: str, path: str, body: dict) -> dict:
		return self.xero.as_bookkeeper(self.tenant, method, path, body)

	def contact(self, name: str, **values) -> dict:
		return self.xero.create_in_xero(self.tenant, "Contacts", {"Name": f"{name} {self.run_id}", **values})

	def invoice(self, contact: dict, lines, *, number: str, type_="ACCREC", status="AUTHORISED", **values):
		"""lines: (quantity, unit amount, account code, tax type)."""
		return self.xero.create_in_xero(
			self.tenant,
			"Invoices",
			{
				"Type": type_,
				"Contact": {"ContactID": contact["ContactID"]},
				"InvoiceNumber": f"{number}-{self.run_id}",
				"Status": status,
				"Date": nowdate(),
				"DueDate": add_days(nowdate(), 14),
				"LineAmountTypes": "Exclusive",
				"LineItems": [
					{
						"Description": f"Line {n}",
						"Quantity": q,
						"UnitAmount": u,
						"AccountCode": a,
						"TaxType": t,
					}
					for n, (q, u, a, t) in enumerate(lines, start=1)
				],
				**values,
			},
		)

	def credit_note(self, contact: dict, amount, *, number: str, description: str) -> dict:
		"""A sales credit note of one line, exclusive of GST."""
		return self.xero.create_in_xero(
			self.tenant,
			"CreditNotes",
			{
				"Type": "ACCRECCREDIT",
				"Contact": {"ContactID": contact["ContactID"]},
				"CreditNoteNumber": f"{number}-{self.run_id}",
				"Status": "AUTHORISED",
				"LineAmountTypes": "Exclusive",
				"LineItems": [
					{
						"Description": description,
						"Quantity": 1,
						"UnitAmount": amount,
						"AccountCode": "200",
						"TaxType": "OUTPUT2",
					}
				],
			},
		)

	def payment(self, invoice: dict, amount) -> dict:
		return self.xero.create_in_xero(
			self.tenant,
			"Payments",
			{
				"Invoice": {"InvoiceID": invoice["InvoiceID"]},
				"Account": {"Code": "090"},
				"Date": nowdate(),
				"Amount": amount,
				"Reference": f"Bank {self.run_id}",
			},
		)

	def held(self, xero_id: str) -> list[dict]:
		return frappe.get_all(
			"Xero Held Record",
			filters={"organisation": self.tenant, "xero_id": xero_id.lower()},
			fields=["status", "attempts"],
		)

	# ---- what ERPNext shows -------------------------------------------------------------------------

	def pull(self):
		frappe.db.commit()
		counts = pull.pull_organisation(self.tenant)
		frappe.db.commit()
		return counts

	def linked(self, xero_object: str, xero_id: str) -> list[str]:
		filters = {"organisation": self.tenant, "xero_id": xero_id}
		filters["xero_object"] = ("like", "Payment:%") if xero_object == "Payment" else xero_object
		return frappe.get_all("Xero Document Link", filters=filters, pluck="reference_name")

	def document_of(self, xero_object: str, xero_id: str, doctype: str):
		names = self.linked(xero_object, xero_id)
		self.assertEqual(len(names), 1, f"{xero_object} {xero_id} is linked {len(names)} times")
		return frappe.get_doc(doctype, names[0])

	def ledger(self, voucher) -> dict[str, Decimal]:
		"""Net debit per account of the live GL entries of a voucher."""
		rows = frappe.get_all(
			"GL Entry",
			filters={"voucher_no": voucher, "is_cancelled": 0},
			fields=["account", "debit", "credit"],
		)
		net: dict[str, Decimal] = {}
		for row in rows:
			net[row.account] = net.get(row.account, Decimal(0)) + Decimal(str(flt(row.debit - row.credit, 2)))
		return {account: amount for account, amount in net.items() if amount}

	def attention_logs(self, xero_id: str) -> list[dict]:
		return frappe.get_all(
			"Xero Sync Log",
			filters={"xero_id": xero_id, "status": "Needs Attention"},
			fields=["message", "request", "response"],
			order_by="creation desc",
		)


class TestPull(InboundTestCase):
	def test_invoice_raised_in_xero_is_submitted_with_xeros_total_and_ledger(self):
		contact = self.contact("Rounding Ltd", EmailAddress=f"accounts-{self.run_id}@example.com")
		# Xero rounds tax per line (15.00 + 0.15 + 13.13); ERPNext once per row (28.27): a cent apart.
		invoice = self.invoice(
			contact,
			[(3, 33.33, "200", "OUTPUT2"), (1, 0.99, "200", "OUTPUT2"), (7, 12.5, "200", "OUTPUT2")],
			number="RND",
		)
		self.assertEqual(Decimal(str(invoice["Total"])), Decimal("216.76"))
		self.pull()
		doc = self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice")
		customer = self.document_of("Contact", contact["ContactID"], "Customer")
		self.assertEqual(doc.customer, customer.name)
		self.assertEqual(customer.email_id, f"accounts-{self.run_id}@example.com")
		self.assertEqual(doc.name, invoice["InvoiceNumber"])
		self.assertEqual(doc.docstatus, 1)
		self.assertEqual(Decimal(str(flt(doc.grand_total, 2))), Decimal("216.76"))
		rounding = [t for t in doc.taxes if t.description == "Rounding adjustment"]
		self.assertEqual([flt(t.tax_amount, 2) for t in rounding], [0.01])
		self.assertEqual(
			self.ledger(doc.name),
			{
				f"Debtors - {ABBR}": Decimal("216.76"),
				f"Sales - {ABBR}": Decimal("-188.48"),
				SALES_TAX: Decimal("-28.27"),
				f"Round Off - {ABBR}": Decimal("-0.01"),
			},
		)
		log = frappe.get_all(
			"Xero Sync Log",
			filters={"reference_name": doc.name, "status": "Success", "direction": "Xero to ERPNext"},
			pluck="message",
		)
		self.assertTrue(any("rounding" in (m or "").lower() for m in log))
		# Nothing that came from Xero is queued to go back to it.
		self.assertFalse(
			frappe.db.exists("Xero Outbox", {"reference_name": ("in", [doc.name, customer.name])})
		)

		before = frappe.db.count("Sales Invoice", {"customer": customer.name})
		self.pull()
		self.assertEqual(frappe.db.count("Sales Invoice", {"customer": customer.name}), before)

	def test_partial_payments_and_a_payment_deleted_in_xero(self):
		contact = self.contact("Partial Payer")
		invoice = self.invoice(contact, [(2, 50, "200", "OUTPUT2")], number="PAY")  # 115.00
		first = self.payment(invoice, 15)
		second = self.payment(invoice, 40)
		self.pull()
		doc = self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice")
		self.assertEqual(flt(doc.outstanding_amount, 2), 60.0)
		entry = self.document_of("Payment", first["PaymentID"], "Payment Entry")
		self.assertEqual(entry.docstatus, 1)
		self.assertEqual(
			[(r.reference_name, flt(r.allocated_amount, 2)) for r in entry.references], [(doc.name, 15.0)]
		)
		self.assertEqual(
			self.ledger(entry.name),
			{f"Cash - {ABBR}": Decimal("15.00"), f"Debtors - {ABBR}": Decimal("-15.00")},
		)

		self.xero_request("POST", f"Payments/{second['PaymentID']}", {"Status": "DELETED"})
		self.pull()
		removed = self.document_of("Payment", second["PaymentID"], "Payment Entry")
		self.assertEqual(removed.docstatus, 2)
		self.assertEqual(flt(frappe.db.get_value("Sales Invoice", doc.name, "outstanding_amount"), 2), 100.0)
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": removed.name}))

	def test_a_bill_payment_and_a_credit_note_refund_are_paid_out_of_the_bank(self):
		supplier = self.contact("Paid Supplier")
		bill = self.invoice(supplier, [(1, 200, "400", "INPUT2")], number="PBILL", type_="ACCPAY")  # 230.00
		bill_payment = self.payment(bill, 100)
		customer = self.contact("Refunded Buyer")
		note = self.credit_note(customer, 40, number="RCN", description="Refund")  # 46.00
		refund = self.xero.create_in_xero(
			self.tenant,
			"Payments",
			{
				"CreditNote": {"CreditNoteID": note["CreditNoteID"]},
				"Account": {"Code": "090"},
				"Date": nowdate(),
				"Amount": 46,
			},
		)
		self.pull()

		purchase = self.document_of("Invoice", bill["InvoiceID"], "Purchase Invoice")
		self.assertEqual(flt(purchase.outstanding_amount, 2), 130.0)
		paid = self.document_of("Payment", bill_payment["PaymentID"], "Payment Entry")
		self.assertEqual(
			(paid.payment_type, paid.party_type, paid.party), ("Pay", "Supplier", purchase.supplier)
		)
		self.assertEqual(
			self.ledger(paid.name),
			{f"Creditors - {ABBR}": Decimal("100.00"), f"Cash - {ABBR}": Decimal("-100.00")},
		)

		credit = self.document_of("CreditNote", note["CreditNoteID"], "Sales Invoice")
		self.assertEqual(flt(frappe.db.get_value("Sales Invoice", credit.name, "outstanding_amount"), 2), 0.0)
		refunded = self.document_of("Payment", refund["PaymentID"], "Payment Entry")
		self.assertEqual((refunded.payment_type, refunded.party), ("Pay", credit.customer))
		self.assertEqual(
			[(r.reference_name, flt(r.allocated_amount, 2)) for r in refunded.references],
			[(credit.name, -46.0)],
		)
		self.assertEqual(
			self.ledger(refunded.name),
			{f"Debtors - {ABBR}": Decimal("46.00"), f"Cash - {ABBR}": Decimal("-46.00")},
		)

	def test_a_contact_edited_in_xero_updates_the_customer_its_contact_and_address(self):
		def details(name, email, mobile, street, city):
			return {
				"Name": f"{name} {self.run_id}",
				"EmailAddress": email,
				"Phones": [{"PhoneType": "MOBILE", "PhoneNumber": mobile}],
				"Addresses": [{"AddressType": "POBOX", "AddressLine1": street, "City": city}],
			}

		contact = self.xero.create_in_xero(
			self.tenant,
			"Contacts",
			details("Moving Co", f"old-{self.run_id}@example.com", "021 111", "1 Old Road", "Wellington"),
		)
		self.pull()
		customer = self.document_of("Contact", contact["ContactID"], "Customer")
		self.assertEqual(customer.email_id, f"old-{self.run_id}@example.com")

		moved = details("Moved Co", f"new-{self.run_id}@example.com", "022 222", "9 New Street", "Auckland")
		self.xero_request("POST", f"Contacts/{contact['ContactID']}", {"Contacts": [moved]})
		self.pull()
		customer.reload()
		self.assertEqual(
			(customer.customer_name, customer.email_id, customer.mobile_no),
			(f"Moved Co {self.run_id}", f"new-{self.run_id}@example.com", "022 222"),
		)
		addresses = frappe.get_all(
			"Address",
			filters=[["Dynamic Link", "link_name", "=", customer.name], ["address_type", "=", "Billing"]],
			fields=["name", "address_line1", "city"],
		)
		self.assertEqual([(a.address_line1, a.city) for a in addresses], [("9 New Street", "Auckland")])
		self.assertEqual(customer.customer_primary_address, addresses[0].name)
		self.assertFalse(frappe.db.exists("Xero Outbox", {"reference_name": customer.name}))

		modified = customer.modified
		counts = self.pull()
		self.assertEqual(counts.get("updated", 0), 0, counts)
		self.assertEqual(frappe.db.get_value("Customer", customer.name, "modified"), modified)

	def test_a_bill_becomes_a_purchase_invoice_and_a_void_cancels_it(self):
		supplier = self.contact("Bill Supplier")
		bill = self.invoice(supplier, [(1, 200, "400", "INPUT2")], number="BILL", type_="ACCPAY")
		self.pull()
		doc = self.document_of("Invoice", bill["InvoiceID"], "Purchase Invoice")
		self.assertEqual(doc.bill_no, bill["InvoiceNumber"])
		self.assertEqual(flt(doc.grand_total, 2), 230.0)
		self.assertEqual(self.ledger(doc.name)[INPUT_TAX], Decimal("30.00"))
		self.assertTrue(self.linked("Contact", supplier["ContactID"]))

		self.xero_request("POST", f"Invoices/{bill['InvoiceID']}", {"Invoices": [{"Status": "VOIDED"}]})
		self.pull()
		doc.reload()
		self.assertEqual(doc.docstatus, 2)
		self.assertEqual(self.ledger(doc.name), {})

	def test_a_failed_invoice_is_held_aside_and_retried_by_id_once_fixed(self):
		contact = self.contact("Unmapped Account")
		bad = self.invoice(contact, [(1, 10, "260", "OUTPUT2")], number="BAD")  # 260: no mapping
		good = self.invoice(contact, [(1, 20, "200", "OUTPUT2")], number="GOOD")
		paid = self.payment(bad, 5)
		self.pull()
		self.assertFalse(self.linked("Invoice", bad["InvoiceID"]))
		self.assertTrue(self.linked("Invoice", good["InvoiceID"]))
		message = self.attention_logs(bad["InvoiceID"])[0].message
		self.assertIn("260", message)
		self.assertIn("Sync now", message)
		# The watermarks move on: the bad invoice and its payment wait aside, in nobody's way.
		watermark = frappe.db.get_value("Xero Organisation", self.tenant, "invoices_pulled_until")
		self.assertGreaterEqual(watermark, pull.db_datetime(xero_datetime(good["UpdatedDateUTC"])))
		watermark = frappe.db.get_value("Xero Organisation", self.tenant, "payments_pulled_until")
		self.assertGreaterEqual(watermark, pull.db_datetime(xero_datetime(paid["UpdatedDateUTC"])))
		self.assertEqual(self.held(bad["InvoiceID"]), [{"status": "Retrying", "attempts": 1}])
		self.assertEqual(self.held(paid["PaymentID"]), [{"status": "Retrying", "attempts": 1}])

		org = frappe.get_doc("Xero Organisation", self.tenant)
		org.append("account_mappings", {"account": f"Sales - {ABBR}", "xero_account_code": "260"})
		org.save(ignore_permissions=True)
		try:
			self.pull()  # Sync now, after the mapping is fixed: both are fetched by id and applied
			invoice = self.document_of("Invoice", bad["InvoiceID"], "Sales Invoice")
			self.assertEqual(flt(invoice.outstanding_amount, 2), 6.5)
			self.assertEqual(self.document_of("Payment", paid["PaymentID"], "Payment Entry").docstatus, 1)
			self.assertEqual(len(self.linked("Invoice", good["InvoiceID"])), 1)
			self.assertEqual(self.held(bad["InvoiceID"]) + self.held(paid["PaymentID"]), [])
		finally:
			org.reload()
			org.account_mappings = [r for r in org.account_mappings if r.xero_account_code != "260"]
			org.save(ignore_permissions=True)
			frappe.db.commit()

	def test_a_record_that_always_fails_is_retried_then_parked_with_one_message(self):
		contact = self.contact("Never Mapped")
		bad = self.invoice(contact, [(1, 10, "260", "OUTPUT2")], number="NEVER")
		later = self.invoice(contact, [(1, 30, "200", "OUTPUT2")], number="LATER")
		for _pull in range(HOLD_ATTEMPTS + 2):
			self.pull()
		self.assertTrue(self.linked("Invoice", later["InvoiceID"]))
		watermark = frappe.db.get_value("Xero Organisation", self.tenant, "invoices_pulled_until")
		self.assertGreaterEqual(watermark, pull.db_datetime(xero_datetime(later["UpdatedDateUTC"])))
		# The first failure, then one message when it is parked; not one per hourly pull.
		messages = [log.message for log in self.attention_logs(bad["InvoiceID"])]
		self.assertEqual(len(messages), 2, messages)
		self.assertIn(f"failed {HOLD_ATTEMPTS} times", messages[0])
		self.assertIn("260", messages[1])
		self.assertEqual(self.held(bad["InvoiceID"]), [{"status": "Parked", "attempts": HOLD_ATTEMPTS}])

	def test_the_first_scheduled_pull_starts_when_the_company_is_linked(self):
		history = self.contact("Long Before Linking")
		# Xero's history: last changed a year ago (the emulator's clock runs ahead, so it is set back).
		year_ago = self.emulator.clock.utcnow() - datetime.timedelta(days=365)
		self.org().contacts[history["ContactID"]]["UpdatedDateUTC"] = ms_timestamp(year_ago)
		# A freshly connected organisation: no Company, never pulled.
		watermarks = {field: None for field in pull.WATERMARK_FIELD.values()}
		frappe.db.set_value("Xero Organisation", self.tenant, {"company": "", **watermarks})
		frappe.db.commit()
		frappe.set_user(xero_manager())  # the admin links a Company on the organisation's form
		org = frappe.get_doc("Xero Organisation", self.tenant)
		org.company = COMPANY
		org.save()
		frappe.db.commit()
		frappe.set_user("Administrator")
		recent = self.contact("After Linking")
		frequency = frappe.db.get_single_value("Xero Settings", "pull_frequency")
		frappe.db.set_single_value("Xero Settings", "pull_frequency", "Hourly")
		try:
			pull.pull_hourly()  # what the scheduler runs every hour, then a real worker
			frappe.db.commit()
			subprocess.run(
				bench_command("worker", "--burst", "--queue", "long"),
				cwd=sites_path(),
				check=True,
				timeout=300,
			)
		finally:
			frappe.db.set_single_value("Xero Settings", "pull_frequency", frequency)
			frappe.db.commit()
		self.assertFalse(self.linked("Contact", history["ContactID"]))  # Import History's job
		customer = self.document_of("Contact", recent["ContactID"], "Customer")
		self.assertEqual(customer.owner, INTEGRATION_USER)

	def test_an_edit_in_xero_to_a_submitted_invoice_is_a_conflict_or_an_amendment_by_policy(self):
		contact = self.contact("Edited Later")
		invoice = self.invoice(contact, [(1, 100, "200", "OUTPUT2")], number="EDIT")
		self.pull()
		original = self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice")
		self.xero_request(
			"POST",
			f"Invoices/{invoice['InvoiceID']}",
			{
				"Invoices": [
					{
						"LineItems": [
							{
								"Description": "Line 1",
								"Quantity": 1,
								"UnitAmount": 120,
								"AccountCode": "200",
								"TaxType": "OUTPUT2",
							}
						]
					}
				]
			},
		)
		self.pull()
		original.reload()
		self.assertEqual((original.docstatus, flt(original.grand_total, 2)), (1, 115.0))
		conflict = self.attention_logs(invoice["InvoiceID"])[0]
		self.assertIn("conflict policy", conflict.message)
		self.assertIn("138", conflict.request)  # Xero's version ...
		self.assertIn("115", conflict.response)  # ... and ERPNext's, for a person to decide

		self.set_policy("Xero wins")
		self.pull()
		original.reload()
		self.assertEqual(original.docstatus, 2)
		amended = self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice")
		self.assertEqual(
			(amended.amended_from, amended.docstatus, flt(amended.grand_total, 2)), (original.name, 1, 138.0)
		)
		self.assertEqual(self.ledger(amended.name)[f"Debtors - {ABBR}"], Decimal("138.00"))
		self.assertFalse(
			frappe.db.exists("Xero Outbox", {"reference_name": ("in", [original.name, amended.name])})
		)

	def test_a_line_edit_in_xero_that_keeps_the_total_is_noticed(self):
		contact = self.contact("Same Total")
		invoice = self.invoice(contact, [(1, 100, "200", "OUTPUT2")], number="LINE")
		self.pull()
		original = self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice")
		edited = {"Description": "Two halves", "Quantity": 2, "UnitAmount": 50}
		self.xero_request(
			"POST",
			f"Invoices/{invoice['InvoiceID']}",
			{"Invoices": [{"LineItems": [{**edited, "AccountCode": "200", "TaxType": "OUTPUT2"}]}]},
		)
		self.pull()
		conflict = self.attention_logs(invoice["InvoiceID"])
		self.assertTrue(conflict and "conflict policy" in conflict[0].message, conflict)
		self.assertEqual(original.reload().items[0].qty, 1)

		self.set_policy("Xero wins")
		self.pull()
		amended = self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice")
		self.assertEqual(amended.amended_from, original.name)
		self.assertEqual(
			(amended.items[0].qty, flt(amended.items[0].rate, 2), flt(amended.grand_total, 2)),
			(2, 50.0, 115.0),
		)
		# A payment changes the invoice in Xero, not what it books: no conflict, no new amendment.
		self.set_policy("ERPNext wins")
		self.payment(invoice, 15)
		before = len(self.attention_logs(invoice["InvoiceID"]))
		self.pull()
		self.assertEqual(len(self.attention_logs(invoice["InvoiceID"])), before)
		self.assertEqual(
			self.document_of("Invoice", invoice["InvoiceID"], "Sales Invoice").name, amended.name
		)

	def test_bad_input_is_reported_with_the_xero_id_and_what_to_fix(self):
		applier = pull.Applier(self.tenant)
		nameless = {
			"ContactID": f"00000000-0000-4000-8000-{self.run_id:0>12}",
			"Name": "  ",
			"UpdatedDateUTC": "/Date(0+0000)/",
		}
		self.assertFalse(applier.apply("Contact", nameless).ok)
		self.assertIn("has no name", self.attention_logs(nameless["ContactID"])[0].message)

		contact = self.contact("Kiwi Buyer")
		invoice = self.invoice(
			contact, [(1, 10, "200", "OUTPUT2")], number="NZD", CurrencyCode="NZD", CurrencyRate=1.6
		)
		enabled = frappe.db.get_value("Currency", "NZD", "enabled")
		frappe.db.set_value("Currency", "NZD", "enabled", 0)
		try:
			self.pull()
		finally:
			frappe.db.set_value("Currency", "NZD", "enabled", enabled)
			frappe.db.commit()
		self.assertFalse(self.linked("Invoice", invoice["InvoiceID"]))
		self.assertIn("NZD", self.attention_logs(invoice["InvoiceID"])[0].message)

		untaxed = self.invoice(
			contact, [(1, 10, "200", "ZERORATED"), (1, 5, "200", "EXEMPTOUTPUT")], number="TAX"
		)
		self.pull()
		self.assertEqual(self.document_of("Invoice", untaxed["InvoiceID"], "Sales Invoice").grand_total, 15)
