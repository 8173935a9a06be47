"""Xero Reconciliation: ERPNext against Xero for one organisation and period, per invoice (status, total,
amount due) or per customer/supplier balance. A prepared report: Xero is read in a background job.

Who runs it must be allowed to read the organisation's Company; the ERPNext side lists the invoices they
may read, and the Xero records of invoices they may not read are left out (not shown as only in Xero).

Amounts compare in the document's currency; credit notes (ERPNext returns) compare as positive
amounts, as Xero keeps them. Balances sum the period's documents on each side: what is still owed; and
the unallocated credit of each party (advances: unallocated.py) beside it.
"""

from collections import defaultdict
from decimal import Decimal

import frappe
from frappe import _
from frappe.utils import add_months, flt, getdate, nowdate

from xero_integration.core import parties
from xero_integration.core.deeplinks import xero_url
from xero_integration.core.money import from_xero_date
from xero_integration.core.objects import OBJECTS
from xero_integration.core.parties import INVOICE_DOCTYPES
from xero_integration.sync import connection, links
from xero_integration.xero_integration.report.xero_reconciliation import unallocated

VOID_STATUSES = ("VOIDED", "DELETED")
OPEN_STATUSES = ("AUTHORISED", "SUBMITTED", "DRAFT")


def execute(filters=None):
	filters = frappe._dict(filters or {})
	if not filters.organisation:
		frappe.throw(_("Pick a Xero organisation."))
	company = frappe.db.get_value("Xero Organisation", filters.organisation, "company")
	if not company:
		frappe.throw(_("Link the Xero organisation to a Company first."))
	frappe.has_permission("Company", "read", company, throw=True)
	filters.to_date = getdate(filters.to_date or nowdate())
	filters.from_date = getdate(filters.from_date or add_months(filters.to_date, -1))
	rows = invoice_rows(filters)
	if filters.view == "Balances":
		return balance_columns(), balance_rows(rows, unallocated_credit(filters, company))
	return invoice_columns(), rows


# ---- invoices --------------------------------------------------------------------------------------


def invoice_rows(filters) -> list[dict]:
	organisation = frappe.get_doc("Xero Organisation", filters.organisation)
	documents = erpnext_documents(organisation.company, filters.from_date, filters.to_date)
	linked = xero_ids(organisation.name, documents)
	xero = XeroRecords(organisation.name)
	records = xero.between(filters.from_date, filters.to_date)
	records.update(xero.by_id(set(linked.values()) - set(records)))
	rows = []
	for doc in documents:
		xero_id = linked.get((doc.doctype, doc.name))
		rows.append(compare(doc, records.pop(xero_id, None) if xero_id else None, organisation))
	for xero_id in unreadable(organisation.name, set(records)):
		del records[xero_id]
	# A journal's write-off credit note is the journal's, not a document only in Xero.
	for link in links.documents_of_records(organisation.name, ("Journal Entry",), list(records)):
		records.pop(link.xero_id, None)
	rows.extend(
		xero_only_row(record, organisation)
		for record in records.values()
		if record.get("Status") not in VOID_STATUSES
	)
	return rows


def erpnext_documents(company: str, from_date, to_date) -> list[dict]:
	documents = []
	for doctype in INVOICE_DOCTYPES:
		for doc in frappe.get_list(
			doctype,
			filters={
				"company": company,
				"docstatus": ("in", (1, 2)),
				"posting_date": ("between", (from_date, to_date)),
			},
			fields=[
				"name",
				"posting_date",
				"status",
				"docstatus",
				"is_return",
				"currency",
				"grand_total",
				"rounded_total",
				"outstanding_amount",
				f"{parties.of_invoice(doctype).party_field} as party",
			],
			order_by="posting_date, name",
		):
			doc.doctype = doctype
			documents.append(doc)
	return documents


def xero_ids(organisation: str, documents: list[dict]) -> dict[tuple[str, str], str]:
	ids = {}
	for doctype in INVOICE_DOCTYPES:
		names = [doc.name for doc in documents if doc.doctype == doctype]
		for name, xero_id in links.xero_ids_of(
			organisation, doctype, names, ("Invoice", "CreditNote")
		).items():
			ids[(doctype, name)] = xero_id
	return ids


def unreadable(organisation: str, xero_ids: set[str]) -> set[str]:
	"""Those of these Xero records that belong to ERPNext documents the user may not read."""
	if not xero_ids:
		return set()
	records = links.documents_of_records(organisation, INVOICE_DOCTYPES, list(xero_ids))
	readable = set()
	for doctype in INVOICE_DOCTYPES:
		if names := [link.reference_name for link in records if link.reference_doctype == doctype]:
			readable.update(
				(doctype, name)
				for name in frappe.get_list(doctype, filters={"name": ("in", names)}, pluck="name")
			)
	return {link.xero_id for link in records if (link.reference_doctype, link.reference_name) not in readable}


class XeroRecords:
	"""Xero's invoices, bills and credit notes, by id, each marked with its kind."""

	def __init__(self, organisation: str):
		self.client = connection.client_for(organisation)

	def between(self, from_date, to_date) -> dict[str, dict]:
		where = f"Date >= {xero_date(from_date)} && Date <= {xero_date(to_date)}"
		return {
			**self.marked("Invoice", self.client.list_all("Invoice", where=where)),
			**self.marked("CreditNote", self.client.list_all("CreditNote", where=where)),
		}

	def by_id(self, ids: set[str]) -> dict[str, dict]:
		"""Linked records dated outside the period in Xero (a changed date is itself a difference)."""
		records = self.marked("Invoice", self.client.by_ids("Invoice", ids).values())
		missing = {xero_id for xero_id in ids if xero_id.lower() not in {r.lower() for r in records}}
		return {**records, **self.marked("CreditNote", self.client.by_ids("CreditNote", missing).values())}

	@staticmethod
	def marked(kind: str, records) -> dict[str, dict]:
		return {record[OBJECTS[kind].id_key]: {**record, "_object": kind} for record in records}


def xero_date(day) -> str:
	day = getdate(day)
	return f"DateTime({day.year}, {day.month:02d}, {day.day:02d})"


def compare(doc, record: dict | None, organisation) -> dict:
	total = abs(flt(doc.rounded_total or doc.grand_total, 2))
	# A cancelled document owes nothing, whatever outstanding amount it kept from before its cancel.
	outstanding = abs(flt(doc.outstanding_amount, 2)) if doc.docstatus == 1 else 0.0
	row = {
		"reference_doctype": doc.doctype,
		"reference_name": doc.name,
		"party_type": parties.of_invoice(doc.doctype).party,
		"party": doc.party,
		"posting_date": doc.posting_date,
		"currency": doc.currency,
		"erpnext_status": doc.status,
		"erpnext_total": total,
		"erpnext_outstanding": outstanding,
		"signed": -1 if doc.is_return else 1,
	}
	if record is None:
		# Cancelled before it was ever sent: nothing in Xero is what should be.
		row["differences"] = "" if doc.docstatus == 2 else _("Not in Xero")
		return row
	row.update(xero_values(record, organisation, doc.doctype))
	differences = []
	if expected_status(doc, outstanding) != status_group(row["xero_status"]):
		differences.append(_("Status"))
	if doc.docstatus == 1:
		if Decimal(str(total)) != Decimal(str(row["xero_total"])):
			differences.append(_("Total"))
		if Decimal(str(outstanding)) != Decimal(str(row["xero_amount_due"])):
			differences.append(_("Amount Due"))
	row["differences"] = ", ".join(differences)
	return row


def xero_values(record: dict, organisation, doctype: str | None = None) -> dict:
	credit_note = record["_object"] == "CreditNote"
	xero_id = record["CreditNoteID" if credit_note else "InvoiceID"]
	due = record.get("RemainingCredit") if credit_note else record.get("AmountDue")
	return {
		"xero_status": record.get("Status"),
		"xero_total": flt(record.get("Total"), 2),
		"xero_amount_due": flt(due, 2),
		"xero_date": from_xero_date(record.get("Date")),
		"xero_url": xero_url(organisation.short_code, record["_object"], xero_id, doctype),
		"xero_id": xero_id,
	}


def expected_status(doc, outstanding: float) -> str:
	if doc.docstatus == 2:
		return "void"
	return "open" if outstanding else "paid"


def status_group(xero_status: str | None) -> str:
	if xero_status in VOID_STATUSES:
		return "void"
	return "open" if xero_status in OPEN_STATUSES else "paid"


def xero_only_row(record: dict, organisation) -> dict:
	side = parties.of_xero_type(record.get("Type"))
	values = xero_values(record, organisation, side.invoice)
	contact = record.get("Contact") or {}
	party_type = side.party
	party_links = contact.get("ContactID") and links.links_of_record(
		organisation.name, "Contact", contact["ContactID"], party_type
	)
	party = party_links[0].reference_name if party_links else None
	return {
		"party_type": party_type,
		"party": party or contact.get("Name"),
		"posting_date": values["xero_date"],
		"currency": record.get("CurrencyCode"),
		"signed": -1 if record["_object"] == "CreditNote" else 1,
		"differences": _("Only in Xero: {0}").format(
			record.get("InvoiceNumber") or record.get("CreditNoteNumber") or values["xero_id"]
		),
		**values,
	}


def invoice_columns() -> list[dict]:
	return [
		{
			"fieldname": "reference_doctype",
			"label": _("Type"),
			"fieldtype": "Link",
			"options": "DocType",
			"width": 120,
		},
		{
			"fieldname": "reference_name",
			"label": _("Document"),
			"fieldtype": "Dynamic Link",
			"options": "reference_doctype",
			"width": 170,
		},
		{"fieldname": "party_type", "label": _("Party Type"), "fieldtype": "Data", "hidden": 1},
		{
			"fieldname": "party",
			"label": _("Party"),
			"fieldtype": "Dynamic Link",
			"options": "party_type",
			"width": 160,
		},
		{"fieldname": "posting_date", "label": _("Date"), "fieldtype": "Date", "width": 100},
		{
			"fieldname": "currency",
			"label": _("Currency"),
			"fieldtype": "Link",
			"options": "Currency",
			"hidden": 1,
		},
		{"fieldname": "erpnext_status", "label": _("ERPNext Status"), "fieldtype": "Data", "width": 120},
		{"fieldname": "xero_status", "label": _("Xero Status"), "fieldtype": "Data", "width": 110},
		{
			"fieldname": "erpnext_total",
			"label": _("ERPNext Total"),
			"fieldtype": "Currency",
			"options": "currency",
			"width": 120,
		},
		{
			"fieldname": "xero_total",
			"label": _("Xero Total"),
			"fieldtype": "Currency",
			"options": "currency",
			"width": 120,
		},
		{
			"fieldname": "erpnext_outstanding",
			"label": _("ERPNext Outstanding"),
			"fieldtype": "Currency",
			"options": "currency",
			"width": 140,
		},
		{
			"fieldname": "xero_amount_due",
			"label": _("Xero Amount Due"),
			"fieldtype": "Currency",
			"options": "currency",
			"width": 130,
		},
		{"fieldname": "differences", "label": _("Differences"), "fieldtype": "Data", "width": 200},
		{"fieldname": "xero_url", "label": _("Open in Xero"), "fieldtype": "Data", "width": 110},
	]


# ---- balances --------------------------------------------------------------------------------------


def unallocated_credit(filters, company: str) -> dict[tuple, dict]:
	"""(party_type, party, currency) -> {"erpnext_unallocated", "xero_unallocated"}; Xero's only for
	parties the user may read."""
	erpnext = unallocated.erpnext_unallocated(company, filters.from_date, filters.to_date)
	xero = unallocated.xero_unallocated(
		connection.client_for(filters.organisation), filters.organisation, filters.from_date, filters.to_date
	)
	readable = set(erpnext)
	for party_type in unallocated.PARTY_TYPES:
		names = [key[1] for key in xero if key[0] == party_type and key not in readable]
		if names:
			allowed = set(frappe.get_list(party_type, filters={"name": ("in", names)}, pluck="name"))
			readable.update(key for key in xero if key[0] == party_type and key[1] in allowed)
	return {
		key: {"erpnext_unallocated": erpnext.get(key, 0.0), "xero_unallocated": xero.get(key, 0.0)}
		for key in set(erpnext) | set(xero)
		if key in readable
	}


def balance_rows(invoice_rows: list[dict], credit: dict[tuple, dict]) -> list[dict]:
	balances = defaultdict(
		lambda: {
			"erpnext_balance": 0.0,
			"xero_balance": 0.0,
			"erpnext_unallocated": 0.0,
			"xero_unallocated": 0.0,
		}
	)
	for row in invoice_rows:
		balance = balances[(row["party_type"], row["party"], row.get("currency"))]
		balance["erpnext_balance"] += row["signed"] * row.get("erpnext_outstanding", 0)
		if row.get("xero_status") not in VOID_STATUSES:
			balance["xero_balance"] += row["signed"] * row.get("xero_amount_due", 0)
	for key, amounts in credit.items():
		balances[key].update(amounts)
	rows = []
	for (party_type, party, currency), balance in sorted(balances.items(), key=lambda item: str(item[0])):
		erpnext, xero = flt(balance["erpnext_balance"], 2), flt(balance["xero_balance"], 2)
		erpnext_credit, xero_credit = (
			flt(balance["erpnext_unallocated"], 2),
			flt(balance["xero_unallocated"], 2),
		)
		differences = [_("Balance")] if erpnext != xero else []
		if erpnext_credit != xero_credit:
			differences.append(_("Unallocated"))
		rows.append(
			{
				"party_type": party_type,
				"party": party,
				"currency": currency,
				"erpnext_balance": erpnext,
				"xero_balance": xero,
				"difference": flt(erpnext - xero, 2),
				"erpnext_unallocated": erpnext_credit,
				"xero_unallocated": xero_credit,
				"differences": ", ".join(differences),
			}
		)
	return rows


def balance_columns() -> list[dict]:
	currency = {"fieldtype": "Currency", "options": "currency", "width": 150}
	return [
		{
			"fieldname": "party_type",
			"label": _("Party Type"),
			"fieldtype": "Link",
			"options": "DocType",
			"width": 110,
		},
		{
			"fieldname": "party",
			"label": _("Party"),
			"fieldtype": "Dynamic Link",
			"options": "party_type",
			"width": 200,
		},
		{
			"fieldname": "currency",
			"label": _("Currency"),
			"fieldtype": "Link",
			"options": "Currency",
			"width": 90,
		},
		{"fieldname": "erpnext_balance", "label": _("ERPNext Outstanding"), **currency},
		{"fieldname": "xero_balance", "label": _("Xero Amount Due"), **currency},
		{"fieldname": "difference", "label": _("Difference"), **currency},
		{"fieldname": "erpnext_unallocated", "label": _("ERPNext Unallocated"), **currency},
		{"fieldname": "xero_unallocated", "label": _("Xero Unallocated"), **currency},
		{"fieldname": "differences", "label": _("Differences"), "fieldtype": "Data", "hidden": 1},
	]
