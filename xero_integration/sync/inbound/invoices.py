"""Xero invoices, bills and credit notes into Sales and Purchase Invoices and their returns: created
(or linked to the document they already are), updated as drafts, cancelled when voided, and a submitted
document changed in Xero amended (cancel and amend) when the conflict policy lets Xero win."""

from decimal import Decimal
from typing import ClassVar

import frappe
from frappe import _
from frappe.utils import flt, get_datetime

from xero_integration.core import parties
from xero_integration.core.mapping.credit_note import credit_note_to_erpnext
from xero_integration.core.mapping.invoice import PulledDocument, invoice_to_erpnext
from xero_integration.core.money import money
from xero_integration.core.objects import OBJECTS
from xero_integration.core.pull import booked_hash, same_moment
from xero_integration.sync import links
from xero_integration.sync.inbound import documents
from xero_integration.sync.inbound.base import Inbound, NeedsAttention, Outcome, Result, pulls

DEFAULT_UOM = "Nos"
# Lines pulled from Xero may carry fractional quantities (hours, kilos); ERPNext's "Nos" refuses them.
FRACTIONAL_UOM = "Xero Unit"


class TransactionsIn(Inbound):
	APPLIES: ClassVar[dict] = {"Invoice": "apply_transaction", "CreditNote": "apply_transaction"}
	BRINGS_FIRST: ClassVar[dict] = {"Invoice": "bring_contacts_of", "CreditNote": "bring_contacts_of"}

	def bring_contacts_of(self, records: list[dict]) -> None:
		"""The contacts of these documents not linked yet, fetched together and applied."""
		ids = [(record.get("Contact") or {}).get("ContactID") for record in records]
		missing = links.unlinked(self.organisation, "Contact", ids)
		if missing and pulls("sync_contacts"):
			for contact in self.fetch("Contact", missing).values():
				self.apply("Contact", contact)

	def apply_transaction(self, record: dict) -> Outcome:
		kind = "CreditNote" if "CreditNoteID" in record else "Invoice"
		xero_id, stamp = record[OBJECTS[kind].id_key], record.get("UpdatedDateUTC")
		side = parties.of_xero_type(record.get("Type"))
		if not side or not pulls(side.sync_setting):
			return Outcome(xero_id, stamp, Result.SKIPPED)
		found = self.links_of(kind, xero_id)
		link = found[0] if found else None
		if not link and links.linked_xero_ids(self.organisation, [xero_id]):
			# What the app made in Xero for another document (a journal's write-off credit note) is its.
			return Outcome(xero_id, stamp, Result.UNCHANGED)
		if link and same_moment(link.xero_updated, stamp):
			return Outcome(xero_id, stamp, Result.ECHO)
		to_erpnext = invoice_to_erpnext if kind == "Invoice" else credit_note_to_erpnext
		pulled = to_erpnext(
			record, self.ctx, reverse_accounts=self.reverse_accounts, reverse_tax=self.reverse_tax
		)
		notes = rounding_note(pulled, record)
		number = record.get("InvoiceNumber") or record.get("CreditNoteNumber")
		if not link and pulled.docstatus == 2:
			return self.done(
				Result.SKIPPED,
				kind,
				record,
				None,
				None,
				_("{0} in Xero before it reached ERPNext: nothing to record.").format(record.get("Status")),
			)
		values = self.document_values(pulled)
		values[side.party_field] = self.party_for(pulled.contact_id, side.party)
		self.check_currency(values, number)
		if not link:
			matched = self.match_transaction(values, number)
			if matched:
				self.link(values["doctype"], matched, kind, record)
				return self.done(
					Result.LINKED,
					kind,
					record,
					values["doctype"],
					matched,
					_("Linked to the existing {0} {1} (same number).").format(values["doctype"], matched),
				)
			if kind == "CreditNote":
				values.update(self.return_against(pulled.allocated_invoice_ids, values["doctype"]))
			# A Sales Invoice keeps Xero's number; a bill's number is the supplier's (bill_no).
			doc = documents.save_invoice(
				frappe.get_doc(values), pulled, record, name=number if side == parties.SALES else None
			)
			self.link(doc.doctype, doc.name, kind, record)
			return self.done(Result.CREATED, kind, record, doc.doctype, doc.name, notes)
		doc = frappe.get_doc(link.reference_doctype, link.reference_name)
		result, current, message = self.update_document(doc, link, values, pulled, record)
		if current is not None:
			self.link(current.doctype, current.name, kind, record)
		if result == Result.UNCHANGED:
			return Outcome(xero_id, stamp, Result.UNCHANGED)
		return self.done(
			result, kind, record, doc.doctype, (current or doc).name, " ".join(filter(None, (message, notes)))
		)

	def document_values(self, pulled: PulledDocument) -> dict:
		"""The pulled document as ERPNext document values: Company, item codes, units, cost centre."""
		values = {**pulled.values, "company": self.company}
		for item, xero_item_code in zip(values["items"], pulled.item_codes, strict=True):
			item_code = self.reverse_items.get(xero_item_code)
			if item_code:
				item["item_code"] = item_code
			whole = float(item.get("qty") or 0).is_integer()
			item.setdefault("uom", DEFAULT_UOM if whole else FRACTIONAL_UOM)
			item.setdefault("stock_uom", item["uom"])
			item.setdefault("conversion_factor", 1)
			item.setdefault("cost_center", self.cost_center)
		for tax in values["taxes"]:
			tax.setdefault("cost_center", self.cost_center)
		return as_floats(values)

	def check_currency(self, values: dict, number) -> None:
		currency = values["currency"]
		if not frappe.db.get_value("Currency", currency, "enabled"):
			raise NeedsAttention(
				_(
					"{0} is in {1}, which is not enabled in ERPNext: enable it in the Currency list, then press Sync now."
				).format(number, currency)
			)

	def match_transaction(self, values: dict, number) -> str | None:
		"""An unlinked ERPNext document that is this Xero one: a Sales Invoice or return named with
		the Xero number, or a Purchase Invoice with that bill number from the same supplier."""
		if not number:
			return None
		doctype = values["doctype"]
		party_field = parties.of_invoice(doctype).party_field
		filters = {"docstatus": ("<", 2), "is_return": values.get("is_return", 0), "company": self.company}
		if doctype == parties.SALES.invoice:
			filters["name"] = number
		else:
			filters.update({"bill_no": number, party_field: values[party_field]})
		candidate = frappe.db.get_value(doctype, filters, ["name", party_field], as_dict=True)
		if not candidate or links.is_linked(self.organisation, doctype, candidate.name):
			return None
		if candidate[party_field] != values[party_field]:
			raise NeedsAttention(
				_("ERPNext already has {0} {1} for {2}, but Xero's is for {3}: rename one of them.").format(
					doctype, candidate.name, candidate[party_field], values[party_field]
				)
			)
		return candidate.name

	def return_against(self, invoice_ids: list, doctype: str) -> dict:
		for invoice_id in filter(None, invoice_ids):
			found = self.links_of("Invoice", invoice_id, doctype)
			if found:
				return {"return_against": found[0].reference_name}
		return {}

	def update_document(self, doc, link, values: dict, pulled: PulledDocument, record: dict):
		"""Bring an ERPNext document in line with Xero's. Returns (result, document now linked, note)."""
		if pulled.docstatus == 2:
			if doc.docstatus == 1:
				documents.cancel(doc)
				return Result.UPDATED, doc, _("Cancelled: {0} in Xero.").format(record.get("Status"))
			if doc.docstatus == 0:
				documents.delete(doc)
				links.delete_link(link.name)
				return (
					Result.UPDATED,
					None,
					_("Draft {0} deleted: {1} in Xero.").format(doc.name, record.get("Status")),
				)
			return Result.UNCHANGED, doc, None
		if doc.docstatus == 2:
			raise NeedsAttention(
				_(
					"{0} {1} is cancelled in ERPNext but {2} in Xero: void it in Xero or amend it in ERPNext."
				).format(doc.doctype, doc.name, record.get("Status")),
				documents.erpnext_version(doc),
			)
		if same_content(doc, values, record, link):
			if pulled.docstatus == 1 and doc.docstatus == 0:
				documents.submit(doc)
				return Result.UPDATED, doc, _("Submitted: approved in Xero.")
			return Result.UNCHANGED, doc, None
		self.resolve_conflict(
			"Invoice",
			erpnext_changed=doc.docstatus == 1 or get_datetime(doc.modified) > get_datetime(link.last_synced),
			doc=doc,
			record=record,
			message=_(
				"Changed in Xero, but {0} {1} {2} and the conflict policy keeps ERPNext's version. Compare both versions (request: Xero, response: ERPNext) and change one side."
			).format(doc.doctype, doc.name, _("is submitted") if doc.docstatus == 1 else _("was edited too")),
			erpnext=documents.erpnext_version(doc),
		)
		if doc.docstatus == 0:
			doc.update({k: v for k, v in values.items() if k != "doctype"})
			documents.save_invoice(doc, pulled, record)
			return Result.UPDATED, doc, _("Updated from Xero.")
		documents.cancel(doc)
		amended = documents.save_invoice(frappe.get_doc({**values, "amended_from": doc.name}), pulled, record)
		links.move_link(link.name, amended.name)
		return (
			Result.UPDATED,
			amended,
			_("Changed in Xero: {0} cancelled and amended as {1}.").format(doc.name, amended.name),
		)


def rounding_note(pulled: PulledDocument, record: dict) -> str | None:
	if not pulled.rounding:
		return None
	return _(
		"Added a rounding row of {0} so ERPNext's total equals Xero's {1} (Xero rounds tax per line, "
		"ERPNext per tax row)."
	).format(pulled.rounding, money(record.get("Total")))


def same_content(doc, values: dict, record: dict, link) -> bool:
	"""Whether Xero's version books the same as ERPNext's: party, currency, date and total, and the same
	lines as when last synced (a line edit that keeps the total is a change too)."""
	party_field = parties.of_invoice(doc.doctype).party_field
	return (
		doc.get(party_field) == values.get(party_field)
		and doc.currency == values["currency"]
		and str(doc.posting_date) == str(values["posting_date"])
		and (record.get("Total") is None or money(flt(doc.grand_total, 2)) == documents.xero_total(record))
		and (not link.booked_hash or "LineItems" not in record or link.booked_hash == booked_hash(record))
	)


def as_floats(value):
	"""Decimals from the mapping as floats (exact for the 2-9 decimal places used) for Frappe."""
	if isinstance(value, dict):
		return {k: as_floats(v) for k, v in value.items()}
	if isinstance(value, list):
		return [as_floats(v) for v in value]
	if isinstance(value, Decimal):
		return float(value)
	return value
