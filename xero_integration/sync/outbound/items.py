"""ERPNext Items to the Xero price list (Items): one Xero item per ERPNext item, matched by code to an
item Xero already has instead of a twin; a code or name longer than Xero keeps is mapped and said
(core/mapping/item.py)."""

from functools import cached_property
from typing import ClassVar

import frappe
from frappe import _

from xero_integration.core.mapping.item import item_payload
from xero_integration.sync.outbound.base import Outbound, Work, payload_hash


class ItemsOut(Outbound):
	HANDLES: ClassVar[dict] = {("Item", "upsert"): "push_items"}

	def push_items(self, rows: list[dict]):
		works = self.changed_upserts(rows, "Item", self.prepare_item)
		for work, result in self.send("Item", works, look_up_stale=False):
			if result.ok:
				self.done(work, "Item", result.xero_id, None, result.element)
			else:
				self.attention(work, result.errors, result.element)

	def prepare_item(self, work: Work) -> None:
		"""The payload a sync sends for this item; one not linked yet takes over the Xero item of the same
		code (Xero keeps codes unique)."""
		income, expense = self.item_accounts(work.doc)
		mapped = item_payload(
			work.doc,
			self.ctx,
			income_account=income,
			expense_account=expense,
			item_id=work.link and work.link["xero_id"],
		)
		work.payload, work.notes = mapped.payload, mapped.notes
		work.hash = payload_hash("Item", work.payload)
		existing = not work.link and self.xero_items.get(work.payload["Code"].lower())
		if existing:
			work.payload["ItemID"] = existing["ItemID"]
			work.notes.append(_("Linked to the existing Xero item {0} (same code).").format(existing["Code"]))

	def item_accounts(self, item) -> tuple[str | None, str | None]:
		"""Income and expense accounts of the item in this organisation's Company: its own defaults
		there, else the Company's."""
		defaults = next((row for row in item.get("item_defaults") or [] if row.company == self.company), {})
		company = frappe.get_cached_value(
			"Company", self.company, ["default_income_account", "default_expense_account"], as_dict=True
		)
		return (
			defaults.get("income_account") or company.default_income_account,
			defaults.get("expense_account") or company.default_expense_account,
		)

	@cached_property
	def company(self) -> str:
		return frappe.db.get_value("Xero Organisation", self.organisation, "company")

	@cached_property
	def xero_items(self) -> dict[str, dict]:
		"""Xero's items by lowercase code, read once a drain (GET /Items is not paged)."""
		return {item["Code"].lower(): item for item in self.client.list_all("Item") if item.get("Code")}
