"""create_log(): the one way to write a Xero Sync Log row."""

import frappe

from xero_integration.core.redact import to_log_json


def create_log(
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
):
	"""Write one row per sync outcome. Bodies are redacted; `message` is for a bookkeeper, not a developer."""
	company = frappe.get_cached_value("Xero Organisation", organisation, "company") if organisation else None
	log = frappe.get_doc(
		{
			"doctype": "Xero Sync Log",
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
	)
	log.insert(ignore_permissions=True)
	return log
