"""bench commands: `bench --site S xero pull` and `bench --site S xero import-history --from-date D`.

Thin: they run the same functions as the scheduler and the Desk buttons, in the foreground.
"""

import click
from frappe.commands import get_site, pass_context


@click.group("xero")
def xero():
	"""Xero sync."""


def _organisations(organisation: str | None) -> list[str]:
	import frappe

	if organisation:
		return [organisation]
	return frappe.get_all(
		"Xero Organisation", filters={"status": "Connected", "company": ("is", "set")}, pluck="name"
	)


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


commands = [xero]
