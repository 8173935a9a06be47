"""Whitelisted methods behind Desk buttons and Xero's callbacks: check who calls, then delegate."""

from urllib.parse import urlencode

import frappe
from frappe import _

from xero_integration.core import oauth
from xero_integration.sync import connection
from xero_integration.sync.log import create_log

MANAGER_ROLES = ("Xero Manager", "System Manager")


@frappe.whitelist(methods=["POST"])
def start_oauth() -> str:
	frappe.only_for(MANAGER_ROLES)
	return connection.start_authorization()


@frappe.whitelist(methods=["GET"])
def oauth_callback(code: str | None = None, state: str | None = None, error: str | None = None, **_ignored):
	"""Where Xero sends the browser back. Always ends in a redirect to a form with a plain message."""
	try:
		frappe.only_for(MANAGER_ROLES)
		if error:
			frappe.throw(_("Xero did not grant access: {0}").format(error))
		names = connection.complete_authorization(code, state)
		message = _("Connected to Xero: {0}. Link each organisation to a Company.").format(", ".join(names))
		route = "/app/xero-organisation"
	except Exception as e:
		frappe.db.rollback()
		message = _plain_error(e)
		create_log("Failed", operation="Connect to Xero", message=message, traceback=frappe.get_traceback())
		frappe.db.commit()
		route = "/app/xero-settings"
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = f"{route}?{urlencode({'xero_message': message})}"


@frappe.whitelist(methods=["POST"])
def connect_custom_connection() -> list[str]:
	frappe.only_for(MANAGER_ROLES)
	return connection.connect_custom_connection()


@frappe.whitelist(methods=["POST"])
def test_connection(organisation: str) -> str:
	frappe.only_for(MANAGER_ROLES)
	try:
		name = connection.test_connection(organisation)
	except Exception as e:
		frappe.throw(_plain_error(e), title=_("Xero connection failed"))
	return _("Connected to {0}").format(name)


@frappe.whitelist(methods=["POST"])
def disconnect(organisation: str) -> None:
	frappe.only_for(MANAGER_ROLES)
	connection.disconnect(organisation)


def _plain_error(error: Exception) -> str:
	if isinstance(error, oauth.InvalidGrant):
		return _("Xero refused the sign-in (it expired or was revoked). Press Connect to Xero again.")
	if isinstance(error, oauth.OAuthError):
		if error.error == "invalid_client":
			return _("Xero did not accept the Client ID or Client Secret. Check them in Xero Settings.")
		return _("Xero refused the sign-in: {0}").format(error.description or error.error)
	return str(error) or error.__class__.__name__
