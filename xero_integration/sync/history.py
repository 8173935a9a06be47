"""Historical import: Xero's contacts, and its invoices, credit notes, prepayments, overpayments and
payments dated from a chosen day, brought into ERPNext once.

It is the pull (sync/pull.py) with a date filter and its own cursor: per object, the Xero change
stamp reached is saved on the Xero Organisation after every page, so an interrupted import resumes
where it stopped. Records already in ERPNext are matched or found linked, never created twice, so
running the import again creates nothing. When an object is done, its pull watermark starts there.
"""

import json
from collections import Counter

import frappe
from frappe import _
from frappe.utils import getdate

from xero_integration.core.objects import SYNCED
from xero_integration.core.pull import xero_datetime
from xero_integration.sync import pull
from xero_integration.sync.inbound.base import DIRECTION
from xero_integration.sync.integration_user import as_integration_user
from xero_integration.sync.log import create_log

PROGRESS_EVENT = "xero_import_progress"
RUNNING, INTERRUPTED, COMPLETED = "Running", "Interrupted", "Completed"
# Objects with a document date; contacts have none, so all active contacts are imported.
DATED = ("Invoice", "CreditNote", "Overpayment", "Prepayment", "Payment")


def enqueue_import(organisation: str, from_date) -> None:
	frappe.enqueue(
		"xero_integration.sync.history.import_history",
		queue="long",
		timeout=6 * 3600,
		organisation=organisation,
		from_date=str(getdate(from_date)),
		user=frappe.session.user,
		enqueue_after_commit=True,
		job_id=f"xero_integration:history:{organisation}",
		deduplicate=True,
	)


def date_filter(kind: str, from_date) -> str | None:
	if kind not in DATED:
		return None
	day = getdate(from_date)
	return f"Date >= DateTime({day.year}, {day.month}, {day.day})"


@as_integration_user()
def import_history(organisation: str, from_date, user: str | None = None) -> dict[str, Counter]:
	"""Import (or resume importing) everything dated from `from_date`; returns counts per object. `user`
	(who started it) is shown the progress; the work is done as the integration user."""
	from_date = getdate(from_date)
	counts: dict[str, Counter] = {kind: Counter() for kind in SYNCED}
	if not pull.ready(organisation):
		frappe.throw(_("Link the Xero organisation to a Company before importing its history."))
	with pull.inbound_lock(organisation, blocking_timeout=5) as lock:
		if lock is None:
			frappe.throw(_("Another pull or import of this organisation is running. Try again when it ends."))
		progress = start(organisation, from_date)
		applier = pull.Applier(organisation)
		try:
			for kind in SYNCED:
				if not progress[kind].get("done"):
					import_object(applier, organisation, kind, from_date, progress, counts[kind], lock, user)
		except Exception:
			frappe.db.rollback()
			finish(organisation, progress, counts, from_date, INTERRUPTED)
			raise
		finish(organisation, progress, counts, from_date)
	return counts


def start(organisation: str, from_date) -> dict:
	"""The progress to continue from: kept when the same import was interrupted, fresh otherwise
	(a finished import run again re-reads everything, and finds it all already in ERPNext)."""
	org = frappe.db.get_value(
		"Xero Organisation",
		organisation,
		["history_from_date", "history_status", "history_progress"],
		as_dict=True,
	)
	resume = org.history_status in (RUNNING, INTERRUPTED) and getdate(org.history_from_date) == from_date
	stored = json.loads(org.history_progress or "{}") if resume else {}
	progress = {kind: stored.get(kind) or {} for kind in SYNCED}
	save_progress(organisation, progress, RUNNING, from_date)
	frappe.db.commit()
	return progress


def import_object(applier, organisation, kind, from_date, progress, counts, lock, user) -> None:
	state = progress[kind]

	def save(mark):
		state["until"] = mark.isoformat()
		save_progress(organisation, progress, RUNNING, from_date)

	def on_page(kind, page, pagination, outcomes):
		counts.update(outcome.result for outcome in outcomes)
		frappe.publish_realtime(
			PROGRESS_EVENT,
			{
				"organisation": organisation,
				"object": kind,
				"page": page,
				"done": sum(counts.values()),
				"total": (pagination or {}).get("itemCount"),
				"counts": dict(counts),
			},
			user=user,
			doctype="Xero Organisation",
			docname=organisation,
			after_commit=True,
		)

	mark = pull.pull_object(
		applier,
		kind,
		since=state.get("until"),
		save=save,
		where=date_filter(kind, from_date),
		on_page=on_page,
		lock=lock,
	)
	# A record that failed keeps the object open: the next run resumes at it.
	state["done"] = mark.failed_at is None
	save_progress(organisation, progress, RUNNING, from_date)
	if state["done"]:
		start_pulls_at(organisation, kind, mark.safe)
	frappe.db.commit()


def start_pulls_at(organisation: str, kind: str, moment) -> None:
	"""Scheduled pulls take over where the import ended (never moving a watermark back)."""
	field = pull.WATERMARK_FIELD[kind]
	current = xero_datetime(frappe.db.get_value("Xero Organisation", organisation, field))
	if moment and (current is None or moment > current):
		frappe.db.set_value(
			"Xero Organisation", organisation, field, pull.db_datetime(moment), update_modified=False
		)


def save_progress(organisation: str, progress: dict, status: str, from_date) -> None:
	frappe.db.set_value(
		"Xero Organisation",
		organisation,
		{
			"history_progress": json.dumps(progress),
			"history_status": status,
			"history_from_date": from_date,
		},
		update_modified=False,
	)


def finish(organisation: str, progress: dict, counts: dict[str, Counter], from_date, status=None) -> None:
	status = status or (COMPLETED if all(progress[kind].get("done") for kind in SYNCED) else INTERRUPTED)
	save_progress(organisation, progress, status, from_date)
	lines = [f"{kind}: {pull.summary(counts[kind])}" for kind in SYNCED if counts[kind]]
	if status == INTERRUPTED:
		lines.append(_("Some records need attention (see the log); run the import again to resume."))
	create_log(
		"Success" if status == COMPLETED else "Needs Attention",
		operation="Import history",
		direction=DIRECTION,
		organisation=organisation,
		message=_("Import of Xero history from {0}: {1}").format(
			from_date, " ".join(lines) or _("nothing to import.")
		),
	)
	frappe.db.commit()
