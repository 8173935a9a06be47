"""The durable queue between a user's transaction and Xero.

Rows are written in the user's transaction (a rollback leaves nothing queued) and a drain job is
enqueued to run after commit (a commit is never lost: the per-minute scheduler drains whatever a
lost job left behind). One drain per organisation runs at a time, under a Redis lock.
"""

import os
import socket
import uuid

import frappe
from frappe.utils import add_to_date, now_datetime

from xero_integration.core.batching import STAGE_ORDER

PENDING, PROCESSING, DONE, NEEDS_ATTENTION, CANCELLED = (
	"Pending",
	"Processing",
	"Done",
	"Needs Attention",
	"Cancelled",
)
OPEN_STATUSES = (PENDING, PROCESSING, NEEDS_ATTENTION)
# A drain renews its lock every batch; one that died without releasing it blocks for at most this long.
DRAIN_LOCK_SECONDS = 300
# A drain hands a long backlog over to a fresh job after DRAIN_SECONDS, well inside its job's timeout (a
# batch may still wait a minute for Xero's rate window), so rq never kills it in the middle of a batch.
DRAIN_SECONDS, DRAIN_JOB_TIMEOUT = 240, 600
# Exponential backoff in seconds for retryable failures, capped at one hour.
BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS = 5, 3600


def enqueue(organisation: str, object_type: str, operation: str, doctype: str, name: str) -> str | None:
	"""Queue one piece of work unless the same work is already waiting; returns the row name.

	This runs inside the user's submit, so it is kept to an indexed look-up, then an insert (named from
	the sequence) or, for a row held back or needing attention, an update."""
	if (object_type, operation) not in STAGE_ORDER:
		raise ValueError(f"Unknown outbox work {object_type} {operation}")
	waiting = frappe.db.get_value(
		"Xero Outbox",
		{
			"organisation": organisation,
			"object_type": object_type,
			"operation": operation,
			"reference_doctype": doctype,
			"reference_name": name,
			"status": ("in", (PENDING, NEEDS_ATTENTION)),
		},
		["name", "status", "next_attempt_at"],
		as_dict=True,
	)
	if waiting:
		# The worker maps the document as it is when sent, so one waiting row covers every change.
		if waiting.status != PENDING or waiting.next_attempt_at:
			frappe.db.set_value("Xero Outbox", waiting.name, {"status": PENDING, "next_attempt_at": None})
		row_name = waiting.name
	else:
		row_name = insert_row(
			organisation=organisation,
			company=frappe.get_cached_value("Xero Organisation", organisation, "company"),
			object_type=object_type,
			operation=operation,
			stage=STAGE_ORDER[(object_type, operation)],
			reference_doctype=doctype,
			reference_name=name,
			status=PENDING,
		)
	schedule_drain(organisation)
	return row_name


def insert_row(**values) -> int:
	"""One INSERT, without Document.insert's validation, hooks and list-view notification: every value
	was just read from the database or is one of the queue's constants, and nobody watches the row
	being written inside someone else's submit."""
	stamp, user = now_datetime(), frappe.session.user
	row = {
		"name": frappe.db.get_next_sequence_val("Xero Outbox"),
		"creation": stamp,
		"modified": stamp,
		"owner": user,
		"modified_by": user,
		**values,
	}
	frappe.db.bulk_insert("Xero Outbox", list(row), [tuple(row.values())])
	return row["name"]


def cancel_waiting(organisation: str, object_type: str, operation: str, doctype: str, name: str) -> bool:
	"""Withdraw work that was never sent (e.g. submit then cancel before a worker ran)."""
	rows = frappe.get_all(
		"Xero Outbox",
		filters={
			"organisation": organisation,
			"object_type": object_type,
			"operation": operation,
			"reference_doctype": doctype,
			"reference_name": name,
			"status": ("in", (PENDING, NEEDS_ATTENTION)),
			"uncertain": 0,
			"attempts": 0,
		},
		pluck="name",
	)
	for row in rows:
		frappe.db.set_value("Xero Outbox", row, "status", CANCELLED)
	return bool(rows)


def schedule_drain(organisation: str, *, handover: bool = False) -> None:
	"""Queue a drain after commit; one waits per organisation. A drain handing over is itself that job,
	so its successor is queued without the shared id (the drain lock keeps drains one at a time)."""
	if not handover:
		# One drain job per organisation per transaction: a submit often queues a party and its document.
		queued = frappe.flags.setdefault("xero_drains_queued", set())
		if organisation in queued:
			return
		if not queued:
			frappe.db.after_commit.add(queued.clear)
			frappe.db.after_rollback.add(queued.clear)
		queued.add(organisation)
	frappe.enqueue(
		"xero_integration.sync.push.drain",
		queue="short",
		timeout=DRAIN_JOB_TIMEOUT,
		organisation=organisation,
		enqueue_after_commit=True,
		job_id=None if handover else f"xero_integration:drain:{organisation}",
		deduplicate=not handover,
	)


def due_rows(organisation: str, limit: int) -> list[dict]:
	"""Pending work whose retry time has come, oldest first."""
	return frappe.db.sql(
		"""select name, stage, object_type, operation, reference_doctype, reference_name, attempts, uncertain
		from `tabXero Outbox`
		where organisation=%(organisation)s and status=%(pending)s
			and (next_attempt_at is null or next_attempt_at <= %(now)s)
		order by stage, creation, name limit %(limit)s""",
		{"organisation": organisation, "pending": PENDING, "now": now_datetime(), "limit": limit},
		as_dict=True,
	)


def claim(rows: list[dict]) -> None:
	names = [row["name"] for row in rows]
	if names:
		frappe.db.sql(
			"update `tabXero Outbox` set status=%s, claimed_at=%s where name in %s",
			(PROCESSING, now_datetime(), tuple(names)),
		)
		frappe.db.commit()


def recover_abandoned(organisation: str) -> int:
	"""Rows left Processing by a worker that died: back to Pending, flagged so the next send looks first."""
	return (
		frappe.db.sql(
			"update `tabXero Outbox` set status=%s, uncertain=1 where organisation=%s and status=%s",
			(PENDING, organisation, PROCESSING),
		)
		or 0
	)


def mark_all_done(names: list) -> None:
	if names:
		frappe.db.sql(
			"""update `tabXero Outbox` set status=%s, uncertain=0, last_error=null, modified=%s
			where name in %s""",
			(DONE, now_datetime(), tuple(names)),
		)


def mark_needs_attention(row: dict, message: str) -> None:
	frappe.db.set_value(
		"Xero Outbox",
		row["name"],
		{"status": NEEDS_ATTENTION, "last_error": message, "attempts": row["attempts"] + 1},
	)


def mark_retry(
	row: dict,
	message: str,
	*,
	uncertain: bool,
	delay_seconds: float | None = None,
	count_attempt: bool = True,
) -> int:
	"""Schedule another attempt (exponential backoff unless a delay is given); returns the attempt count.
	Waiting for a dependency or for Xero's budget is not a failed attempt: count_attempt=False."""
	attempts = row["attempts"] + (1 if count_attempt else 0)
	delay = delay_seconds if delay_seconds is not None else backoff_seconds(attempts)
	frappe.db.set_value(
		"Xero Outbox",
		row["name"],
		{
			"status": PENDING,
			"attempts": attempts,
			"last_error": message,
			"uncertain": 1 if uncertain or row.get("uncertain") else 0,
			"next_attempt_at": add_to_date(now_datetime(), seconds=delay),
		},
	)
	return attempts


def release(row: dict) -> None:
	"""Back to the queue untouched: the work was not attempted (e.g. its dependency is not in Xero yet)."""
	frappe.db.set_value("Xero Outbox", row["name"], "status", PENDING)


def backoff_seconds(attempts: int) -> float:
	return min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)


def retry(names: list[str]) -> int:
	"""Put rows that need attention back in the queue (the Retry button)."""
	count = 0
	for name in names:
		row = frappe.get_doc("Xero Outbox", name)
		if row.status in (NEEDS_ATTENTION, PENDING):
			row.db_set({"status": PENDING, "next_attempt_at": None, "last_error": None})
			schedule_drain(row.organisation)
			count += 1
	return count


_RELEASE_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class DrainLock:
	"""One drain per organisation at a time, across all workers.

	The lock names its holder (host and process). A holder on this host that no longer exists (a worker
	killed with SIGKILL) is recognised at once; on other hosts the lock expires after DRAIN_LOCK_SECONDS.
	"""

	def __init__(self, organisation: str):
		self.key = f"{frappe.local.site}:xero_integration:drain:{organisation}"
		self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
		self._ttl_ms = DRAIN_LOCK_SECONDS * 1000

	def acquire(self) -> bool:
		if frappe.cache.set(self.key, self.token, nx=True, px=self._ttl_ms):
			return True
		holder = frappe.cache.get(self.key)
		if holder and _holder_is_dead(holder.decode()):
			frappe.cache.eval(_RELEASE_IF_OURS, 1, self.key, holder)
			return bool(frappe.cache.set(self.key, self.token, nx=True, px=self._ttl_ms))
		return False

	def renew(self) -> None:
		frappe.cache.eval(_RENEW_IF_OURS, 1, self.key, self.token, self._ttl_ms)

	def release(self) -> None:
		frappe.cache.eval(_RELEASE_IF_OURS, 1, self.key, self.token)


def _holder_is_dead(holder: str) -> bool:
	host, pid, _token = holder.split(":", 2)
	if host != socket.gethostname():
		return False
	try:
		os.kill(int(pid), 0)
	except ProcessLookupError:
		return True
	except (PermissionError, ValueError):
		return False
	# A killed worker whose parent died too may linger as a zombie where nothing reaps it.
	try:
		with open(f"/proc/{int(pid)}/stat") as stat:
			return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
	except OSError:
		return False
