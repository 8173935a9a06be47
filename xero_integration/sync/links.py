"""Which ERPNext document is which Xero record, per organisation: Xero Document Link rows, mirrored
onto the document's read-only Xero fields for people to see."""

import frappe
from frappe.utils import now_datetime

from xero_integration.core.parties import SYNCED_DOCTYPES

# An advance (a Payment Entry) is a Xero Overpayment or Prepayment; what it settles of each invoice is an
# allocation of it, linked per invoice; the Xero payment refunding it is its Refund.
ALLOCATION, REFUND = "Allocation", "Refund"
# A journal's write-off of an invoice as a credit note (where Xero takes no payment from its account).
WRITE_OFF = "WriteOff"


def allocation_object(doctype: str, name: str) -> str:
	"""How a Document Link names the allocation of an advance to one invoice."""
	return f"{ALLOCATION}:{doctype}:{name}"


def paid_document(link: dict) -> tuple[str, str]:
	"""(doctype, name) of what a payment link pays: its object is Payment:doctype:name, then the row or
	deduction it is for, if any."""
	_payment, doctype, name = link["xero_object"].split(":")[:3]
	return doctype, name


def paying_documents(
	organisation: str, doctype: str, paid_doctype: str, paid_name: str, kind: str = "Payment"
) -> set:
	"""The documents of this doctype with a payment (or another kind of settlement, such as a write-off
	credit note) of this document standing in Xero."""
	return set(
		frappe.get_all(
			"Xero Document Link",
			filters={
				"organisation": organisation,
				"reference_doctype": doctype,
				"xero_object": ("like", f"{kind}:{paid_doctype}:{paid_name}%"),
				"xero_status": ("not in", ("DELETED", "VOIDED")),
			},
			pluck="reference_name",
		)
	)


def allocated_document(xero_object: str) -> tuple[str, str]:
	"""(doctype, name) of the invoice an allocation link names."""
	_allocation, doctype, name = xero_object.split(":", 2)
	return doctype, name


def get_link(organisation: str, doctype: str, name: str, xero_object: str) -> dict | None:
	return frappe.db.get_value(
		"Xero Document Link",
		{
			"organisation": organisation,
			"reference_doctype": doctype,
			"reference_name": name,
			"xero_object": xero_object,
		},
		["name", "xero_id", "xero_status", "content_hash", "xero_updated", "booked_hash"],
		as_dict=True,
	)


def links_of_record(
	organisation: str, xero_object: str, xero_id: str, doctype: str | None = None
) -> list[dict]:
	"""The document links of one Xero record (a contact can be a Customer and a Supplier; "Payment"
	finds a payment whatever it pays)."""
	filters = {"organisation": organisation, "xero_id": xero_id.lower()}
	filters["xero_object"] = ("like", "Payment:%") if xero_object == "Payment" else xero_object
	if doctype:
		filters["reference_doctype"] = doctype
	return frappe.get_all(
		"Xero Document Link",
		filters=filters,
		fields=[
			"name",
			"reference_doctype",
			"reference_name",
			"xero_object",
			"xero_status",
			"xero_updated",
			"last_synced",
			"booked_hash",
		],
	)


def unlinked(organisation: str, xero_object: str, xero_ids: list) -> list:
	"""Those of these Xero records no document is linked to yet."""
	return [
		xero_id for xero_id in xero_ids if xero_id and not links_of_record(organisation, xero_object, xero_id)
	]


def xero_ids_of(organisation: str, doctype: str, names: list, xero_objects: tuple) -> dict[str, str]:
	"""name -> Xero id of these documents, as any of these Xero objects."""
	if not names:
		return {}
	return {
		link.reference_name: link.xero_id
		for link in frappe.get_all(
			"Xero Document Link",
			filters={
				"organisation": organisation,
				"reference_doctype": doctype,
				"reference_name": ("in", names),
				"xero_object": ("in", xero_objects),
			},
			fields=["reference_name", "xero_id"],
		)
	}


def documents_of_records(organisation: str, doctypes: tuple, xero_ids: list) -> list[dict]:
	"""The documents of these doctypes linked to these Xero records (reference_doctype, reference_name,
	xero_id each)."""
	if not xero_ids:
		return []
	return frappe.get_all(
		"Xero Document Link",
		filters={
			"organisation": organisation,
			"reference_doctype": ("in", doctypes),
			"xero_id": ("in", xero_ids),
		},
		fields=["reference_doctype", "reference_name", "xero_id"],
	)


def move_link(link_name: str, reference_name: str) -> None:
	"""The record is now this other document of the same doctype (an amendment)."""
	frappe.db.set_value(
		"Xero Document Link", link_name, "reference_name", reference_name, update_modified=False
	)


def linked_names(organisation: str, doctype: str, xero_object: str) -> set:
	"""The documents of this doctype linked to some Xero record of that object."""
	return set(
		frappe.get_all(
			"Xero Document Link",
			filters={"organisation": organisation, "reference_doctype": doctype, "xero_object": xero_object},
			pluck="reference_name",
		)
	)


def is_linked(organisation: str, doctype: str, name: str, xero_object: str | None = None) -> bool:
	"""Whether some Xero record of this organisation (of this object: "Payment" for any of its payments)
	is this document."""
	filters = {"organisation": organisation, "reference_doctype": doctype, "reference_name": name}
	if xero_object:
		filters["xero_object"] = ("like", "Payment:%") if xero_object == "Payment" else xero_object
	return bool(frappe.db.exists("Xero Document Link", filters))


def organisations_of(doctype: str, name: str, xero_object: str) -> list[str]:
	"""The organisations that hold this document as that Xero object."""
	return frappe.get_all(
		"Xero Document Link",
		filters={"reference_doctype": doctype, "reference_name": name, "xero_object": xero_object},
		pluck="organisation",
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
	booked_hash: str | None = None,
) -> None:
	save_links(
		organisation,
		[
			{
				"reference_doctype": doctype,
				"reference_name": name,
				"xero_object": xero_object,
				"xero_id": xero_id,
				"xero_status": xero_status,
				"content_hash": content_hash,
				"xero_updated": xero_updated,
				"booked_hash": booked_hash,
			}
		],
	)


def save_links(organisation: str, entries: list[dict]) -> None:
	"""Create or update the link of each entry (reference_doctype, reference_name, xero_object, xero_id,
	xero_status, and content_hash / xero_updated / booked_hash unless None), new ones in one statement."""
	if not entries:
		return
	existing = {
		(row.reference_doctype, row.reference_name, row.xero_object): row.name
		for row in frappe.get_all(
			"Xero Document Link",
			# Every column of the unique index's prefix, so that it is a look-up, not a scan of them all.
			filters={
				"organisation": organisation,
				"reference_doctype": ("in", list({entry["reference_doctype"] for entry in entries})),
				"reference_name": ("in", list({entry["reference_name"] for entry in entries})),
			},
			fields=["name", "reference_doctype", "reference_name", "xero_object"],
		)
	}
	now, user = now_datetime(), frappe.session.user
	new_rows = []
	for entry in entries:
		values = {"xero_id": entry["xero_id"], "xero_status": entry["xero_status"], "last_synced": now}
		for optional in ("content_hash", "xero_updated", "booked_hash"):
			if entry.get(optional) is not None:
				values[optional] = entry[optional]
		key = (entry["reference_doctype"], entry["reference_name"], entry["xero_object"])
		if key in existing:
			frappe.db.set_value("Xero Document Link", existing[key], values, update_modified=False)
		else:
			existing[key] = frappe.generate_hash(length=10)
			new_rows.append(
				(
					existing[key],
					now,
					now,
					user,
					user,
					organisation,
					*key,
					entry["xero_id"],
					entry["xero_status"],
					entry.get("content_hash"),
					entry.get("xero_updated"),
					entry.get("booked_hash"),
					now,
				)
			)
		show_on_document(
			entry["reference_doctype"], entry["reference_name"], entry["xero_id"], entry["xero_status"]
		)
	# The unique (organisation, document, object) index refuses a second link for the same record.
	frappe.db.bulk_insert(
		"Xero Document Link",
		[
			"name",
			"creation",
			"modified",
			"owner",
			"modified_by",
			"organisation",
			"reference_doctype",
			"reference_name",
			"xero_object",
			"xero_id",
			"xero_status",
			"content_hash",
			"xero_updated",
			"booked_hash",
			"last_synced",
		],
		new_rows,
	)


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


def set_link_status(link_name: str, xero_status: str) -> None:
	frappe.db.set_value("Xero Document Link", link_name, "xero_status", xero_status, update_modified=False)


def linked_xero_ids(organisation: str, xero_ids: list[str]) -> set[str]:
	"""Which of these Xero records are linked to some document already (lowercase ids)."""
	if not xero_ids:
		return set()
	return {
		xero_id.lower()
		for xero_id in frappe.get_all(
			"Xero Document Link",
			filters={"organisation": organisation, "xero_id": ("in", xero_ids)},
			pluck="xero_id",
		)
	}


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
