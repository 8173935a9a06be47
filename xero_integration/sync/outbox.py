"""The durable queue between a user's transaction and Xero.

Rows are written in the user's transaction (a rollback leaves nothing queued) and a drain job is
enqueued to run after commit (a commit is never lost: the per-minute scheduler drains whatever a
lost job left behind). One drain per organisation runs at a time, under a Redis lock.
"""

import hashlib
import os
import socket
import uuid
from collections import Counter
from functools import partial

import frappe
from frappe import _
from frappe.utils import add_to_date, now_datetime

from xero_integration.core.objects import STAGE_ORDER

PENDING, PROCESSING, DONE, NEEDS_ATTENTION, CANCELLED = (
	"Pending",
	"Processing",
	"Done",
	"Needs Attention",
	"Cancelled",
)
OPEN_STATUSES = (PENDING, PROCESSING, NEEDS_ATTENTION)
# A drain renews its lock before every Xero call; a drain that died without releasing it blocks for at
# most this long (site config `xero_drain_lock_seconds` overrides it).
DRAIN_LOCK_SECONDS = 300
# A drain hands a long backlog over to a fresh job after DRAIN_SECONDS, well inside its job's timeout (a
# batch may still wait a minute for Xero's rate window), so rq never kills it in the middle of a batch.
DRAIN_SECONDS, DRAIN_JOB_TIMEOUT = 240, 600
# Exponential backoff in seconds for retryable failures, capped at one hour.
BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS = 5, 3600
# After this many failed attempts (about five hours of backoff) a row is parked for a person.
MAX_ATTEMPTS = 12
SEQUENCE = "xero_outbox_id_seq"
# While a drain job waits for an organisation, commits that queue more work for it need not queue
# another (a Redis flag, cheaper in a submit than rq's look-up); a drain clears it as it starts. A lost
# job is not waited for longer than this: the scheduler's drain_all queues again after it.
DRAIN_PENDING_SECONDS = 60


def lock_seconds() -> int:
	return int(frappe.conf.get("xero_drain_lock_seconds") or DRAIN_LOCK_SECONDS)


def work_key(organisation: str, object_type: str, operation: str, doctype: str, name: str) -> str:
	"""What makes two rows the same work; unique among waiting rows (`open_key`)."""
	return hashlib.sha1("\n".join((organisation, object_type, operation, doctype, name)).encode()).hexdigest()


def enqueue(organisation: str, object_type: str, operation: str, doctype: str, name: str) -> None:
	"""Queue one piece of work unless the same work is already waiting.

	This runs inside the user's submit, so it is one statement: an INSERT that, when the same work is
	already waiting (the unique `open_key`), puts that row back in the queue instead. Two submits racing
	to queue the same new customer meet at the unique index: the second waits for the first to commit
	and then finds its row."""
	if (object_type, operation) not in STAGE_ORDER:
		raise ValueError(f"Unknown outbox work {object_type} {operation}")
	key = work_key(organisation, object_type, operation, doctype, name)
	stamp, user = now_datetime(), frappe.session.user
	values = {
		"creation": stamp,
		"modified": stamp,
		"owner": user,
		"modified_by": user,
		"organisation": organisation,
		"company": frappe.get_cached_value("Xero Organisation", organisation, "company"),
		"object_type": object_type,
		"operation": operation,
		"stage": STAGE_ORDER[(object_type, operation)],
		"reference_doctype": doctype,
		"reference_name": name,
		"status": PENDING,
		"attempts": 0,
		"open_key": key,
	}
	# The worker maps the document as it is when sent, so one waiting row covers every change; a
	# change to a parked document is new work, with a fresh count of attempts.
	# The name from the DocType's own sequence (autoincrement), in the same statement.
	frappe.db.sql(
		f"""insert into `tabXero Outbox` (`name`, {", ".join(f"`{column}`" for column in values)})
		values (nextval(`{SEQUENCE}`), {", ".join(f"%({column})s" for column in values)})
		on duplicate key update
			attempts = if(status=%(parked)s, 0, attempts),
			status = %(pending)s,
			next_attempt_at = null""",
		{**values, "parked": NEEDS_ATTENTION, "pending": PENDING},
	)
	schedule_drain(organisation)


def waiting_row(organisation: str, object_type: str, operation: str, doctype: str, name: str) -> int | None:
	"""The row this work waits in, if it does."""
	key = work_key(organisation, object_type, operation, doctype, name)
	return frappe.db.get_value("Xero Outbox", {"open_key": key}, "name")


def insert_row(**values) -> int:
	"""One INSERT of a row as given (no open_key): the benchmarks' and tests' way to stage a queue."""
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


def open_rows(organisation: str, object_type: str, operation: str, doctype: str, name: str) -> list[dict]:
	"""The rows of this work not yet over (waiting, parked or being sent)."""
	return frappe.get_all(
		"Xero Outbox",
		filters={
			"organisation": organisation,
			"object_type": object_type,
			"operation": operation,
			"reference_doctype": doctype,
			"reference_name": name,
			"status": ("in", OPEN_STATUSES),
		},
		fields=["name", "status", "uncertain", "attempts"],
	)


def open_rows_of_document(organisation: str, doctype: str, name: str) -> list[dict]:
	"""Every piece of this document's work not yet over (name and status each)."""
	return frappe.get_all(
		"Xero Outbox",
		filters={
			"organisation": organisation,
			"reference_doctype": doctype,
			"reference_name": name,
			"status": ("in", OPEN_STATUSES),
		},
		fields=["name", "status"],
	)


def open_work_by_status(organisation: str) -> Counter:
	"""How many rows of the organisation wait, are being sent or are parked, by status."""
	# Counted in Python: Frappe 16 refuses SQL functions in get_all fields.
	return Counter(
		frappe.get_all(
			"Xero Outbox",
			filters={"organisation": organisation, "status": ("in", OPEN_STATUSES)},
			pluck="status",
		)
	)


def parked_rows(organisation: str | None = None) -> list:
	"""The rows that need attention (of one organisation, or all)."""
	filters = {"status": NEEDS_ATTENTION}
	if organisation:
		filters["organisation"] = organisation
	return frappe.get_all("Xero Outbox", filters=filters, pluck="name")


def is_queued(organisation: str, doctype: str, name: str) -> bool:
	"""Whether some work of this document waits or is being sent (not parked, not over)."""
	return bool(
		frappe.db.exists(
			"Xero Outbox",
			{
				"organisation": organisation,
				"reference_doctype": doctype,
				"reference_name": name,
				"status": ("in", (PENDING, PROCESSING)),
			},
		)
	)


def still_processing(names: list) -> set:
	"""Which of these rows are still Processing (no outcome written yet)."""
	return set(
		frappe.get_all("Xero Outbox", filters={"name": ("in", names), "status": PROCESSING}, pluck="name")
	)


def withdraw(names: list, message: str) -> None:
	"""Work that will not be done (its document was cancelled, or another row does it)."""
	if names:
		frappe.db.sql(
			"""update `tabXero Outbox` set status=%s, open_key=null, last_error=%s, modified=%s
			where name in %s""",
			(CANCELLED, message, now_datetime(), tuple(names)),
		)


def withdraw_unsent(organisation: str, object_type: str, operation: str, doctype: str, name: str) -> bool:
	"""Withdraw the waiting rows of this work that surely never reached Xero (not uncertain, not being
	sent). Returns whether some row of it may still have reached Xero."""
	rows = open_rows(organisation, object_type, operation, doctype, name)
	unsent = [row.name for row in rows if row.status != PROCESSING and not row.uncertain]
	withdraw(unsent, _("Cancelled in ERPNext before it reached Xero."))
	return len(unsent) < len(rows)


def schedule_drain(organisation: str, *, handover_from: bool | None = None) -> None:
	"""Queue a drain after commit; one waits per organisation.

	A drain handing a long backlog over is itself running under the drain's job id, so its successor
	takes the other of two ids (handover_from: whether the handing drain ran under the second one):
	either way a drain is queued at most once, and the drain lock keeps the two from ever sending side
	by side."""
	if handover_from is not None:
		_enqueue_drain(organisation, handed_over=not handover_from, after_commit=True)
		return
	# One drain job per organisation per transaction: a submit often queues a party and its document.
	queued = frappe.flags.setdefault("xero_drains_queued", set())
	if organisation in queued:
		return
	if not queued:
		frappe.db.after_commit.add(queued.clear)
		frappe.db.after_rollback.add(queued.clear)
	queued.add(organisation)
	frappe.db.after_commit.add(partial(_queue_drain_unless_waiting, organisation))


def _queue_drain_unless_waiting(organisation: str) -> None:
	if frappe.cache.set(_drain_pending_key(organisation), 1, nx=True, ex=DRAIN_PENDING_SECONDS):
		_enqueue_drain(organisation, handed_over=False, after_commit=False)


def drain_started(organisation: str) -> None:
	"""Work committed from now on needs a drain of its own."""
	frappe.cache.delete(_drain_pending_key(organisation))


def _drain_pending_key(organisation: str) -> str:
	return f"{frappe.local.site}:xero_integration:drain-pending:{organisation}"


def _enqueue_drain(organisation: str, *, handed_over: bool, after_commit: bool) -> None:
	frappe.enqueue(
		"xero_integration.sync.push.drain",
		queue="short",
		timeout=DRAIN_JOB_TIMEOUT,
		organisation=organisation,
		handed_over=handed_over,
		enqueue_after_commit=after_commit,
		job_id=f"xero_integration:drain{':handover' if handed_over else ''}:{organisation}",
		deduplicate=True,
	)


def organisations_with_due_work() -> list[str]:
	return frappe.get_all("Xero Outbox", filters={"status": PENDING}, pluck="organisation", distinct=True)


def due_rows(organisation: str, limit: int) -> list[dict]:
	"""Pending work whose retry time has come, oldest first (with when it was last claimed)."""
	return frappe.db.sql(
		"""select name, stage, object_type, operation, reference_doctype, reference_name, attempts, uncertain,
			claimed_at, request_key
		from `tabXero Outbox`
		where organisation=%(organisation)s and status=%(pending)s
			and (next_attempt_at is null or next_attempt_at <= %(now)s)
		order by stage, creation, name limit %(limit)s""",
		{"organisation": organisation, "pending": PENDING, "now": now_datetime(), "limit": limit},
		as_dict=True,
	)


def claim(rows: list[dict], holder: str) -> None:
	"""Processing, by this drain; committed, so that a drain that dies leaves its rows recognisable. The
	rows get the moment of this claim (`claimed_at`) and keep the one before (`previous_claim`)."""
	names, stamp = [row["name"] for row in rows], now_datetime()
	if names:
		frappe.db.sql(
			"""update `tabXero Outbox` set status=%s, claimed_at=%s, claimed_by=%s, open_key=null
			where name in %s""",
			(PROCESSING, stamp, holder, tuple(names)),
		)
		frappe.db.commit()
	for row in rows:
		# The claim this attempt is sent under; the previous one is that of an unanswered request.
		row["previous_claim"], row["claimed_at"] = row.get("claimed_at"), stamp


def recover_abandoned(organisation: str, dead_holder: str | None = None) -> int:
	"""Rows left Processing by a drain that is gone: back in the queue, flagged so the next send looks in
	Xero first. Gone means the drain known dead, or claimed longer ago than a lock lives: a drain that
	merely lost its lock may still be sending them, and stops before settling anything."""
	abandoned = frappe.db.sql(
		"""select name, object_type, operation, reference_doctype, reference_name, attempts, uncertain
		from `tabXero Outbox`
		where organisation=%(organisation)s and status=%(processing)s
			and (claimed_by=%(dead)s or claimed_at is null or claimed_at < %(expired)s)""",
		{
			"organisation": organisation,
			"processing": PROCESSING,
			"dead": dead_holder or "",
			"expired": add_to_date(now_datetime(), seconds=-lock_seconds()),
		},
		as_dict=True,
	)
	for row in abandoned:
		_reopen(organisation, row, {"status": PENDING, "uncertain": 1})
	return len(abandoned)


def _reopen(organisation: str, row: dict, values: dict) -> None:
	"""Put a claimed row back among the waiting ones. If the same work was queued again while this row
	was being sent, that row carries on alone, inheriting this one's uncertainty."""
	key = work_key(
		organisation, row["object_type"], row["operation"], row["reference_doctype"], row["reference_name"]
	)
	for _attempt in range(2):
		waiting = frappe.db.get_value("Xero Outbox", {"open_key": key, "name": ("!=", row["name"])}, "name")
		if waiting:
			if values.get("uncertain") or row.get("uncertain"):
				frappe.db.set_value("Xero Outbox", waiting, "uncertain", 1, update_modified=False)
			withdraw([row["name"]], _("Queued again meanwhile: outbox row {0} carries on.").format(waiting))
			return
		try:
			frappe.db.set_value("Xero Outbox", row["name"], {**values, "open_key": key})
			return
		except Exception as e:
			# A submit queued the same work between the look-up and the update: merge into its row.
			if not frappe.db.is_unique_key_violation(e):
				raise


def mark_all_done(names: list) -> None:
	if names:
		frappe.db.sql(
			"""update `tabXero Outbox` set status=%s, uncertain=0, request_key=null, last_error=null,
			open_key=null, modified=%s
			where name in %s""",
			(DONE, now_datetime(), tuple(names)),
		)


def mark_needs_attention(organisation: str, row: dict, message: str, *, uncertain: bool = False) -> None:
	values = {"status": NEEDS_ATTENTION, "last_error": message, "attempts": row["attempts"] + 1}
	if uncertain:
		values["uncertain"] = 1
	_reopen(organisation, row, values)


def mark_retry(
	organisation: str,
	row: dict,
	message: str,
	*,
	uncertain: bool,
	delay_seconds: float | None = None,
	count_attempt: bool = True,
	request_key: str | None = None,
) -> int:
	"""Schedule another attempt (exponential backoff unless a delay is given); returns the attempt count.
	Waiting for a dependency or for Xero's budget is not a failed attempt: count_attempt=False. The
	MAX_ATTEMPTS-th failed attempt parks the row instead. request_key: the unanswered request's
	idempotency key, so that it can be sent again exactly as it was."""
	attempts = row["attempts"] + (1 if count_attempt else 0)
	uncertain = bool(uncertain or row.get("uncertain"))
	if attempts >= MAX_ATTEMPTS:
		parked = _("Tried {0} times without success, last: {1} Press Retry when the cause is fixed.").format(
			attempts, message
		)
		_reopen(
			organisation,
			row,
			{
				"status": NEEDS_ATTENTION,
				"attempts": attempts,
				"last_error": parked,
				"uncertain": int(uncertain),
			},
		)
		return attempts
	delay = delay_seconds if delay_seconds is not None else backoff_seconds(attempts)
	values = {
		"status": PENDING,
		"attempts": attempts,
		"last_error": message,
		"uncertain": int(uncertain),
		"next_attempt_at": add_to_date(now_datetime(), seconds=delay),
	}
	if request_key is not None or not uncertain:
		values["request_key"] = request_key
	_reopen(organisation, row, values)
	return attempts


def release(organisation: str, row: dict) -> None:
	"""Back to the queue untouched: the work was not attempted (e.g. the connection must be renewed)."""
	_reopen(organisation, row, {"status": PENDING})


def backoff_seconds(attempts: int) -> float:
	return min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)


def retry(names: list[str]) -> int:
	"""Put rows that need attention back in the queue (the Retry button), with a fresh count of attempts."""
	count = 0
	for name in names:
		row = frappe.db.get_value(
			"Xero Outbox",
			name,
			[
				"name",
				"status",
				"organisation",
				"object_type",
				"operation",
				"reference_doctype",
				"reference_name",
			],
			as_dict=True,
		)
		if row and row.status in (NEEDS_ATTENTION, PENDING):
			_reopen(
				row.organisation,
				row,
				{"status": PENDING, "next_attempt_at": None, "last_error": None, "attempts": 0},
			)
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


class DrainLockLost(Exception):
	"""Another drain holds this organisation's lock now: stop, settle nothing."""


class DrainLock:
	"""One drain per organisation at a time, across all workers.

	The lock names its holder (host, process and a token). A holder on this host that no longer exists
	(a worker killed with SIGKILL) is recognised at once, and its rows can be taken back; on other hosts
	the lock expires after lock_seconds(). The drain renews it before every Xero call (keep()).
	"""

	def __init__(self, organisation: str):
		self.key = f"{frappe.local.site}:xero_integration:drain:{organisation}"
		self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
		self.dead_holder: str | None = None
		self._ttl_ms = lock_seconds() * 1000

	def acquire(self) -> bool:
		if frappe.cache.set(self.key, self.token, nx=True, px=self._ttl_ms):
			return True
		holder = frappe.cache.get(self.key)
		if holder and _holder_is_dead(holder.decode()):
			frappe.cache.eval(_RELEASE_IF_OURS, 1, self.key, holder)
			if frappe.cache.set(self.key, self.token, nx=True, px=self._ttl_ms):
				self.dead_holder = holder.decode()
				return True
		return False

	def keep(self) -> None:
		"""Renew the lock; raises DrainLockLost when it is not ours any more."""
		if not frappe.cache.eval(_RENEW_IF_OURS, 1, self.key, self.token, self._ttl_ms):
			raise DrainLockLost(self.key)

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
