"""What the Desk screens show and do about one document or one log row: its Xero records with links into
Xero, its recent sync history, and Retry through the outbox."""

import frappe
from frappe import _

from xero_integration.core.deeplinks import xero_url
from xero_integration.sync import links, outbox

HISTORY_ROWS = 5
OUTBOUND = "ERPNext to Xero"


def document_status(doctype: str, name: str) -> dict:
	"""The Xero records of one document (with Open in Xero links), its queue state and latest logs, as far
	as the user may read them (sync/permissions.py: the organisations of the user's Companies)."""
	short_codes = dict(frappe.get_all("Xero Organisation", fields=["name", "short_code"], as_list=True))
	names = dict(frappe.get_all("Xero Organisation", fields=["name", "organisation_name"], as_list=True))
	records = readable(
		"Xero Document Link",
		filters={"reference_doctype": doctype, "reference_name": name},
		fields=["organisation", "xero_object", "xero_id", "xero_status", "last_synced"],
		order_by="organisation, xero_object",
	)
	for record in records:
		record["organisation_name"] = names.get(record.organisation)
		record["url"] = xero_url(
			short_codes.get(record.organisation), record.xero_object, record.xero_id, doctype
		)
	waiting = readable(
		"Xero Outbox",
		filters={
			"reference_doctype": doctype,
			"reference_name": name,
			"status": ("in", outbox.OPEN_STATUSES),
		},
		fields=["status", "last_error"],
	)
	history = readable(
		"Xero Sync Log",
		filters={"reference_doctype": doctype, "reference_name": name},
		fields=["name", "creation", "status", "direction", "operation", "message"],
		order_by="creation desc",
		limit=HISTORY_ROWS,
	)
	return {
		"records": records,
		"queued": sum(1 for row in waiting if row.status != outbox.NEEDS_ATTENTION),
		"needs_attention": [row.last_error for row in waiting if row.status == outbox.NEEDS_ATTENTION],
		"history": history,
	}


def readable(doctype: str, **query) -> list:
	"""frappe.get_list for a panel shown to everyone who reads a document: empty, not an error, for a
	user who may not read `doctype` at all (a Sales User on a Customer)."""
	if not frappe.has_permission(doctype, "read"):
		return []
	return frappe.get_list(doctype, **query)


def log_url(log) -> str | None:
	"""Open in Xero for one log row: the record it wrote, or the document's current record."""
	xero_id = log.xero_id
	xero_object = log.xero_object
	if not xero_id and log.reference_name:
		link = links.get_link(log.organisation, log.reference_doctype, log.reference_name, xero_object)
		xero_id = link and link["xero_id"]
	short_code = log.organisation and frappe.db.get_value("Xero Organisation", log.organisation, "short_code")
	return xero_url(short_code, xero_object, xero_id, log.reference_doctype)


def retry_logs(names: list) -> dict:
	"""Retry the outbound work behind these log rows: their parked outbox rows go back in the queue."""
	logs = frappe.get_all(
		"Xero Sync Log",
		filters={"name": ("in", names)},
		fields=["organisation", "direction", "reference_doctype", "reference_name"],
	)
	parked, waiting, not_retryable = set(), set(), 0
	for log in logs:
		if log.direction != OUTBOUND or not (log.organisation and log.reference_name):
			not_retryable += 1
			continue
		for row in outbox.open_rows_of_document(log.organisation, log.reference_doctype, log.reference_name):
			(parked if row.status == outbox.NEEDS_ATTENTION else waiting).add(row.name)
	retried = outbox.retry(sorted(parked))
	return {
		"retried": retried,
		"already_queued": len(waiting),
		"not_retryable": not_retryable,
		"message": retry_message(retried, len(waiting), not_retryable),
	}


def retry_message(retried: int, already_queued: int, not_retryable: int) -> str:
	parts = []
	if retried:
		parts.append(_("{0} document(s) queued for Xero again.").format(retried))
	if already_queued:
		parts.append(_("{0} already waiting in the queue.").format(already_queued))
	if not_retryable:
		parts.append(
			_(
				"{0} row(s) have no outbound work to retry (connection errors or changes from Xero): "
				"fix the cause, then use Sync now."
			).format(not_retryable)
		)
	return " ".join(parts) or _("Nothing to retry: these documents are already in sync.")
