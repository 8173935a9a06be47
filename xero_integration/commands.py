"""bench commands: `bench --site S xero pull|import-history|status|sync|retry-failed`.

Thin: they run the same functions as the scheduler and the Desk buttons, in the foreground.
"""

import click
from frappe.commands import get_site, pass_context


@click.group("xero")
def xero():
	"""Xero sync."""


def _organisations(organisation: str | None) -> list[str]:
	from xero_integration.sync import connection

	return [organisation] if organisation else connection.connected_organisations(linked=True)


@xero.command("pull")
@click.option("--organisation", help="Tenant ID of one Xero organisation (default: every linked one)")
@pass_context
def pull_command(context, organisation=None):
	"""Pull what changed in Xero since the last pull."""
	import frappe

	from xero_integration.sync import pull

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		for name in _organisations(organisation):
			counts = pull.pull_organisation(name)
			click.echo(f"{name}: {pull.summary(counts)}")
	finally:
		frappe.destroy()


@xero.command("import-history")
@click.option(
	"--from-date", required=True, help="Import Xero documents dated on or after this day (YYYY-MM-DD)"
)
@click.option("--organisation", help="Tenant ID of one Xero organisation (default: every linked one)")
@pass_context
def import_history_command(context, from_date, organisation=None):
	"""Import Xero's history from a date; run it again to resume an interrupted import."""
	import frappe

	from xero_integration.sync import history, pull

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		for name in _organisations(organisation):
			counts = history.import_history(name, from_date)
			for kind, kind_counts in counts.items():
				click.echo(f"{name} {kind}: {pull.summary(kind_counts)}")
	finally:
		frappe.destroy()


@xero.command("status")
@pass_context
def status_command(context):
	"""Connection, queue and failures per organisation: what the Xero workspace shows."""
	import frappe

	from xero_integration.sync import outbox

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		settings = frappe.get_cached_doc("Xero Settings")
		click.echo(f"Sync {'on' if settings.enabled else 'off'}; connection: {settings.connection_status}")
		for org in frappe.get_all(
			"Xero Organisation", fields=["name", "organisation_name", "status", "company"], order_by="name"
		):
			queue = outbox.open_work_by_status(org.name)
			click.echo(
				f"{org.organisation_name} ({org.name}): {org.status}, company {org.company or '-'}; "
				f"queued {queue.get(outbox.PENDING, 0) + queue.get(outbox.PROCESSING, 0)}, "
				f"needs attention {queue.get(outbox.NEEDS_ATTENTION, 0)}"
			)
	finally:
		frappe.destroy()


@xero.command("sync")
@click.option("--organisation", help="Tenant ID of one Xero organisation (default: every linked one)")
@pass_context
def sync_command(context, organisation=None):
	"""Send everything queued for Xero now, in the foreground (retries that are not yet due wait)."""
	import frappe

	from xero_integration.sync import push

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		for name in _organisations(organisation):
			click.echo(f"{name}: {push.drain(name)} batch(es) sent")
	finally:
		frappe.destroy()


@xero.command("retry-failed")
@click.option("--organisation", help="Tenant ID of one Xero organisation (default: every one)")
@pass_context
def retry_failed_command(context, organisation=None):
	"""Put every outbox row that needs attention back in the queue (the Retry button, for all)."""
	import frappe

	from xero_integration.sync import outbox

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		count = outbox.retry(outbox.parked_rows(organisation))
		frappe.db.commit()
		click.echo(f"{count} row(s) queued again; run `bench xero sync` or let the workers send them.")
	finally:
		frappe.destroy()


commands = [xero]
