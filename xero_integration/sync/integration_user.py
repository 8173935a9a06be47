"""Inbound work runs as the integration user, whoever queued it (Guest for Xero's webhook deliveries,
Administrator for the scheduler): what it writes shows that user, and it has the roles the work needs."""

from contextlib import contextmanager

import frappe

from xero_integration.install import INTEGRATION_USER


@contextmanager
def as_integration_user():
	"""`with as_integration_user():`, or `@as_integration_user()` on a job function."""
	previous = frappe.session.user
	frappe.set_user(INTEGRATION_USER)
	try:
		yield
	finally:
		frappe.set_user(previous)
