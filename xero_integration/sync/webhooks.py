"""Xero webhooks: verify, store, acknowledge; then a job fetches what the events announce.

The request does no Xero call: events are stored (one row per de-duplication key, so Xero's
at-least-once redeliveries are stored once) and a processing job is enqueued after commit. The job
fetches the announced records in bulk and applies them through sync/pull.py, exactly as a pull does.
"""

import frappe
from frappe import _
from frappe.utils import now_datetime
from frappe.utils.password import get_decrypted_password

from xero_integration.core.objects import SYNCED, of_category
from xero_integration.core.pull import xero_datetime
from xero_integration.core.webhook import MalformedWebhook, is_signature_valid, is_too_large, parse_events
from xero_integration.sync import connection, pull
from xero_integration.sync.inbound import base as inbound
from xero_integration.sync.integration_user import as_integration_user
from xero_integration.sync.log import create_log

QUEUED, PROCESSED, IGNORED, FAILED = "Queued", "Processed", "Ignored", "Failed"
EVENTS_PER_RUN = 500
# Events of these organisations are kept; those of one that must reconnect wait until it is connected.
KEPT_STATUSES = ("Connected", "Reconnect Needed")
EVENT_FIELDS = (
	"name",
	"organisation",
	"category",
	"event_type",
	"resource_id",
	"event_date",
	"status",
	"creation",
	"modified",
	"owner",
	"modified_by",
)
STATUS_OF_RESULT = {
	inbound.Result.CREATED: PROCESSED,
	inbound.Result.UPDATED: PROCESSED,
	inbound.Result.LINKED: PROCESSED,
	inbound.Result.UNCHANGED: PROCESSED,
	inbound.Result.ECHO: IGNORED,
	inbound.Result.SKIPPED: IGNORED,
	inbound.Result.FAILED: FAILED,
	inbound.Result.MISSING: FAILED,
}


def receive(request, signature: str | None) -> int:
	"""The HTTP status for one delivery: its size, then its signature, are checked before anything else.

	Frappe itself reads every request body (and parses a JSON one) before app code runs, up to its
	max_file_size; an oversized body is refused here before the signature check and our parsing."""
	if is_too_large(request.content_length):
		return 413
	body = request.get_data()
	if is_too_large(len(body)):
		return 413  # sent without a Content-Length (chunked)
	key = get_decrypted_password("Xero Settings", "Xero Settings", "webhook_key", raise_exception=False)
	if not is_signature_valid(body, signature, key or ""):
		return 401
	try:
		events = parse_events(body)
	except MalformedWebhook:
		return 400
	if events:
		with as_integration_user():  # not Guest: the stored events, and the job they queue, run as it
			store(events)
	return 200


def store(events) -> None:
	"""Keep the events of connected organisations, once each, and enqueue their processing. Those of an
	organisation that must reconnect are kept too: they are processed once it is connected again.

	Events of other tenants are acknowledged and logged, not refused: Xero retries a refused
	delivery for a day and then disables the webhook for every organisation of the app.
	"""
	kept = set(connection.organisations_in(KEPT_STATUSES))
	known = [e for e in events if e.tenant_id in kept]
	unknown = sorted({e.tenant_id for e in events} - kept)
	if unknown:
		create_log(
			"Skipped",
			operation="Webhook",
			direction=inbound.DIRECTION,
			message=_(
				"Ignored {0} webhook events for Xero organisations that are not connected to this site: {1}."
			).format(len(events) - len(known), ", ".join(unknown)),
		)
	now, user = now_datetime(), frappe.session.user
	rows = {
		e.dedup_key: (
			e.dedup_key,
			e.tenant_id,
			e.category,
			e.event_type,
			e.resource_id.lower(),
			event_datetime(e.event_date),
			QUEUED,
			now,
			now,
			user,
			user,
		)
		for e in known
	}
	# INSERT IGNORE: an event delivered before keeps its row (the name is its de-duplication key).
	frappe.db.bulk_insert("Xero Webhook Event", EVENT_FIELDS, list(rows.values()), ignore_duplicates=True)
	for organisation in sorted({e.tenant_id for e in known}):
		enqueue_processing(organisation)


def event_datetime(value: str):
	moment = xero_datetime(value)
	return moment.replace(tzinfo=None) if moment else None


def enqueue_processing(organisation: str) -> None:
	frappe.enqueue(
		"xero_integration.sync.webhooks.process",
		queue="short",
		organisation=organisation,
		enqueue_after_commit=True,
		job_id=f"xero_integration:webhooks:{organisation}",
		deduplicate=True,
	)


def process_all() -> None:
	"""Scheduler safety net: events whose job was lost (worker died, lock busy) or that waited for their
	organisation to be connected again are processed here."""
	for organisation in frappe.get_all(
		"Xero Webhook Event", filters={"status": QUEUED}, pluck="organisation", distinct=True
	):
		enqueue_processing(organisation)


@as_integration_user()
def process(organisation: str) -> int:
	"""Apply every queued event of one organisation; returns how many events were settled."""
	if not pull.ready(organisation) or not frappe.db.get_single_value("Xero Settings", "enabled"):
		return 0
	settled = 0
	with pull.inbound_lock(organisation, blocking_timeout=60) as lock:
		if lock is None:
			return 0  # a pull holds the organisation; the safety net runs these events later
		applier = pull.Applier(organisation)
		while True:
			events = frappe.get_all(
				"Xero Webhook Event",
				filters={"organisation": organisation, "status": QUEUED},
				fields=["name", "category", "resource_id", "event_date"],
				order_by="event_date asc, creation asc",
				limit=EVENTS_PER_RUN,
			)
			if not events:
				break
			for kind in SYNCED:
				batch = [e for e in events if kind_of(e) == kind]
				if batch:
					settle(applier, kind, batch)
			for event in events:
				if kind_of(event) is None:
					mark([event], IGNORED, _("Not about accounting data."))
			frappe.db.commit()
			settled += len(events)
			if not pull.still_held(lock):
				break  # the rest stay queued for the safety net rather than risk a concurrent run
	return settled


def kind_of(event) -> str | None:
	"""The Xero object an event is about (None for SUBSCRIPTION events, not about accounting data)."""
	xero_object = of_category(event.category)
	return xero_object.kind if xero_object else None


def settle(applier, kind: str, events: list) -> None:
	"""Fetch the announced records in bulk and apply each once, however many events name it."""
	by_resource: dict[str, list] = {}
	for event in events:
		by_resource.setdefault(event.resource_id, []).append(event)
	records = applier.fetch(
		kind, list(by_resource), event_dates=[e.event_date.isoformat() for e in events if e.event_date]
	)
	found = [records[resource] for resource in by_resource if resource in records]
	outcomes = {outcome.xero_id.lower(): outcome for outcome in applier.apply_all(kind, found)}
	for resource, resource_events in by_resource.items():
		outcome = outcomes.get(resource)
		if outcome is None:
			report_missing(applier.organisation, kind, resource)
			mark(resource_events, FAILED, _("Xero has no such record any more."))
		else:
			mark(resource_events, STATUS_OF_RESULT[outcome.result], outcome.message)
	frappe.db.commit()


def report_missing(organisation: str, kind: str, xero_id: str) -> None:
	create_log(
		"Needs Attention",
		operation=f"{kind} from Xero",
		direction=inbound.DIRECTION,
		organisation=organisation,
		xero_object=kind,
		xero_id=xero_id,
		message=_(
			"Xero announced a change to {0} {1} but no longer has it (deleted, or not visible to this "
			"connection). Nothing was changed in ERPNext; if the record should exist, check it in Xero."
		).format(kind, xero_id),
	)


def mark(events: list, status: str, message: str | None = None) -> None:
	frappe.db.set_value(
		"Xero Webhook Event",
		{"name": ("in", [e.name for e in events])},
		{"status": status, "message": message},
		update_modified=True,
	)
