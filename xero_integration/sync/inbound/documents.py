"""The one write path of a document from Xero, and the one place that books a pulled invoice's rounding
row.

Every document the pull creates or changes is saved here, flagged from_xero so that sync/events.py never
queues it back. A Sales or Purchase Invoice from Xero also gets its rounding row (what ERPNext, rounding
each tax row once, totals short of Xero's per-line rounding), is checked to the cent against Xero's total
and is submitted when Xero says it is approved: a document that does not total what Xero says is never
recorded.
"""

from contextlib import contextmanager
from decimal import Decimal

import frappe
from frappe import _
from frappe.utils import flt

from xero_integration.core import parties
from xero_integration.core.mapping.invoice import ROUNDING_DESCRIPTION, PulledDocument
from xero_integration.core.money import money
from xero_integration.sync.inbound.base import NeedsAttention

# Per-line rounding can leave a cent a line between Xero's total and ERPNext's recomputation.
ROUNDING_CENTS_PER_LINE = Decimal("0.01")


def save(doc, *, name: str | None = None):
	"""Insert or save a document as the pull writes it: flagged from Xero (no echo), permissions aside
	(the job runs as the integration user). name: the name a new document takes if still free."""
	doc.flags.from_xero = True
	if doc.get("name") and not doc.get("__islocal"):
		doc.save(ignore_permissions=True)
	elif name and not frappe.db.exists(doc.doctype, name):
		doc.insert(ignore_permissions=True, set_name=name)
	else:
		doc.insert(ignore_permissions=True)
	return doc


def save_invoice(doc, pulled: PulledDocument, record: dict, *, name: str | None = None):
	"""Save a Sales or Purchase Invoice (or return) from Xero with its rounding row, check its total
	against Xero's to the cent, and submit it when Xero says so."""
	if pulled.rounding and not rounding_row_of(doc):
		doc.append("taxes", rounding_tax_row(doc, pulled.rounding, pulled.rounding_account))
	save(doc, name=name)
	book_rounding_difference(doc, record)
	check_total(doc, record)
	if pulled.docstatus == 1:
		submit(doc)
	return doc


def submit(doc) -> None:
	doc.flags.from_xero = True
	doc.submit()


def cancel(doc) -> None:
	doc.flags.from_xero = True
	doc.cancel()


def delete(doc) -> None:
	frappe.delete_doc(doc.doctype, doc.name, ignore_permissions=True, flags={"from_xero": True})


@contextmanager
def writing_from_xero():
	"""ERPNext's own tools (reconciling an advance, unreconciling it) save documents the pull does not
	hold: while they run for the pull, all they write counts as from Xero (sync/events.py)."""
	before = frappe.flags.get("from_xero")
	frappe.flags.from_xero = True
	try:
		yield
	finally:
		frappe.flags.from_xero = before


def payment_entry(values: dict, *, company: str, party: str, party_account: str, cost_center=None):
	"""A new, unsaved Payment Entry of a pulled payment's mapped values (core mapping entry_values) between
	the party's account and the bank."""
	from erpnext.accounts.doctype.account.account import get_account_currency

	receive = values["payment_type"] == "Receive"
	bank = values.get("paid_to") if receive else values.get("paid_from")
	entry = frappe.new_doc("Payment Entry")
	entry.update(
		{
			"payment_type": values["payment_type"],
			"company": company,
			"cost_center": cost_center,
			"party_type": values["party_type"],
			"party": party,
			"paid_from": party_account if receive else bank,
			"paid_to": bank if receive else party_account,
			f"paid_{'from' if receive else 'to'}_account_currency": get_account_currency(party_account),
			"posting_date": values["posting_date"],
			"reference_no": values["reference_no"],
			"reference_date": values["reference_date"],
			"paid_amount": flt(values["paid_amount"], 2),
			"received_amount": flt(values["received_amount"], 2),
			"source_exchange_rate": flt(values["source_exchange_rate"], 9),
			"target_exchange_rate": flt(values["target_exchange_rate"], 9),
		}
	)
	return entry


def rounding_row_of(doc):
	return next((tax for tax in doc.taxes if tax.description == ROUNDING_DESCRIPTION), None)


def rounding_tax_row(doc, amount: Decimal, account: str | None) -> dict:
	row = {
		"charge_type": "Actual",
		"account_head": account or frappe.get_cached_value("Company", doc.company, "round_off_account"),
		"description": ROUNDING_DESCRIPTION,
		"tax_amount": float(amount),
		"cost_center": frappe.get_cached_value("Company", doc.company, "round_off_cost_center")
		or frappe.get_cached_value("Company", doc.company, "cost_center"),
	}
	if doc.doctype == parties.PURCHASE.invoice:
		row.update({"category": "Total", "add_deduct_tax": "Add"})
	return row


def book_rounding_difference(doc, record: dict) -> None:
	"""What ERPNext's own totalling still leaves between it and Xero's total (its rates are kept at its
	precision): when a few cents, add it to the rounding row and say so on the document. Never absorb it
	silently, never let a real difference through (anything larger is left for check_total to refuse)."""
	if record.get("Total") is None:
		return
	difference = xero_total(record) - money(flt(doc.grand_total, 2))
	if not difference or abs(difference) > ROUNDING_CENTS_PER_LINE * max(len(doc.items), 1):
		return
	existing = rounding_row_of(doc)
	if existing:
		# One rounding row per document: the mapping's own row absorbs what ERPNext rounded differently.
		existing.tax_amount = float(money(existing.tax_amount) + difference)
	else:
		doc.append("taxes", rounding_tax_row(doc, difference, None))
	save(doc)
	doc.add_comment(
		"Comment",
		_("Rounding adjustment of {0} booked so that the total equals Xero's {1}.").format(
			difference, xero_total(record)
		),
	)


def check_total(doc, record: dict) -> None:
	"""The ERPNext document must total what Xero says, to the cent, or it is not recorded at all."""
	if record.get("Total") is None:
		return
	expected = xero_total(record)
	actual = money(flt(doc.grand_total, 2))
	if actual != expected:
		raise NeedsAttention(
			_("ERPNext totals it {0} but Xero {1}: check the tax and account mappings of its lines.").format(
				actual, expected
			),
			erpnext_version(doc),
		)


def xero_total(record: dict) -> Decimal:
	sign = -1 if record.get("Type", "").endswith("CREDIT") else 1
	return sign * money(record.get("Total"))


def erpnext_version(doc) -> dict:
	"""ERPNext's side of a conflict, for the log beside Xero's."""
	party_field = parties.of_invoice(doc.doctype).party_field
	return {
		"doctype": doc.doctype,
		"name": doc.name,
		"docstatus": doc.docstatus,
		party_field: doc.get(party_field),
		"posting_date": str(doc.posting_date),
		"currency": doc.currency,
		"grand_total": flt(doc.grand_total, 2),
		"items": [
			{"item_name": i.item_name, "qty": i.qty, "rate": i.rate, "amount": i.amount} for i in doc.items
		],
	}
