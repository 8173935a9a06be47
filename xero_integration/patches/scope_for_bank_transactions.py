"""Advances go to Xero as overpayments, which are bank transactions: the saved scopes gain
accounting.banktransactions. Xero grants it at the next Connect to Xero; until then sending an advance is
refused and the organisation asks to be reconnected."""

import frappe

SCOPE = "accounting.banktransactions"


def execute():
	scopes = frappe.db.get_single_value("Xero Settings", "scopes")
	if scopes and SCOPE not in scopes.split():
		frappe.db.set_single_value("Xero Settings", "scopes", f"{scopes} {SCOPE}")
