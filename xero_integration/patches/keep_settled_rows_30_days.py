import frappe


def execute():
	"""Xero Settings saved before "Keep Settled Rows for (Days)" existed keep 30 days, as new ones do. Settings
	never saved are left alone: their first save stores every default."""
	stored = frappe.db.get_singles_dict("Xero Settings")
	if stored and "keep_settled_rows_days" not in stored:
		frappe.db.set_single_value("Xero Settings", "keep_settled_rows_days", 30)
