"""Xero records a scheduled pull set aside (Xero Held Record), so that its watermark moves on past them.

A record that fails is held and, on each later pull, fetched by id and applied again before the pull
reads what changed (sync/pull.py retry_held); after core.pull.HOLD_ATTEMPTS failures in all it is
parked and no longer retried until it changes in Xero. A held record applied by any path (a retry, a
change in Xero, a webhook, Import History) is released.
"""

import frappe

from xero_integration.core.pull import after_failure, same_moment

DOCTYPE = "Xero Held Record"
RETRYING, PARKED = "Retrying", "Parked"
FIELDS = ("name", "xero_object", "xero_id", "status", "attempts", "xero_updated", "message")


class HeldRecords:
	"""The held records of one organisation, read once for a run (an Applier's lifetime) and kept in
	step with what the run writes."""

	def __init__(self, organisation: str):
		self.organisation = organisation
		self.rows = {
			(row.xero_object, row.xero_id): row
			for row in frappe.get_all(DOCTYPE, filters={"organisation": organisation}, fields=FIELDS)
		}

	def row(self, kind: str, xero_id: str | None):
		return self.rows.get((kind, (xero_id or "").lower()))

	def retrying(self, kind: str) -> list[str]:
		return [
			xero_id
			for (held_kind, xero_id), row in self.rows.items()
			if held_kind == kind and row.status == RETRYING
		]

	def waits(self, kind: str, xero_id: str, stamp) -> bool:
		"""This version of the record is held (or parked): a page that reads it again leaves it alone."""
		row = self.row(kind, xero_id)
		return row is not None and same_moment(row.xero_updated, stamp)

	def repeats(self, kind: str, xero_id: str | None, message: str) -> bool:
		"""A retry failing for the reason already logged: not logged again."""
		row = self.row(kind, xero_id)
		return row is not None and row.status == RETRYING and row.message == message

	def hold(self, kind: str, outcome) -> bool:
		"""One more failure: held for a retry, or parked at the cap (True when this failure parks it).
		A parked record that changed in Xero starts afresh."""
		row = self.row(kind, outcome.xero_id)
		fresh = row is None or (row.status == PARKED and not same_moment(row.xero_updated, outcome.stamp))
		attempts, parked = after_failure(0 if fresh else row.attempts)
		values = {
			"status": PARKED if parked else RETRYING,
			"attempts": attempts,
			"xero_updated": outcome.stamp,
			"message": outcome.message,
		}
		self.save(kind, outcome.xero_id, row, values)
		return parked

	def release(self, kind: str, xero_id: str | None) -> None:
		"""The record is in ERPNext now: nothing to retry."""
		row = self.row(kind, xero_id)
		if row is not None:
			frappe.db.delete(DOCTYPE, {"name": row.name})
			del self.rows[(kind, row.xero_id)]

	def save(self, kind: str, xero_id: str, row, values: dict) -> None:
		if row is not None:
			frappe.db.set_value(DOCTYPE, row.name, values)
			row.update(values)
			return
		doc = frappe.get_doc(
			{
				"doctype": DOCTYPE,
				"organisation": self.organisation,
				"xero_object": kind,
				"xero_id": xero_id.lower(),
				**values,
			}
		)
		doc.insert(ignore_permissions=True, set_name=f"{self.organisation}:{kind}:{xero_id.lower()}")
		self.rows[(kind, doc.xero_id)] = frappe._dict(
			{"name": doc.name, "xero_object": kind, "xero_id": doc.xero_id, **values}
		)
