"""Inbound work runs as the integration user, whoever queued it (Guest for Xero's webhook deliveries,
Administrator for the scheduler): what it writes shows that user, and it has the roles the work needs."""

from contextlib import contextmanager

import frappe

# Webhook jobs and scheduled pulls run as this user: what they write shows it, not Guest. It never
# signs in (no password; a reserved domain that receives no mail). install.py creates it.
INTEGRATION_USER = "xero-integration@xero-integration.invalid"
# Applying Xero's changes submits, cancels and amends invoices and payments; everything else it writes
# (parties, addresses, the app's own records) is written without a permission check.
INTEGRATION_ROLES = ("Accounts Manager",)


@contextmanager
def as_integration_user():
	"""`with as_integration_user():`, or `@as_integration_user()` on a job function."""
	previous = frappe.session.user
	frappe.set_user(INTEGRATION_USER)
	try:
		yield
	finally:
		frappe.set_user(previous)
