"""The pull jobs: Xero to ERPNext, what changed since each object's watermark (scheduled, Sync now,
`bench xero pull`), in pages of 1,000, oldest change first.

The applying is done by the object families in sync/inbound/ (contacts, invoices and credit notes,
advances, payments), on their shared base: each record in its own transaction, written through one path that
flags it from Xero (never pushed back). A record that fails is logged as Needs Attention; a scheduled
pull holds it aside (sync/held.py) and retries it by id, so it never pins the watermark; Import History
resumes at it.
"""

from collections import Counter
from contextlib import contextmanager
from typing import ClassVar

import frappe
from frappe import _
from redis.exceptions import LockError

from xero_integration.core.errors import XeroError
from xero_integration.core.objects import OBJECTS, SYNCED
from xero_integration.core.pull import Watermark, if_modified_since
from xero_integration.sync import connection
from xero_integration.sync.inbound.advances import AdvancesIn
from xero_integration.sync.inbound.base import DIRECTION
from xero_integration.sync.inbound.contacts import ContactsIn
from xero_integration.sync.inbound.invoices import TransactionsIn
from xero_integration.sync.inbound.payments import PaymentsIn
from xero_integration.sync.integration_user import as_integration_user
from xero_integration.sync.log import create_log

WATERMARK_FIELD = {
	"Contact": "contacts_pulled_until",
	"Invoice": "invoices_pulled_until",
	"CreditNote": "credit_notes_pulled_until",
	"Overpayment": "overpayments_pulled_until",
	"Prepayment": "prepayments_pulled_until",
	"Payment": "payments_pulled_until",
}
LOCK_SECONDS = 900


class Applier(ContactsIn, TransactionsIn, AdvancesIn, PaymentsIn):
	"""One organisation's pull, applying every object family's records."""

	APPLIES: ClassVar[dict] = {
		**ContactsIn.APPLIES,
		**TransactionsIn.APPLIES,
		**AdvancesIn.APPLIES,
		**PaymentsIn.APPLIES,
	}
	BRINGS_FIRST: ClassVar[dict] = {
		**TransactionsIn.BRINGS_FIRST,
		**AdvancesIn.BRINGS_FIRST,
		**PaymentsIn.BRINGS_FIRST,
	}


@contextmanager
def inbound_lock(organisation: str, blocking_timeout: float = 0):
	"""One inbound run per organisation at a time, so two runs never create the same record twice.
	Yields the lock (to reacquire on long runs), or None when another run holds it."""
	lock = frappe.cache.lock(
		f"{frappe.local.site}:xero_integration:inbound:{organisation}",
		timeout=LOCK_SECONDS,
		blocking_timeout=blocking_timeout or None,
	)
	if not lock.acquire(blocking=bool(blocking_timeout)):
		yield None
		return
	try:
		yield lock
	finally:
		try:
			lock.release()
		except Exception:  # expired while we worked: nothing left to release
			pass


def still_held(lock) -> bool:
	"""Extend the inbound lock for the next batch; False when it was lost (expired or taken)."""
	try:
		lock.reacquire()
		return True
	except LockError:
		return False


def ready(organisation: str) -> bool:
	return connection.is_connected(organisation, linked=True)


# ---- scheduled and on-demand pulls -------------------------------------------------------------


@as_integration_user()
def pull_organisation(organisation: str, objects=SYNCED) -> Counter:
	"""Pull what changed in Xero since each object's watermark. The scheduler, Sync now and
	`bench xero pull` all run this, as the integration user."""
	counts: Counter = Counter()
	if not frappe.db.get_single_value("Xero Settings", "enabled") or not ready(organisation):
		return counts
	with inbound_lock(organisation, blocking_timeout=5) as lock:
		if lock is None:
			create_log(
				"Skipped",
				operation="Pull from Xero",
				direction=DIRECTION,
				organisation=organisation,
				message=_("Another pull or import of this organisation is running; this one was skipped."),
			)
			frappe.db.commit()
			return counts
		applier = Applier(organisation)
		status, message = "Success", None
		try:
			for kind in objects:
				retry_held(applier, kind)
				field = WATERMARK_FIELD[kind]
				since = frappe.db.get_value("Xero Organisation", organisation, field)
				pull_object(
					applier,
					kind,
					since=since,
					save=lambda mark, field=field: frappe.db.set_value(
						"Xero Organisation", organisation, field, db_datetime(mark), update_modified=False
					),
					lock=lock,
					hold_failures=True,
				)
		except XeroError as e:
			frappe.db.rollback()
			status = "Retrying" if e.retryable else "Failed"
			message = _(
				"Xero did not answer the pull ({0}); the next pull resumes where this one stopped."
			).format(e)
		counts = applier.counts
		create_log(
			status,
			operation="Pull from Xero",
			direction=DIRECTION,
			organisation=organisation,
			message=" ".join(filter(None, (message, summary(counts)))),
		)
		frappe.db.commit()
	return counts


def pull_object(
	applier, kind: str, *, since, save, where=None, on_page=None, lock=None, hold_failures=False
) -> Watermark:
	"""Page through what changed since `since` (oldest change first, 1000 a page), applying each page
	and only then calling save(watermark): an interruption re-reads at most one page.

	hold_failures: a record that fails is held aside and the watermark moves past it (retry_held
	retries it); a held version read again (a page re-reads the watermark's own second) is left alone."""
	mark = Watermark(since)
	id_key = OBJECTS[kind].id_key
	params = {"order": "UpdatedDateUTC ASC"}
	if since is not None:
		params["if_modified_since"] = if_modified_since(since)
	if where:
		params["where"] = where
	for page, (records, pagination) in enumerate(
		applier.client.pages(kind, page_size=applier.page_size, **params), start=1
	):
		waiting = {
			r[id_key]
			for r in records
			if hold_failures and applier.held.waits(kind, r[id_key], r.get("UpdatedDateUTC"))
		}
		outcomes = applier.apply_all(kind, [r for r in records if r[id_key] not in waiting])
		for record in records:
			if record[id_key] in waiting:
				mark.record(record.get("UpdatedDateUTC"), ok=False, held=True)
		for outcome in outcomes:
			if hold_failures and not outcome.ok:
				applier.hold(kind, outcome)
			mark.record(outcome.stamp, outcome.ok, held=hold_failures)
		if mark.safe is not None:
			save(mark.safe)
		frappe.db.commit()
		if on_page:
			on_page(kind, page, pagination, outcomes)
		if lock is not None and not still_held(lock):
			break  # stop at a page boundary rather than apply alongside another run
	return mark


def retry_held(applier, kind: str) -> None:
	"""The held records of one object, fetched by id and applied again (released when they apply, held
	again or parked when they fail); one Xero no longer has is released, with a log saying so."""
	ids = applier.held.retrying(kind)
	if not ids:
		return
	records = applier.fetch(kind, ids)
	for xero_id in ids:
		if xero_id not in records:
			applier.held.release(kind, xero_id)
			applier.log(
				"Skipped",
				kind,
				xero_id,
				_("Xero no longer has {0} {1}: it is not retried, and nothing changed in ERPNext.").format(
					kind, xero_id
				),
			)
	for outcome in applier.apply_all(kind, list(records.values())):
		if not outcome.ok:
			applier.hold(kind, outcome)
	frappe.db.commit()


def summary(counts: Counter) -> str:
	if not counts:
		return _("Nothing changed in Xero.")
	return ", ".join(f"{result}: {count}" for result, count in sorted(counts.items()))


def db_datetime(moment):
	"""A UTC moment as the naive datetime Frappe stores; watermarks are UTC, like Xero's stamps."""
	return moment.replace(tzinfo=None) if moment else None


def run_scheduled(frequency: str) -> None:
	"""Enqueue a pull of every linked organisation when Xero Settings' Pull Frequency is `frequency`."""
	if frappe.db.get_single_value("Xero Settings", "pull_frequency") != frequency:
		return
	if not frappe.db.get_single_value("Xero Settings", "enabled"):
		return
	for organisation in connection.connected_organisations(linked=True):
		enqueue_pull(organisation)


def pull_hourly():
	run_scheduled("Hourly")


def pull_daily():
	run_scheduled("Daily")


def pull_weekly():
	run_scheduled("Weekly")


def pull_monthly():
	run_scheduled("Monthly")


def enqueue_pull(organisation: str) -> None:
	frappe.enqueue(
		"xero_integration.sync.pull.pull_organisation",
		queue="long",
		organisation=organisation,
		enqueue_after_commit=True,
		job_id=f"xero_integration:pull:{organisation}",
		deduplicate=True,
	)
