"""Tier 2: the books agree — currencies, several companies, and a reconciliation after a mixed run."""

from decimal import Decimal

import frappe
from frappe.utils import flt

from xero_integration.sync import links
from xero_integration.testing import (
	ABBR,
	COMPANY,
	XeroTestCase,
	ensure_company,
	expense_account,
	make_advance,
	make_customer,
	make_payment,
	make_payment_with_deduction,
	make_purchase_invoice,
	make_sales_invoice,
	make_supplier,
	mode_of_payment_account,
	receivable_account,
	reconcile,
	tax_mappings,
	unreconcile,
	write_off,
)
from xero_integration.xero_integration.report.xero_reconciliation import xero_reconciliation

SECOND_COMPANY, SECOND_ABBR = "Xero Second Company", "XSC"
BAD_DEBTS = "Xero Bad Debts"  # mapped to 415, an account Xero takes payments from
UNPAYABLE = "Xero Write Off"  # mapped to 400, one it takes none from: write-offs are credit notes


def euro_invoice(customer: str, hours: int):
	"""A EUR invoice in the USD company, at ERPNext's 1.1 USD per EUR."""
	return make_sales_invoice(
		customer,
		lines=((hours, 45.5),),
		tax_rate=15,
		currency="EUR",
		conversion_rate=1.1,
		debit_to=receivable_account("EUR"),
	)


class BooksTestCase(XeroTestCase):
	"""Two companies in two currencies, each linked to its own organisation, with what every way of settling
	an invoice needs (a write-off account Xero takes payments from, cash for paid-at-once invoices), and the
	checks an accountant makes after a sync: per document, per party, and the Xero Reconciliation report."""

	organisations = (("US Org", "USD"), ("EU Org", "EUR"))

	@classmethod
	def link_organisations(cls):
		ensure_company(SECOND_COMPANY, SECOND_ABBR, "EUR")
		cls.us, cls.eu = cls.xero.tenants
		for tenant, company, abbr in ((cls.us, COMPANY, ABBR), (cls.eu, SECOND_COMPANY, SECOND_ABBR)):
			mode_of_payment_account("Cash", f"Cash - {abbr}", company)
			cls.xero.link_company(
				tenant,
				company,
				tax_mappings=tax_mappings(abbr),
				# 415 Bad Debts takes payments in Xero (the emulator's seed, as in Xero's demo company).
				account_mappings=[
					{"account": expense_account(BAD_DEBTS, company), "xero_account_code": "415"},
					{"account": expense_account(UNPAYABLE, company), "xero_account_code": "400"},
				],
			)

	def drain(self, *tenants):
		super().drain(*(tenants or (self.us, self.eu)))

	def assert_books_agree(self, tenant: str, documents, parties, *, report: bool = True):
		"""documents: this organisation's invoices, bills, returns and debit notes; parties: (doctype,
		name) of their customers and suppliers. Checked in the documents' own currency; with report, the
		Xero Reconciliation report too."""
		for doc in documents:
			self.assert_document_agrees(tenant, doc.reload())
		company = frappe.db.get_value("Xero Organisation", tenant, "company")
		for doctype, party in parties:
			label = f"{doctype} {party} in {company}"
			self.assertEqual(
				self.xero_balance(tenant, doctype, party),
				self.erpnext_balance(company, doctype, party),
				label,
			)
			self.assertEqual(
				self.xero_unallocated(tenant, doctype, party),
				self.erpnext_unallocated(company, doctype, party),
				f"unallocated advances of {label}",
			)
		if report:
			self.assert_report_agrees(tenant, {party for _doctype, party in parties})

	def assert_document_agrees(self, tenant: str, doc):
		record = self.xero_record(tenant, doc)
		if doc.docstatus == 2:
			# Cancelled before it was ever sent leaves nothing in Xero, which is as it should be.
			self.assertIn(record and record["Status"], (None, "VOIDED", "DELETED"), doc.name)
			return
		self.assertIsNotNone(record, f"{doc.name} is not in Xero")
		outstanding = abs(Decimal(str(flt(doc.outstanding_amount, 2))))
		due = record.get("RemainingCredit") if doc.is_return else record.get("AmountDue")
		self.assertEqual(Decimal(str(due)), outstanding, f"{doc.name}: Xero's amount due")
		self.assertEqual(record["Status"], "AUTHORISED" if outstanding else "PAID", doc.name)

	def xero_record(self, tenant: str, doc) -> dict | None:
		xero_id = links.xero_ids_of(tenant, doc.doctype, [doc.name], ("Invoice", "CreditNote")).get(doc.name)
		if not xero_id:
			return None
		org = self.emulator.org(tenant)
		return org.credit_notes.get(xero_id) if doc.is_return else org.invoices.get(xero_id)

	def assert_report_agrees(self, tenant: str, parties: set):
		"""Xero Reconciliation, per document and per party balance, shows no difference for these parties."""
		for view in ("Invoices", "Balances"):
			_columns, rows = xero_reconciliation.execute({"organisation": tenant, "view": view})
			differences = [
				(row.get("reference_name") or row["party"], row["differences"])
				for row in rows
				if row["party"] in parties and row["differences"]
			]
			self.assertEqual(differences, [], f"Xero Reconciliation ({view})")

	def xero_balance(self, tenant: str, doctype: str, party: str) -> Decimal:
		"""What the party owes (or is owed) in Xero: amounts due less unallocated credit."""
		contact_id = self.contact_id(tenant, doctype, party)
		org = self.emulator.org(tenant)
		return sum(
			(
				Decimal(str(i["AmountDue"]))
				for i in org.invoices.values()
				if i["Contact"]["ContactID"] == contact_id and i["Status"] in ("AUTHORISED", "PAID")
			),
			Decimal(0),
		) - sum(
			(
				Decimal(str(c.get("RemainingCredit", 0)))
				for c in org.credit_notes.values()
				if c["Contact"]["ContactID"] == contact_id and c["Status"] == "AUTHORISED"
			),
			Decimal(0),
		)

	def contact_id(self, tenant: str, doctype: str, party: str) -> str:
		return frappe.db.get_value(
			"Xero Document Link",
			{"organisation": tenant, "reference_doctype": doctype, "reference_name": party},
			"xero_id",
		)

	def erpnext_balance(self, company: str, doctype: str, party: str) -> Decimal:
		"""The same in ERPNext, in the documents' own currency: the outstanding of submitted invoices,
		returns and debit notes included (a return not set against its invoice is negative)."""
		field = "customer" if doctype == "Customer" else "supplier"
		outstanding = frappe.get_all(
			"Sales Invoice" if doctype == "Customer" else "Purchase Invoice",
			filters={field: party, "company": company, "docstatus": 1},
			pluck="outstanding_amount",
		)
		return sum((Decimal(str(flt(amount, 2))) for amount in outstanding), Decimal(0))

	def xero_unallocated(self, tenant: str, doctype: str, party: str) -> Decimal:
		"""The party's overpayments and prepayments not yet allocated to invoices, in Xero."""
		contact_id = self.contact_id(tenant, doctype, party)
		org = self.emulator.org(tenant)
		return sum(
			(
				Decimal(str(credit.get("RemainingCredit", 0)))
				for credit in (*org.overpayments.values(), *org.prepayments.values())
				if credit["Contact"]["ContactID"] == contact_id and credit["Status"] == "AUTHORISED"
			),
			Decimal(0),
		)

	def erpnext_unallocated(self, company: str, doctype: str, party: str) -> Decimal:
		"""The same in ERPNext, as Payment Reconciliation lists it: what submitted Payment Entries of the
		party leave unallocated, and journal rows on the party's account that settle no document."""
		amounts = frappe.get_all(
			"Payment Entry",
			filters={"party_type": doctype, "party": party, "company": company, "docstatus": 1},
			pluck="unallocated_amount",
		)
		(journals,) = frappe.db.sql(
			"""select coalesce(sum(row.credit_in_account_currency - row.debit_in_account_currency), 0)
			from `tabJournal Entry Account` row join `tabJournal Entry` je on je.name = row.parent
			where je.docstatus = 1 and je.company = %s and row.party_type = %s and row.party = %s
			and coalesce(row.reference_name, '') = ''""",
			(company, doctype, party),
		)[0]
		sign = 1 if doctype == "Customer" else -1
		return sum((Decimal(str(flt(amount, 2))) for amount in amounts), Decimal(0)) + sign * Decimal(
			str(flt(journals, 2))
		)


class TestLedger(BooksTestCase):
	def test_foreign_currency_invoice_carries_xeros_rate_convention(self):
		euro_customer = make_customer(
			"Euro Customer",
			default_currency="EUR",
			accounts=[{"company": COMPANY, "account": receivable_account("EUR")}],
		)
		invoice = euro_invoice(euro_customer, 2)
		base = make_sales_invoice(make_customer("Dollar Customer"), lines=((1, 10),))
		self.drain(self.us)
		xero = self.xero_invoice(invoice.name, self.us)
		self.assertEqual(xero["CurrencyCode"], "EUR")
		# ERPNext: 1.1 USD per EUR. Xero: EUR per 1 USD of the organisation's base currency.
		self.assertEqual(
			Decimal(str(xero["CurrencyRate"])).quantize(Decimal("0.000001")), Decimal("0.909091")
		)
		self.assertEqual(
			Decimal(str(xero["Total"])), Decimal(str(flt(invoice.rounded_total or invoice.grand_total, 2)))
		)
		# A base-currency invoice sends no rate at all (Xero then keeps 1 itself).
		sent = frappe.db.get_value(
			"Xero Sync Log", {"reference_name": base.name, "status": "Success"}, "request"
		)
		self.assertNotIn("CurrencyRate", sent)
		self.assertIn(
			"CurrencyRate", frappe.db.get_value("Xero Sync Log", {"reference_name": invoice.name}, "request")
		)

	def test_currency_not_enabled_in_xero_is_reported_before_sending(self):
		if not frappe.db.get_value("Currency", "GBP", "enabled"):
			frappe.db.set_value("Currency", "GBP", "enabled", 1)
		customer = make_customer(
			"Pound Customer",
			default_currency="GBP",
			accounts=[{"company": COMPANY, "account": receivable_account("GBP")}],
		)
		invoice = make_sales_invoice(
			customer, currency="GBP", conversion_rate=1.3, debit_to=receivable_account("GBP")
		)
		posts = self.emulator.call_count("POST", "/api.xro/2.0/Invoices")
		self.drain(self.us)
		self.assertEqual(self.emulator.call_count("POST", "/api.xro/2.0/Invoices"), posts)
		message = frappe.db.get_value(
			"Xero Outbox", {"reference_name": invoice.name, "status": "Needs Attention"}, "last_error"
		)
		self.assertIn("GBP", message)

	def test_each_company_syncs_only_with_its_own_organisation_and_failures_stay_there(self):
		customer = make_customer("Two Company Customer")
		ours = make_sales_invoice(customer, lines=((1, 70),), tax_rate=15)
		theirs = make_sales_invoice(
			customer,
			lines=((1, 80),),
			company=SECOND_COMPANY,
			currency="EUR",
			debit_to=f"Debtors - {SECOND_ABBR}",
		)
		# An account the EU organisation has no mapping for parks that invoice, not the US queue.
		broken = make_sales_invoice(
			customer,
			lines=((1, 5),),
			company=SECOND_COMPANY,
			currency="EUR",
			taxes=[
				{
					"charge_type": "Actual",
					"account_head": f"Input Tax - {SECOND_ABBR}",
					"description": "Levy",
					"tax_amount": 3,
					"cost_center": f"Main - {SECOND_ABBR}",
				}
			],
		)
		self.drain()
		self.xero_invoice(ours.name, self.us)
		self.xero_invoice(theirs.name, self.eu)
		self.assertFalse(
			[i for i in self.emulator.org(self.us).invoices.values() if i["InvoiceNumber"] == theirs.name]
		)
		self.assertFalse(
			[i for i in self.emulator.org(self.eu).invoices.values() if i["InvoiceNumber"] == ours.name]
		)
		self.assertEqual(
			frappe.db.get_value(
				"Xero Outbox", {"reference_name": broken.name, "object_type": "Invoice"}, "status"
			),
			"Needs Attention",
		)
		log = frappe.get_all(
			"Xero Sync Log",
			filters={"reference_name": broken.name},
			fields=["organisation", "company", "message"],
		)[0]
		self.assertEqual((log.organisation, log.company), (self.eu, SECOND_COMPANY))

	def test_every_way_of_settling_leaves_the_books_equal_in_two_companies_and_currencies(self):
		"""Payments in part and in full, in and out and in a foreign currency; returns and debit notes;
		write-offs by journal (as payments, and as credit notes); a payment with a deduction; advances allocated by Payment Reconciliation
		and by a bill's advances table, and one unreconciled; a return applied to another invoice; a POS
		invoice and a bill paid at once; cancelled invoices and bills. Then, per document, per party and
		in the Xero Reconciliation report, ERPNext and Xero agree."""
		run = frappe.generate_hash(length=6)
		euro_customer = make_customer(
			f"Reconciled Euro Customer {run}",
			default_currency="EUR",
			accounts=[{"company": COMPANY, "account": receivable_account("EUR")}],
		)
		for tenant, company, abbr, currency in (
			(self.us, COMPANY, ABBR, "USD"),
			(self.eu, SECOND_COMPANY, SECOND_ABBR, "EUR"),
		):
			with self.subTest(company=company):
				customer = make_customer(f"Reconciled Customer {abbr} {run}")
				supplier = make_supplier(f"Reconciled Supplier {abbr} {run}")
				documents = self.settle_every_way(company, abbr, currency, customer, supplier, run)
				parties = [("Customer", customer), ("Supplier", supplier)]
				if company == COMPANY:
					foreign = euro_invoice(euro_customer, 3)
					self.drain()
					make_payment(foreign, 20)
					self.drain()
					documents.append(foreign)
					parties.append(("Customer", euro_customer))
				self.assert_books_agree(tenant, documents, parties)
				# The unreconciled deposit is the customer's credit, shown as such on both sides.
				_columns, rows = xero_reconciliation.execute({"organisation": tenant, "view": "Balances"})
				(row,) = [row for row in rows if row["party"] == customer]
				self.assertEqual((row["erpnext_unallocated"], row["xero_unallocated"]), (30, 30))

	def settle_every_way(self, company, abbr, currency, customer, supplier, run) -> list:
		"""Invoices and bills of one company, each settled (or not) another way; returns them all."""
		from erpnext.accounts.doctype.purchase_invoice.purchase_invoice import make_debit_note
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		in_company = {"company": company, "currency": currency}
		sales = [
			make_sales_invoice(
				customer, lines=((1 + i, 19.99),), tax_rate=15, debit_to=f"Debtors - {abbr}", **in_company
			)
			for i in range(10)
		]
		bills = [
			make_purchase_invoice(
				supplier,
				lines=((2 + i, 7.45),),
				tax_rate=15,
				bill_no=f"SUP-{abbr}-{run}-{i}",
				credit_to=f"Creditors - {abbr}",
				**in_company,
			)
			for i in range(3)
		]
		deposit = make_advance("Customer", customer, 100, company=company)
		unreconciled = make_advance("Customer", customer, 30, company=company)
		make_advance("Supplier", supplier, 20, company=company)
		self.drain()

		make_payment(sales[0], 10)
		make_payment(sales[1])
		full_return = make_sales_return(sales[2].name).insert()
		full_return.submit()
		sales[3].reload().cancel()
		write_off(sales[4].reload(), sales[4].outstanding_amount, f"{BAD_DEBTS} - {abbr}")
		write_off(sales[9].reload(), 20, f"{UNPAYABLE} - {abbr}")  # a credit note in Xero
		make_payment_with_deduction(sales[5], 5, f"{BAD_DEBTS} - {abbr}")
		reconcile("Customer", customer, deposit.name, sales[6].name, company)  # 100 on 160.91
		reconcile("Customer", customer, unreconciled.name, sales[7].name, company)
		credit = make_sales_return(sales[8].name)  # one unit back, kept as credit, then applied to sales[0]
		credit.items[0].qty, credit.update_outstanding_for_self = -1, 1
		credit.insert().submit()
		reconcile("Customer", customer, credit.name, sales[0].name, company)
		make_payment(bills[0], 10)
		debit_note = make_debit_note(bills[1].name).insert()
		debit_note.submit()
		bills[2].reload().cancel()
		bill = make_purchase_invoice(
			supplier,
			lines=((1, 50),),
			submit=False,
			bill_no=f"SUP-{abbr}-{run}-advance",
			credit_to=f"Creditors - {abbr}",
			**in_company,
		)
		bill.allocate_advances_automatically = 0
		bill.set_advances()
		bill.advances[0].allocated_amount = 20
		bill.save()
		bill.submit()
		paid_bill = make_purchase_invoice(
			supplier,
			lines=((3, 10),),
			submit=False,
			is_paid=1,
			mode_of_payment="Cash",
			cash_bank_account=f"Cash - {abbr}",
			bill_no=f"SUP-{abbr}-{run}-paid",
			credit_to=f"Creditors - {abbr}",
			**in_company,
		)
		paid_bill.paid_amount = 30
		paid_bill.submit()
		pos = make_sales_invoice(
			customer,
			lines=((2, 12.5),),
			submit=False,
			is_pos=1,
			debit_to=f"Debtors - {abbr}",
			payments=[{"mode_of_payment": "Cash", "account": f"Cash - {abbr}", "amount": 25}],
			**in_company,
		)
		pos.submit()
		self.drain()
		unreconcile(unreconciled.name, sales[7].name, company)
		self.drain()
		return [*sales, *bills, bill, paid_bill, pos, full_return, credit, debit_note]
