"""Whitelisted methods behind Desk buttons and Xero's callbacks: check who calls, then delegate."""

from urllib.parse import urlencode

import frappe
from frappe import _
from frappe.utils import get_url_to_list

from xero_integration.core import oauth
from xero_integration.core.parties import SYNCED_DOCTYPES
from xero_integration.sync import connection, events, outbox
from xero_integration.sync import desk as desk_actions
from xero_integration.sync import preview as dry_run
from xero_integration.sync.log import create_log
from xero_integration.sync.permissions import MANAGER_ROLES


@frappe.whitelist(methods=["POST"])
def start_oauth() -> str:
	_require_manager()
	return connection.start_authorization()


@frappe.whitelist(methods=["GET"])
def oauth_callback(code: str | None = None, state: str | None = None, error: str | None = None, **_ignored):
	"""Where Xero sends the browser back. A manager's sign-in ends in a redirect to a form with a plain
	message; anyone else gets a permission error before anything is read, used up or written."""
	_require_manager()
	try:
		names = connection.complete_authorization(code, state, error)
		message = _("Connected to Xero: {0}. Link each organisation to a Company.").format(", ".join(names))
		url = get_url_to_list("Xero Organisation")
	except Exception as e:
		frappe.db.rollback()
		message = _plain_error(e)
		create_log("Failed", operation="Connect to Xero", message=message, traceback=frappe.get_traceback())
		frappe.db.commit()
		url = get_url_to_list("Xero Settings")
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = f"{url}?{urlencode({'xero_message': message})}"


@frappe.whitelist(methods=["POST"])
def connect_custom_connection() -> list[str]:
	_require_manager()
	return connection.connect_custom_connection()


@frappe.whitelist(methods=["POST"])
def test_connection(organisation: str) -> str:
	_require_manager()
	try:
		name = connection.test_connection(organisation)
	except Exception as e:
		frappe.throw(_plain_error(e), title=_("Xero connection failed"))
	return _("Connected to {0}").format(name)


@frappe.whitelist(methods=["POST"])
def disconnect(organisation: str) -> None:
	_require_manager()
	connection.disconnect(organisation)


def _plain_error(error: Exception) -> str:
	if isinstance(error, oauth.InvalidGrant):
		return _("Xero refused the sign-in (it expired or was revoked). Press Connect to Xero again.")
	if isinstance(error, oauth.OAuthError):
		if error.error == "invalid_client":
			return _("Xero did not accept the Client ID or Client Secret. Check them in Xero Settings.")
		return _("Xero refused the sign-in: {0}").format(error.description or error.error)
	return str(error) or error.__class__.__name__


# ---- Desk: logs, documents, preview ---------------------------------------------------------------


@frappe.whitelist(methods=["POST"])
def retry_logs(names: list | str) -> dict:
	"""Retry on Xero Sync Log rows: the outbox work behind them goes back in the queue."""
	_require_manager()
	names = frappe.parse_json(names)
	_check_each("Xero Sync Log", names, "read")
	return desk_actions.retry_logs(names)


@frappe.whitelist(methods=["POST"])
def retry(names: list | str) -> int:
	"""Retry on Xero Outbox rows that need attention."""
	_require_manager()
	names = frappe.parse_json(names)
	_check_each("Xero Outbox", names, "write")
	return outbox.retry(names)


@frappe.whitelist(methods=["POST"])
def sync_document(doctype: str, name: str) -> list[str]:
	"""Sync to Xero on a document: queue it now (the worker sends it within seconds)."""
	_require_manager()
	_check_synced_document(doctype, name)
	return events.queue_now(doctype, name)


@frappe.whitelist(methods=["POST"])
def preview(doctype: str, name: str) -> list[dict]:
	"""Dry run: the payload a sync would send and its difference from Xero's record. Writes nothing."""
	_require_manager()
	_check_synced_document(doctype, name)
	return dry_run.preview(doctype, name)


@frappe.whitelist(methods=["GET"])
def document_status(doctype: str, name: str) -> dict:
	"""The Xero panel of a document: its Xero records, queue state and recent sync history."""
	_check_synced_document(doctype, name)
	return desk_actions.document_status(doctype, name)


def is_manager() -> bool:
	"""Whether the user may configure the integration (also hooks' add_to_apps_screen check)."""
	return not set(MANAGER_ROLES).isdisjoint(frappe.get_roles())


def _require_manager() -> None:
	# Not frappe.only_for: it lets everyone through while tests run, and these checks are tested.
	if not is_manager():
		frappe.throw(_("Only a Xero Manager can do this."), frappe.PermissionError)


def _check_each(doctype: str, names: list, ptype: str) -> None:
	"""Rows of Companies the user may not see are refused (sync/permissions.py), not silently skipped."""
	for name in names:
		frappe.has_permission(doctype, ptype, str(name), throw=True)


def _check_synced_document(doctype: str, name: str) -> None:
	if doctype not in SYNCED_DOCTYPES:
		frappe.throw(_("{0} documents are not synced with Xero.").format(_(doctype)))
	frappe.has_permission(doctype, "read", name, throw=True)


@frappe.whitelist(allow_guest=True, methods=["POST"])
def webhook(**_payload):
	"""Xero's webhook delivery URL. Answers with an empty body (Xero's intent-to-receive check needs
	exactly that), so a raw response is returned instead of Frappe's {"message": ...} wrapper."""
	from werkzeug.wrappers import Response

	from xero_integration.sync import webhooks

	status = webhooks.receive(frappe.request, frappe.get_request_header("x-xero-signature"))
	return Response(b"", status=status)


@frappe.whitelist(methods=["POST"])
def pull_now(organisation: str) -> str:
	"""Pull what changed in Xero now (the same pull the scheduler runs), in the background."""
	_require_manager()
	from xero_integration.sync import pull

	pull.enqueue_pull(organisation)
	return _("Pulling changes from Xero. The Xero Sync Log shows the outcome.")


@frappe.whitelist(methods=["POST"])
def import_history(organisation: str, from_date: str) -> str:
	"""Import Xero's contacts, invoices, credit notes and payments dated from `from_date` on, in the
	background, with progress shown by the "xero_import_progress" realtime event."""
	_require_manager()
	from xero_integration.sync import history

	history.enqueue_import(organisation, from_date)
	return _("Importing from Xero in the background; progress is shown here and in the Xero Sync Log.")


@frappe.whitelist(methods=["POST"])
def import_xero_lists(organisation: str) -> str:
	"""Copy Xero's accounts, tax rates, items, currencies and tracking options onto the organisation."""
	_require_manager()
	from xero_integration.sync import reference

	reference.enqueue_import(organisation)
	return _("Reading Xero's lists in the background; reload the form in a moment.")


@frappe.whitelist(methods=["POST"])
def suggest_mappings(organisation: str) -> str:
	"""Fill unmapped accounts, tax accounts and items from Xero's lists by code and name, for review."""
	_require_manager()
	from xero_integration.sync import reference

	added = reference.suggest_mappings(organisation)
	if not added:
		return _("No new suggestions: everything that matches Xero's lists is mapped already.")
	return _("Suggested {0} mappings; review them below: {1}").format(len(added), "; ".join(added))
