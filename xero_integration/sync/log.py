"""create_log(): the one way to write a Xero Sync Log row (insert_logs() writes a batch's rows at once)."""

import frappe
from frappe.utils import now_datetime

from xero_integration.core.redact import to_log_json

DOCTYPE = "Xero Sync Log"


def log_values(
	status: str,
	*,
	operation: str,
	direction: str = "ERPNext to Xero",
	organisation: str | None = None,
	reference_doctype: str | None = None,
	reference_name: str | None = None,
	xero_object: str | None = None,
	xero_id: str | None = None,
	message: str | None = None,
	request=None,
	response=None,
	attempts: int = 0,
	traceback: str | None = None,
) -> dict:
	"""One row's values. Bodies are redacted; `message` is for a bookkeeper, not a developer."""
	company = frappe.get_cached_value("Xero Organisation", organisation, "company") if organisation else None
	return {
		"status": status,
		"operation": operation,
		"direction": direction,
		"organisation": organisation,
		"company": company,
		"reference_doctype": reference_doctype,
		"reference_name": reference_name,
		"xero_object": xero_object,
		"xero_id": xero_id,
		"message": message,
		"request": to_log_json(request),
		"response": to_log_json(response),
		"attempts": attempts,
		"traceback": traceback,
	}


def create_log(status: str, **fields):
	"""Write one row per sync outcome (see log_values for the fields)."""
	log = frappe.get_doc({"doctype": DOCTYPE, **log_values(status, **fields)})
	log.insert(ignore_permissions=True)
	return log


def insert_logs(rows: list[dict]) -> None:
	"""Write many log_values() rows in one statement: a drain settles fifty documents at a time."""
	if not rows:
		return
	now, user = now_datetime(), frappe.session.user
	columns = ["name", "creation", "modified", "owner", "modified_by", *rows[0]]
	placeholders = ", ".join(["%s"] * (len(columns) - 1))
	# Names come from the DocType's own sequence, as Document.insert takes them (autoincrement).
	sequence = frappe.scrub(f"{DOCTYPE}_id_seq")
	frappe.db.sql(
		f"""insert into `tab{DOCTYPE}` ({", ".join(f"`{c}`" for c in columns)})
		values {", ".join([f"(nextval(`{sequence}`), {placeholders})"] * len(rows))}""",
		[value for row in rows for value in (now, now, user, user, *row.values())],
	)
