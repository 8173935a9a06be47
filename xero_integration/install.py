"""Install, migrate and uninstall: the role, the integration user, the custom fields, and nothing more."""

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

from xero_integration.core.parties import SYNCED_DOCTYPES
from xero_integration.sync.inbound.invoices import FRACTIONAL_UOM
from xero_integration.sync.integration_user import INTEGRATION_ROLES, INTEGRATION_USER
from xero_integration.sync.permissions import XERO_MANAGER


def custom_fields() -> dict:
	fields = [
		{
			"fieldname": "xero_section",
			"fieldtype": "Section Break",
			"label": "Xero",
			"collapsible": 1,
		},
		{
			"fieldname": "xero_id",
			"fieldtype": "Data",
			"label": "Xero ID",
			"insert_after": "xero_section",
			"read_only": 1,
			"no_copy": 1,
			"search_index": 1,
		},
		{
			"fieldname": "xero_status",
			"fieldtype": "Data",
			"label": "Xero Status",
			"insert_after": "xero_id",
			"read_only": 1,
			"no_copy": 1,
			"in_standard_filter": 1,
		},
		{
			"fieldname": "xero_last_synced",
			"fieldtype": "Datetime",
			"label": "Last Synced with Xero",
			"insert_after": "xero_status",
			"read_only": 1,
			"no_copy": 1,
		},
	]
	return {doctype: [dict(field) for field in fields] for doctype in SYNCED_DOCTYPES}


def before_install():
	if "erpnext" not in frappe.get_installed_apps():
		frappe.throw("Install ERPNext on this site before Xero Integration: it syncs ERPNext documents.")
	ensure_role()


def after_install():
	ensure_custom_fields()
	ensure_fractional_uom()
	ensure_integration_user()


def after_migrate():
	ensure_role()
	ensure_custom_fields()
	ensure_fractional_uom()
	ensure_integration_user()


def ensure_integration_user():
	"""The integration user, enabled, with exactly INTEGRATION_ROLES (roles added by hand are taken away)."""
	if frappe.db.exists("User", INTEGRATION_USER):
		user = frappe.get_doc("User", INTEGRATION_USER)
	else:
		user = frappe.new_doc("User")
		user.update({"email": INTEGRATION_USER, "first_name": "Xero Integration", "send_welcome_email": 0})
	user.enabled = 1
	user.set("roles", [{"role": role} for role in INTEGRATION_ROLES])
	user.save(ignore_permissions=True)


def ensure_fractional_uom():
	if not frappe.db.exists("UOM", FRACTIONAL_UOM):
		frappe.get_doc({"doctype": "UOM", "uom_name": FRACTIONAL_UOM, "must_be_whole_number": 0}).insert(
			ignore_permissions=True
		)


def ensure_role():
	if not frappe.db.exists("Role", XERO_MANAGER):
		frappe.get_doc({"doctype": "Role", "role_name": XERO_MANAGER, "desk_access": 1}).insert(
			ignore_permissions=True
		)


def ensure_custom_fields():
	create_custom_fields(custom_fields(), ignore_validate=True, update=True)


def before_uninstall():
	for doctype, fields in custom_fields().items():
		columns = set(frappe.db.get_table_columns(doctype))
		for field in fields:
			name = f"{doctype}-{field['fieldname']}"
			if frappe.db.exists("Custom Field", name):
				frappe.delete_doc("Custom Field", name, ignore_permissions=True, force=True)
			# Deleting a Custom Field keeps its column (and the Xero ids in it): drop that too.
			if field["fieldname"] in columns:
				frappe.db.sql_ddl(f"alter table `tab{doctype}` drop column `{field['fieldname']}`")
		frappe.cache.hdel("table_columns", f"tab{doctype}")
		frappe.clear_cache(doctype=doctype)
	if frappe.db.exists("UOM", FRACTIONAL_UOM):
		try:
			frappe.delete_doc("UOM", FRACTIONAL_UOM, ignore_permissions=True)
		except frappe.LinkExistsError:
			pass  # documents pulled from Xero use it; removing it would break them
	if frappe.db.exists("Role", XERO_MANAGER):
		frappe.delete_doc("Role", XERO_MANAGER, ignore_permissions=True, force=True)
	# Disabled, not deleted: the documents it wrote keep naming their owner.
	if frappe.db.exists("User", INTEGRATION_USER):
		frappe.db.set_value("User", INTEGRATION_USER, "enabled", 0)
		frappe.clear_cache(user=INTEGRATION_USER)
