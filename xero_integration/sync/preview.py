"""Preview before push: the exact payload the sync would send for one document and, when the document
is already in Xero, how Xero's current record differs from it, field by field.

The payload is built by the push's own prepare_* methods (sync/outbound), so the preview cannot drift
from what a sync sends. Only reads reach Xero (the record, tax rates, currencies, contacts for matching): nothing is
queued, written or logged.
"""

import json

import frappe
from frappe import _

from xero_integration.core import parties
from xero_integration.core.deeplinks import xero_url
from xero_integration.core.diff import differences, plain
from xero_integration.core.errors import XeroError
from xero_integration.core.mapping.advance import is_advance, overpayment_payload
from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.payment import payment_object
from xero_integration.sync import connection, links, push
from xero_integration.sync.documents import load_documents
from xero_integration.sync.events import xero_object
from xero_integration.sync.outbound.base import Work

# A person is waiting on the button: give up rather than queue behind a busy rate limit.
PREVIEW_MAX_WAIT = 5.0


def preview(doctype: str, name: str) -> list[dict]:
	"""One entry per Xero record the document would be sent as, in each organisation it syncs with."""
	# The same plain document the push maps (see sync/documents.py).
	doc = load_documents(doctype, [name]).get(name)
	if doc is None:
		raise frappe.DoesNotExistError(_("{0} {1} not found").format(_(doctype), name))
	organisations = target_organisations(doc)
	if not organisations:
		frappe.throw(_("No connected Xero organisation syncs this document. Link its Company first."))
	previews = []
	for organisation in organisations:
		pusher = push.Pusher(organisation, max_wait=PREVIEW_MAX_WAIT)
		try:
			if doctype in parties.PARTY_DOCTYPES:
				previews.append(contact_preview(pusher, doc))
			elif is_advance(doc) or links.is_linked(organisation, doctype, name, "Overpayment"):
				previews.append(advance_preview(pusher, doc))
			elif doctype == "Payment Entry":
				previews.extend(payment_previews(pusher, doc))
			else:
				previews.append(transaction_preview(pusher, doc))
		except XeroError as e:
			previews.append(entry(pusher, doc, None, None, None, error=_could_not_read(e)))
	return previews


def target_organisations(doc) -> list[str]:
	if doc.doctype in parties.PARTY_DOCTYPES:
		return connection.connected_organisations()
	organisation = connection.organisation_of_company(doc.company)
	return [organisation] if organisation else []


def contact_preview(pusher: push.Pusher, doc) -> dict:
	link = links.get_link(pusher.organisation, doc.doctype, doc.name, "Contact")
	work = Work(row={}, doc=doc, link=link)
	try:
		pusher.prepare_contact(work)
	except MappingError as e:
		return entry(pusher, doc, "Contact", link, None, problems=e.problems)
	return entry(pusher, doc, "Contact", link, work.payload, notes=work.notes)


def transaction_preview(pusher: push.Pusher, doc) -> dict:
	kind = xero_object(doc)
	link = links.get_link(pusher.organisation, doc.doctype, doc.name, kind)
	side = parties.of_invoice(doc.doctype)
	party = doc.get(side.party_field)
	contact = links.get_link(pusher.organisation, side.party, party, "Contact")
	notes = []
	if not contact:
		notes.append(_("{0} {1} is not in Xero yet: it is sent first.").format(_(side.party), party))
	try:
		payload, mapping_notes = pusher.prepare_transaction(
			kind, doc, contact and contact["xero_id"], link and link["xero_id"]
		)
	except MappingError as e:
		return entry(pusher, doc, kind, link, None, problems=e.problems)
	return entry(pusher, doc, kind, link, payload, notes=[*notes, *mapping_notes])


def payment_previews(pusher: push.Pusher, doc) -> list[dict]:
	try:
		payments = pusher.prepare_payments(doc, doc.references, pusher.payment_targets([doc]))
	except MappingError as e:
		return [entry(pusher, doc, "Payment", None, None, problems=e.problems)]
	return [
		entry(
			pusher,
			doc,
			"Payment",
			links.get_link(pusher.organisation, doc.doctype, doc.name, payment_object(ref)),
			payload,
			label=_("Payment of {0}").format(ref.get("reference_name")),
		)
		for ref, payload in payments
	]


def advance_preview(pusher: push.Pusher, doc) -> dict:
	"""Before it is in Xero, the overpayment an advance is made as; after, the allocations it should have."""
	link = links.get_link(pusher.organisation, doc.doctype, doc.name, "Overpayment")
	try:
		if link:
			allocations = pusher.allocations_of(doc)
			return entry(
				pusher,
				doc,
				"Overpayment",
				link,
				{"Allocations": list(allocations.values())},
				label=_("Allocations of its overpayment"),
			)
		contact = links.get_link(pusher.organisation, doc.party_type, doc.party, "Contact")
		notes = (
			[]
			if contact
			else [_("{0} {1} is not in Xero yet: it is sent first.").format(_(doc.party_type), doc.party)]
		)
		payload = overpayment_payload(doc, pusher.ctx, contact_id=contact and contact["xero_id"])
	except MappingError as e:
		return entry(pusher, doc, "Overpayment", link, None, problems=e.problems)
	return entry(
		pusher, doc, "BankTransaction", None, payload, notes=notes, label=_("Overpayment (an advance)")
	)


def entry(pusher, doc, kind, link, payload, *, notes=(), problems=(), error=None, label=None) -> dict:
	"""What the dialog shows for one Xero record; reads Xero's copy when the document is linked."""
	xero_id = link and link["xero_id"]
	result = {
		"organisation": pusher.organisation,
		"organisation_name": frappe.db.get_value(
			"Xero Organisation", pusher.organisation, "organisation_name"
		),
		"xero_object": kind,
		"label": label or kind,
		"action": _("Update in Xero") if xero_id else _("Create in Xero"),
		"xero_id": xero_id,
		"url": xero_url(
			frappe.db.get_value("Xero Organisation", pusher.organisation, "short_code"),
			kind,
			xero_id,
			doc.doctype,
		),
		"payload": as_text(payload) if payload is not None else None,
		"differences": None,
		"notes": list(notes),
		"problems": list(problems),
		"error": error,
	}
	if payload is not None and xero_id and error is None:
		try:
			record = current_record(pusher, kind, xero_id)
		except XeroError as e:
			result["error"] = _could_not_read(e)
		else:
			result["differences"] = [
				{"field": d.field, "erpnext": plain(d.ours), "xero": plain(d.xeros)}
				for d in differences(payload, record)
			]
	return result


def current_record(pusher: push.Pusher, kind: str, xero_id: str) -> dict:
	return pusher.client.get(kind, xero_id) or {}


def as_text(payload: dict) -> str:
	# Amounts are Decimals: written as their exact text, as in the sync log.
	return json.dumps(payload, indent=1, default=str, ensure_ascii=False)


def _could_not_read(error: XeroError) -> str:
	return _("Could not read from Xero just now ({0}). Try again in a minute.").format(error)
