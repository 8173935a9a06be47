"""Which ERPNext document is which Xero record, per organisation: Xero Document Link rows, mirrored
onto the document's read-only Xero fields for people to see."""

import frappe
from frappe.utils import now_datetime

from xero_integration.install import SYNCED_DOCTYPES


def get_link(organisation: str, doctype: str, name: str, xero_object: str) -> dict | None:
	return frappe.db.get_value(
		"Xero Document Link",
		{
			"organisation": organisation,
			"reference_doctype": doctype,
			"reference_name": name,
			"xero_object": xero_object,
		},
		["name", "xero_id", "xero_status", "content_hash", "xero_updated"],
		as_dict=True,
	)


def links_of(organisation: str, doctype: str, name: str, xero_object_prefix: str) -> list[dict]:
	return frappe.get_all(
		"Xero Document Link",
		filters={
			"organisation": organisation,
			"reference_doctype": doctype,
			"reference_name": name,
			"xero_object": ("like", f"{xero_object_prefix}%"),
		},
		fields=["name", "xero_object", "xero_id", "xero_status"],
	)


def save_link(
	organisation: str,
	doctype: str,
	name: str,
	xero_object: str,
	xero_id: str,
	xero_status: str | None = None,
	content_hash: str | None = None,
	xero_updated: str | None = None,
) -> None:
	values = {"xero_id": xero_id, "xero_status": xero_status, "last_synced": now_datetime()}
	if content_hash is not None:
		values["content_hash"] = content_hash
	if xero_updated is not None:
		values["xero_updated"] = xero_updated
	existing = get_link(organisation, doctype, name, xero_object)
	if existing:
		frappe.db.set_value("Xero Document Link", existing["name"], values, update_modified=False)
	else:
		frappe.get_doc(
			{
				"doctype": "Xero Document Link",
				"organisation": organisation,
				"reference_doctype": doctype,
				"reference_name": name,
				"xero_object": xero_object,
				**values,
			}
		).insert(ignore_permissions=True)
	show_on_document(doctype, name, xero_id, xero_status)


def set_status(
	organisation: str,
	doctype: str,
	name: str,
	xero_object: str,
	xero_status: str,
	xero_updated: str | None = None,
) -> None:
	link = get_link(organisation, doctype, name, xero_object)
	if link:
		frappe.db.set_value(
			"Xero Document Link",
			link["name"],
			{"xero_status": xero_status, "last_synced": now_datetime(), "xero_updated": xero_updated},
			update_modified=False,
		)
		show_on_document(doctype, name, link["xero_id"], xero_status)


def delete_link(link_name: str) -> None:
	frappe.db.delete("Xero Document Link", {"name": link_name})


def show_on_document(doctype: str, name: str, xero_id: str | None, xero_status: str | None) -> None:
	if doctype in SYNCED_DOCTYPES:
		frappe.db.set_value(
			doctype,
			name,
			{"xero_id": xero_id, "xero_status": xero_status, "xero_last_synced": now_datetime()},
			update_modified=False,
		)
