"""Sync activity by day and status: one stacked bar per day of the last 30, one colour per status."""

import frappe
from frappe import _
from frappe.utils import add_days, formatdate, getdate, nowdate
from frappe.utils.dashboard import cache_source

DAYS = 30
# Every status always has its dataset, so the chart's colours (custom_options) stay with their status.
STATUS_ORDER = ("Success", "Skipped", "Retrying", "Needs Attention", "Failed", "Queued")


@frappe.whitelist()
@cache_source
def get(
	chart_name=None,
	chart=None,
	no_cache=None,
	filters=None,
	from_date=None,
	to_date=None,
	timespan=None,
	time_interval=None,
	heatmap_year=None,
):
	frappe.has_permission("Xero Sync Log", "read", throw=True)
	filters = frappe.parse_json(filters) or {}
	first_day = add_days(nowdate(), -(DAYS - 1))
	conditions = {"creation": (">=", first_day)}
	if filters.get("organisation"):
		conditions["organisation"] = filters["organisation"]
	counts = frappe.get_all(
		"Xero Sync Log",
		filters=conditions,
		fields=["date(creation) as day", "status", "count(name) as count"],
		group_by="date(creation), status",
	)
	days = [add_days(first_day, offset) for offset in range(DAYS)]
	by_day_status = {(getdate(row.day), row.status): row.count for row in counts}
	return {
		"labels": [formatdate(day, "dd MMM") for day in days],
		"datasets": [
			{"name": _(status), "values": [by_day_status.get((getdate(day), status), 0) for day in days]}
			for status in STATUS_ORDER
		],
	}
