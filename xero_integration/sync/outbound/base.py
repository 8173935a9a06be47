"""The machinery every outbound object family shares: the work of one outbox row (Work), a batch's
outcomes written together (Settlement), and the drain's base (Outbound): sending in requests with
idempotency keys (an unanswered request replayed as it was), outcomes on rows, links and logs, one bad
document parked without stopping the rest, and removals that take over a document's open sends.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import frappe
from frappe import _
from frappe.utils import now_datetime

from xero_integration.core import batching, oauth
from xero_integration.core.errors import (
	XeroAuthError,
	XeroError,
	XeroRateLimited,
	XeroUnavailable,
	XeroValidationError,
)
from xero_integration.core.mapping import content_hash
from xero_integration.core.mapping.context import MappingError
from xero_integration.core.objects import OBJECTS, SEND_OF_REMOVAL
from xero_integration.core.pull import booked_hash
from xero_integration.sync import connection, links, outbox
from xero_integration.sync.context import mapping_context, tax_rates
from xero_integration.sync.documents import load_documents
from xero_integration.sync.log import create_log, insert_logs, log_values

# Xero remembers an idempotency key for six minutes; an unanswered request is sent again as it was
# within five of them (Xero minutes: a time-scaled emulator runs them faster).
REPLAY_SECONDS = 5 * 60
DOCUMENT_SAVEPOINT, SETTLEMENT_SAVEPOINT = "xero_document", "xero_settlement"


@dataclass(eq=False)
class Work:
	"""One outbox row on its way: the document, the payload made for it, and what is known in Xero."""

	row: dict
	doc: object = None
	payload: dict | None = None
	hash: str | None = None
	link: dict | None = None
	notes: list[str] = field(default_factory=list)


@dataclass
class Settlement:
	"""A batch's outcomes, written in a few statements before the batch commits: the same transaction
	as writing them one by one, without fifty inserts of each kind. Should writing them together fail,
	each row's are written alone, and a row whose own writing fails is parked with the error."""

	links: dict = field(default_factory=dict)  # outbox row name -> link entries
	done: list = field(default_factory=list)  # outbox row names
	logs: dict = field(default_factory=dict)  # outbox row name -> log rows

	def write(self, pusher: "Outbound", rows: list[dict]) -> None:
		frappe.db.savepoint(SETTLEMENT_SAVEPOINT)
		try:
			self._write(pusher.organisation, list(dict.fromkeys([*self.links, *self.done, *self.logs])))
			return
		except Exception:
			frappe.db.rollback(save_point=SETTLEMENT_SAVEPOINT)
		by_name = {row["name"]: row for row in rows}
		for name in dict.fromkeys([*self.links, *self.done, *self.logs]):
			frappe.db.savepoint(SETTLEMENT_SAVEPOINT)
			try:
				self._write(pusher.organisation, [name])
			except Exception as e:
				frappe.db.rollback(save_point=SETTLEMENT_SAVEPOINT)
				self.links.pop(name, None)
				self.logs.pop(name, None)
				if name in self.done:
					self.done.remove(name)
				pusher.failed_unexpectedly(Work(by_name[name]), e, uncertain=True)
				insert_logs(self.logs.pop(name, []))

	def _write(self, organisation: str, names: list) -> None:
		links.save_links(organisation, [entry for name in names for entry in self.links.get(name, [])])
		outbox.mark_all_done([name for name in names if name in self.done])
		insert_logs([log for name in names for log in self.logs.get(name, [])])


class Outbound:
	"""One organisation's drain: its client, what the mappings need, and the outcomes of the batch
	under way. The object families (contacts.py, invoices.py, payments.py) add the work they do, named
	in their HANDLES; sync/push.py puts them together."""

	HANDLES: ClassVar[dict] = {}  # (Xero object, outbox operation) -> method name, per family

	def __init__(self, organisation: str, *, max_wait: float = 60.0):
		self.organisation = organisation
		self.client = connection.client_for(organisation, max_wait=max_wait)
		# Site config `xero_batch_size` (1..50) exists for the one-call-per-document benchmark baseline.
		self.batch_size = min(
			int(frappe.conf.get("xero_batch_size") or batching.MAX_ELEMENTS), batching.MAX_ELEMENTS
		)
		self.settlement = Settlement()
		# Outbox row name -> idempotency key of the request it is in while that request is under way.
		self.in_flight: dict = {}

	@cached_property
	def ctx(self):
		return mapping_context(self.organisation, self.client)

	@cached_property
	def tax_rates(self):
		return tax_rates(self.organisation, self.client)

	def run(self, rows: list[dict]) -> bool:
		"""Process one batch of one stage. Returns True when draining must stop for now."""
		self.settlement = Settlement()
		self.in_flight = {}
		stop = self.send_batch(rows)
		self.settlement.write(self, rows)
		return stop

	def send_batch(self, rows: list[dict]) -> bool:
		handler = getattr(self, self.HANDLES[(rows[0]["object_type"], rows[0]["operation"])])
		try:
			handler(rows)
		except outbox.DrainLockLost:
			raise
		except XeroRateLimited as e:
			self.pause(self.unfinished(rows), e)
			return True
		except XeroUnavailable as e:
			# Rows already settled by an earlier request of this batch keep their outcome; only the rows
			# of the request left unanswered may be in Xero, and that request can be sent again as it was.
			for row in self.unfinished(rows):
				key = self.in_flight.get(row["name"])
				uncertain = e.uncertain and key is not None
				self.retry(Work(row), str(e), uncertain=uncertain, request_key=key if uncertain else None)
		except XeroValidationError as e:
			# The whole request was refused (not one element): nothing of it was saved.
			for row in self.unfinished(rows):
				self.attention(Work(row), e.messages)
		except (XeroAuthError, oauth.OAuthError) as e:
			for row in self.unfinished(rows):
				outbox.release(self.organisation, row)
			if isinstance(e, XeroAuthError):
				connection.mark_organisation_reconnect_needed(self.organisation, str(e))
			return True
		except XeroError as e:
			for row in self.unfinished(rows):
				self.attention(Work(row), str(e))
		except Exception as e:
			# Nobody foresaw this one: which elements Xero kept is unknown, so each is looked up before
			# it is sent again; the rest of the queue goes on.
			for row in self.unfinished(rows):
				self.failed_unexpectedly(Work(row), e, uncertain=row["name"] in self.in_flight)
		return False

	@contextmanager
	def isolated(self, work: Work):
		"""An unexpected error while preparing or settling one document parks that document alone.
		Xero's own errors are the batch's business (send_batch), and a lost lock stops everything."""
		frappe.db.savepoint(DOCUMENT_SAVEPOINT)
		try:
			yield
		except (outbox.DrainLockLost, XeroError, oauth.OAuthError):
			raise
		except Exception as e:
			frappe.db.rollback(save_point=DOCUMENT_SAVEPOINT)
			self.failed_unexpectedly(work, e)

	def failed_unexpectedly(self, work: Work, error: Exception, *, uncertain: bool = False) -> None:
		message = _(
			"An unexpected error stopped this document ({0}). It waits here and the rest of the queue goes "
			"on; the traceback below is for your developer. Press Retry once the cause is fixed."
		).format(f"{type(error).__name__}: {error}")
		outbox.mark_needs_attention(self.organisation, work.row, message, uncertain=uncertain)
		self.log("Needs Attention", work, None, message, traceback=frappe.get_traceback())

	def unfinished(self, rows: list[dict]) -> list[dict]:
		"""The batch's rows with no outcome yet."""
		still_processing = outbox.still_processing([row["name"] for row in rows])
		settled = set(self.settlement.done)
		return [row for row in rows if row["name"] in still_processing and row["name"] not in settled]

	def pause(self, rows: list[dict], e: XeroRateLimited) -> None:
		"""Out of budget: the work waits, uncounted as a failure, until Xero's limit allows it."""
		if e.problem == "day":
			message = _(
				"Xero's daily API limit for this organisation is used up. {0} documents wait and go out "
				"automatically in about {1} minutes."
			).format(len(rows), max(round(e.retry_after / 60), 1))
		else:
			message = _("Xero asked us to slow down ({0} limit); sending resumes in {1} seconds.").format(
				e.problem, round(e.retry_after)
			)
		for row in rows:
			outbox.mark_retry(
				self.organisation,
				row,
				message,
				uncertain=False,
				delay_seconds=e.retry_after,
				count_attempt=False,
				request_key=row.get("request_key"),
			)
		create_log("Queued", operation="Paused", organisation=self.organisation, message=message)

	# ---- outcomes --------------------------------------------------------------------------------

	def done(self, work: Work, xero_object: str, xero_id: str | None, xero_status: str | None, response=None):
		if xero_id:
			self.settlement.links.setdefault(work.row["name"], []).append(
				{
					"reference_doctype": work.row["reference_doctype"],
					"reference_name": work.row["reference_name"],
					"xero_object": xero_object,
					"xero_id": xero_id,
					"xero_status": xero_status,
					"content_hash": work.hash,
					"xero_updated": (response or {}).get("UpdatedDateUTC"),
					# What Xero now books for it, so the pull can tell a later edit there from a payment.
					"booked_hash": booked_hash(response) if response and "LineItems" in response else None,
				}
			)
		self.finish(work, "Success", xero_id, " ".join(work.notes) or None, response)

	def skipped(self, work: Work, message: str):
		self.finish(work, "Skipped", work.link and work.link["xero_id"], message)

	def finish(self, work: Work, status: str, xero_id, message, response=None):
		"""The row's work is over: Done in the outbox, with its log row."""
		self.settlement.done.append(work.row["name"])
		self.log(status, work, xero_id, message, response)

	def attention(self, work: Work, messages: list[str] | str, response=None):
		message = messages if isinstance(messages, str) else " ".join(messages)
		outbox.mark_needs_attention(self.organisation, work.row, message)
		self.log("Needs Attention", work, work.link and work.link["xero_id"], message, response)

	def retry(
		self,
		work: Work,
		message: str,
		*,
		uncertain: bool = False,
		delay: float | None = None,
		request_key: str | None = None,
	):
		attempts = outbox.mark_retry(
			self.organisation,
			work.row,
			message,
			uncertain=uncertain,
			delay_seconds=delay,
			request_key=request_key,
		)
		if attempts >= outbox.MAX_ATTEMPTS:
			self.log(
				"Needs Attention", work, None, _("Parked after {0} attempts: {1}").format(attempts, message)
			)
		else:
			self.log("Retrying", work, None, message, attempts=attempts)

	def wait(self, work: Work, message: str):
		"""A dependency is still on its way to Xero: try again later without counting an attempt."""
		outbox.mark_retry(self.organisation, work.row, message, uncertain=False, count_attempt=False)

	def log(self, status, work: Work, xero_id, message, response=None, attempts=None, traceback=None):
		log_row = log_values(
			status,
			operation=f"{work.row['object_type']} {work.row['operation']}",
			organisation=self.organisation,
			reference_doctype=work.row["reference_doctype"],
			reference_name=work.row["reference_name"],
			xero_object=work.row["object_type"],
			xero_id=xero_id,
			message=message,
			request=work.payload,
			response=response,
			attempts=attempts if attempts is not None else work.row["attempts"] + 1,
			traceback=traceback,
		)
		self.settlement.logs.setdefault(work.row["name"], []).append(log_row)

	# ---- sending ---------------------------------------------------------------------------------

	def replayable(self, row: dict) -> bool:
		"""Whether Xero still remembers the unanswered request this row was in, by its idempotency key."""
		if not (row.get("uncertain") and row.get("request_key") and row.get("previous_claim")):
			return False
		age = (now_datetime() - row["previous_claim"]).total_seconds()
		return age < REPLAY_SECONDS / connection.rate_limits().time_scale

	def requests(
		self, operation: str, elements: list[tuple], *, replay: bool = True
	) -> tuple[list[tuple[list, str]], list[Work]]:
		"""(work, content, payload) elements grouped into requests, each with its idempotency key, and the
		works that must be looked up in Xero first.

		The key covers each member's row, the moment it was claimed for this attempt and its exact content:
		every attempt is a request of its own (Xero also replays an answered failure for six minutes, so a
		resend after a fix elsewhere must not reuse the key). Elements of an unanswered request that Xero
		still remembers go out again as that very request (the members of the claim it was sent in), and
		Xero answers with what it did the first time. If that request can't be rebuilt as it was (a member
		changed or went), its works are returned to be looked up before anything is sent."""

		def key_of(group, claim):
			members = [f"{work.row['name']}:{work.row[claim]}:{content}" for work, content, _p in group]
			return batching.idempotency_key(self.organisation, operation, members)

		replays: dict[str, list] = {}
		fresh = []
		for element in elements:
			row = element[0].row
			if replay and self.replayable(row):
				replays.setdefault(row["request_key"], []).append(element)
			else:
				fresh.append(element)
		requests, stale = [], []
		for stored, group in replays.items():
			if key_of(group, "previous_claim") == stored:
				requests.append((group, stored))
			else:
				stale.extend(dict.fromkeys(work for work, _c, _p in group))
		for indexes in batching.chunks([payload for _w, _c, payload in fresh], self.batch_size):
			group = [fresh[i] for i in indexes]
			requests.append((group, key_of(group, "claimed_at")))
		return requests, stale

	def look_up_first(self, works: list[Work]) -> None:
		"""Their unanswered request can't be sent again as it was: look them up in Xero next time."""
		for work in works:
			work.row["request_key"] = None
			outbox.mark_retry(
				self.organisation,
				work.row,
				_("Xero did not answer; looking it up there before sending it again."),
				uncertain=True,
				delay_seconds=0,
				count_attempt=False,
				request_key=None,
			)

	def changed_upserts(self, rows: list[dict], kind: str, prepare) -> list[Work]:
		"""The batch's upserts worth sending: each linked to its Xero record (if any), its payload prepared
		by prepare(work) (a MappingError parks it), one unchanged since its last sync settled as skipped."""
		works = []
		for work in self.load(rows):
			with self.isolated(work):
				row = work.row
				work.link = links.get_link(
					self.organisation, row["reference_doctype"], row["reference_name"], kind
				)
				try:
					prepare(work)
				except MappingError as e:
					self.attention(work, e.problems)
					continue
				if work.link and work.link["content_hash"] == work.hash:
					self.skipped(work, _("Unchanged since the last sync: nothing sent."))
					continue
				works.append(work)
		return works

	def send(self, kind: str, works: list[Work], *, look_up_stale: bool):
		"""Send the works' payloads, request by request, yielding (work, result) as each request is
		answered, so that one request's outcomes are settled before the next goes out.

		look_up_stale: works of an unanswered request that can't be replayed are looked up in Xero on
		the next attempt instead of sent (creates); otherwise they are simply sent again (contacts are
		matched anyway, voids are the same whatever happened)."""
		for work in works:
			# Hash what is actually sent: matching or renaming may have changed the payload.
			work.hash = payload_hash(kind, work.payload)
		elements = [(work, content_hash(work.payload), work.payload) for work in works]
		operation = f"{kind}-{works[0].row['operation']}" if works else kind
		requests, stale = self.requests(operation, elements)
		if look_up_stale:
			self.look_up_first(stale)
		elif stale:
			requests.extend(self.requests(operation, [e for e in elements if e[0] in stale], replay=False)[0])
		for group, key in requests:
			yield from self.send_request(kind, group, key)

	def send_request(self, kind: str, group: list[tuple], key: str) -> list[tuple]:
		payloads = [payload for _w, _m, payload in group]
		self.in_flight = {work.row["name"]: key for work, _m, _p in group}
		results = self.client.send(kind, payloads, idempotency_key=key)
		self.in_flight = {}
		return list(zip([work for work, _m, _p in group], results, strict=True))

	def load(self, rows: list[dict], *, removal: bool = False) -> list[Work]:
		"""The batch's documents, read together. A document deleted since it was queued is settled here,
		except for a removal, which goes on from the document's links."""
		docs = {}
		for doctype in dict.fromkeys(row["reference_doctype"] for row in rows):
			names = [row["reference_name"] for row in rows if row["reference_doctype"] == doctype]
			docs[doctype] = load_documents(doctype, names)
		works = []
		for row in rows:
			doc = docs[row["reference_doctype"]].get(row["reference_name"])
			if doc is None and not removal:
				self.skipped(Work(row), _("Deleted in ERPNext since it was queued: nothing sent."))
			else:
				works.append(Work(row, doc))
		return works

	# ---- removals --------------------------------------------------------------------------------

	def absorb_open_sends(self, work: Work, look_up) -> bool:
		"""A removal takes over every open send of the same document: one that may have reached Xero
		unanswered is looked up by look_up(work) (and linked, so that the removal covers it), and all are withdrawn.
		While one is being sent right now, the removal waits for it. Returns whether to go on."""
		row = work.row
		send = SEND_OF_REMOVAL[(row["object_type"], row["operation"])]
		sends = outbox.open_rows(self.organisation, *send, row["reference_doctype"], row["reference_name"])
		if any(send.status == outbox.PROCESSING for send in sends):
			self.wait(work, _("Its send to Xero is still under way; the removal waits for it."))
			return False
		if work.doc is not None and any(send.uncertain for send in sends):
			look_up(work)
		outbox.withdraw(
			[send.name for send in sends], _("Cancelled in ERPNext: the removal took this work over.")
		)
		return True


def payload_hash(kind: str, payload: dict) -> str:
	"""The content of a document, without the Xero id an update carries and a create does not."""
	id_key = OBJECTS[kind].id_key
	return content_hash({key: value for key, value in payload.items() if key != id_key})
