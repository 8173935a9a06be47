"""Which Xero rows a user reads: those of the organisations linked to Companies the user may see.

A User Permission on Company limits a user's Xero Sync Log, Outbox, Document Link and Webhook Event
rows as it limits their invoices; every row reaches its Company through its organisation (Xero
Organisation.company). A user without such a User Permission reads every organisation's rows, as
Frappe lets them read every Company's documents; Administrator is never limited. A row of no
organisation (a failed sign-in to Xero) is about the connection, not a Company: only users who are not
limited read it.
"""

import frappe
from frappe.permissions import get_allowed_docs_for_doctype, get_user_permissions

XERO_MANAGER = "Xero Manager"
# Who connects, retries and previews: the app's own role, and System Managers.
MANAGER_ROLES = (XERO_MANAGER, "System Manager")


def permitted_companies(doctype: str, user: str | None = None) -> list[str] | None:
	"""The Companies whose rows of `doctype` the user may read; None when not limited."""
	company_permissions = get_user_permissions(user or frappe.session.user).get("Company", [])
	# Frappe's own reading: a User Permission may apply to some doctypes only.
	return get_allowed_docs_for_doctype(company_permissions, doctype) or None


def query_conditions(user: str | None = None, doctype: str | None = None) -> str:
	"""permission_query_conditions of the Xero doctypes: lists, report view, counts and charts."""
	companies = permitted_companies(doctype, user)
	if companies is None:
		return ""
	return (
		f"`tab{doctype}`.`organisation` in (select `name` from `tabXero Organisation` "
		f"where `company` in ({', '.join(frappe.db.escape(company) for company in companies)}))"
	)


def has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool:
	"""has_permission of the Xero doctypes: a form, a get, a print of one row."""
	companies = permitted_companies(doc.doctype, user)
	return companies is None or (
		bool(doc.get("organisation"))
		and frappe.get_cached_value("Xero Organisation", doc.organisation, "company") in companies
	)
