"""Sync activity by day and status: one stacked bar per day of the last 30, one colour per status, counting
the logs the user may read (those of their Companies' organisations, sync/permissions.py)."""

from collections import Counter

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
	filters = frappe.parse_json(filters) or {}
	first_day = add_days(nowdate(), -(DAYS - 1))
	conditions = {"creation": (">=", first_day)}
	if filters.get("organisation"):
		conditions["organisation"] = filters["organisation"]
	# Counted here, not in SQL: an aggregate in get_list's fields is written differently in Frappe 15 and
	# 16, and get_list is what applies the user's permissions (it refuses users who may not read logs).
	logs = frappe.get_list("Xero Sync Log", filters=conditions, fields=["creation", "status"], as_list=True)
	by_day_status = Counter((getdate(creation), status) for creation, status in logs)
	days = [add_days(first_day, offset) for offset in range(DAYS)]
	return {
		"labels": [formatdate(day, "dd MMM") for day in days],
		"datasets": [
			{"name": _(status), "values": [by_day_status.get((getdate(day), status), 0) for day in days]}
			for status in STATUS_ORDER
		],
	}
