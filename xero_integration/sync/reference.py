"""Xero's lists copied onto each organisation's record, so mappings are picked from real values, and
mapping suggestions made from them (core/mapping/suggest.py) for a person to review."""

import frappe
from frappe import _
from frappe.utils import now_datetime

from xero_integration.core.mapping.suggest import account_suggestions, item_suggestions, tax_suggestions
from xero_integration.sync import connection
from xero_integration.sync.context import forget_xero_lists
from xero_integration.sync.log import create_log


def refresh_all() -> None:
	"""Daily: every connected organisation's lists, in the background."""
	for organisation in connection.connected_organisations():
		enqueue_import(organisation)


def enqueue_import(organisation: str) -> None:
	frappe.enqueue(
		"xero_integration.sync.reference.import_lists",
		queue="long",
		organisation=organisation,
		job_id=f"xero_integration:lists:{organisation}",
		deduplicate=True,
	)


def import_lists(organisation: str) -> dict[str, int]:
	"""Accounts, tax rates, items, currencies and tracking options of one organisation (five GETs)."""
	client = connection.client_for(organisation)

	rows = [
		{"kind": "Account", "code": a.get("Code"), "reference_name": a.get("Name"), "detail": a.get("Type")}
		for a in client.list_all("Account")
		if a.get("Code") and a.get("Status") == "ACTIVE"
	]
	rows += [
		{
			"kind": "Tax Rate",
			"code": r["TaxType"],
			"reference_name": r.get("Name"),
			"detail": str(r.get("EffectiveRate")),
		}
		for r in client.list_all("TaxRate")
		if r.get("Status") == "ACTIVE"
	]
	rows += [
		{"kind": "Item", "code": i["Code"], "reference_name": i.get("Name")} for i in client.list_all("Item")
	]
	rows += [
		{"kind": "Currency", "code": c["Code"], "reference_name": c.get("Description")}
		for c in client.list_all("Currency")
	]
	rows += [
		{
			"kind": "Tracking Option",
			"code": option.get("Name"),
			"reference_name": option.get("Name"),
			"detail": category.get("Name"),
		}
		for category in client.list_all("TrackingCategory")
		for option in category.get("Options") or []
	]
	org = frappe.get_doc("Xero Organisation", organisation)
	org.set("xero_references", rows)
	org.lists_imported_at = now_datetime()
	org.save(ignore_permissions=True)
	forget_xero_lists(organisation)
	counts = {}
	for row in rows:
		counts[row["kind"]] = counts.get(row["kind"], 0) + 1
	create_log(
		"Success",
		operation="Import Xero Lists",
		organisation=organisation,
		message=", ".join(f"{count} {kind}" for kind, count in counts.items()),
	)
	return counts


def suggest_mappings(organisation: str) -> list[str]:
	"""Add suggested mappings for what is not mapped yet; returns one sentence per suggestion."""
	org = frappe.get_doc("Xero Organisation", organisation)
	if not org.xero_references:
		frappe.throw(_("Import the Xero lists first: suggestions are made from them."))
	refs = {}
	for row in org.xero_references:
		refs.setdefault(row.kind, []).append(row)
	xero_accounts = [
		{"Code": r.code, "Name": r.reference_name, "Type": r.detail, "Status": "ACTIVE"}
		for r in refs.get("Account", [])
	]
	xero_rates = [
		{"TaxType": r.code, "Name": r.reference_name, "EffectiveRate": r.detail, "Status": "ACTIVE"}
		for r in refs.get("Tax Rate", [])
	]
	mapped_accounts = {row.account for row in org.account_mappings}
	mapped_taxes = {row.erpnext_tax for row in org.tax_mappings}
	mapped_items = {row.item for row in org.item_mappings}
	accounts = frappe.get_all(
		"Account",
		filters={"company": org.company, "is_group": 0, "disabled": 0},
		fields=["name", "account_name", "account_number", "root_type", "account_type", "tax_rate"],
	)
	added = []
	for account, (code, name) in account_suggestions(
		[a for a in accounts if a.name not in mapped_accounts], xero_accounts
	).items():
		org.append(
			"account_mappings", {"account": account, "xero_account_code": code, "xero_account_name": name}
		)
		added.append(_("{0} -> Xero account {1} {2}").format(account, code, name))
	tax_accounts = [a for a in accounts if a.account_type == "Tax" and a.name not in mapped_taxes]
	for account, tax_type in tax_suggestions(tax_accounts, xero_rates).items():
		org.append(
			"tax_mappings", {"erpnext_tax_type": "Account", "erpnext_tax": account, "xero_tax_type": tax_type}
		)
		added.append(_("{0} -> Xero tax type {1}").format(account, tax_type))
	item_codes = frappe.get_all("Item", filters={"disabled": 0}, pluck="name")
	xero_items = [{"Code": r.code} for r in refs.get("Item", [])]
	for item, code in item_suggestions([i for i in item_codes if i not in mapped_items], xero_items).items():
		org.append("item_mappings", {"item": item, "xero_item_code": code})
		added.append(_("{0} -> Xero item {1}").format(item, code))
	org.save()
	return added
