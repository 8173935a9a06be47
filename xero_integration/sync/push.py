"""Worker: drain one organisation's outbox into Xero, in dependency order and batches of 50.

Per batch: map each document (core.mapping), skip the unchanged (content hash), send one request
with summarizeErrors=false and an idempotency key derived from the batch, then put each element's
outcome back on its row, its document link and one log row. Retryable failures (5xx, timeouts,
429) reschedule the rows with backoff; Xero's validation messages park a row as Needs Attention.
"""

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import frappe
from frappe import _
from frappe.utils import flt, now_datetime

from xero_integration.core import batching, oauth
from xero_integration.core.errors import (
	XeroAuthError,
	XeroError,
	XeroNotFound,
	XeroRateLimited,
	XeroUnavailable,
	XeroValidationError,
)
from xero_integration.core.mapping import content_hash
from xero_integration.core.mapping.contact import contact_match, contact_payload, disambiguated_name
from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.credit_note import allocation_payload, map_credit_note
from xero_integration.core.mapping.invoice import map_invoice
from xero_integration.core.mapping.payment import payment_payloads
from xero_integration.core.pull import booked_hash
from xero_integration.core.where import equals
from xero_integration.sync import connection, links, outbox
from xero_integration.sync.context import mapping_context, tax_rates
from xero_integration.sync.documents import load_documents
from xero_integration.sync.log import create_log, insert_logs, log_values

PARTY_OF = {"Sales Invoice": ("Customer", "customer"), "Purchase Invoice": ("Supplier", "supplier")}
SEND_METHOD = {
	"Contact": "update_or_create_contacts",
	"Invoice": "update_or_create_invoices",
	"CreditNote": "update_or_create_credit_notes",
	"Payment": "create_payments",
}
NAME_TAKEN = "already assigned to another contact"
NUMBER_TAKEN = "must be unique"
ARCHIVED_CONTACT = "Archived contact"
# Xero's IDs-style filters break past about 50 values.
IDS_PER_LOOKUP = 40
INVOICE_DOCTYPES = ("Sales Invoice", "Purchase Invoice")
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

	def write(self, pusher: "Pusher", rows: list[dict]) -> None:
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


def drain_all():
	"""Scheduler safety net: drain every connected organisation that has due work."""
	if not frappe.db.get_single_value("Xero Settings", "enabled"):
		return
	for organisation in frappe.get_all(
		"Xero Outbox", filters={"status": outbox.PENDING}, pluck="organisation", distinct=True
	):
		outbox.schedule_drain(organisation)


def drain(organisation: str, max_batches: int | None = None, handed_over: bool = False) -> int:
	"""Send everything due for one organisation; returns the number of batches run."""
	if not frappe.db.get_single_value("Xero Settings", "enabled"):
		return 0
	if frappe.db.get_value("Xero Organisation", organisation, "status") != "Connected":
		return 0
	lock = outbox.DrainLock(organisation)
	if not lock.acquire():
		return 0  # another worker is draining this organisation; it will pick our rows up
	batches, started = 0, time.monotonic()
	try:
		outbox.recover_abandoned(organisation, lock.dead_holder)
		frappe.db.commit()
		pusher = Pusher(organisation)
		# Renewed before every call to Xero: the lock lives as long as the drain does, and a drain that
		# has lost it (another one holds it now) stops before sending or settling anything more.
		pusher.client.before_request = lock.keep
		while max_batches is None or batches < max_batches:
			rows = outbox.due_rows(organisation, pusher.batch_size)
			if not rows:
				break
			stage = rows[0]["stage"]
			batch = distinct_work([row for row in rows if row["stage"] == stage])
			outbox.claim(batch, lock.token)
			stop = pusher.run(batch)
			lock.keep()
			frappe.db.commit()
			batches += 1
			if stop:
				break
			if time.monotonic() - started > outbox.DRAIN_SECONDS:
				outbox.schedule_drain(organisation, handover_from=handed_over)
				break
	except outbox.DrainLockLost:
		# Settle nothing: the rows stay Processing, and whoever holds the lock now takes them back once
		# they are older than a lock lives, looking each up in Xero before sending it again.
		frappe.db.rollback()
	except Exception:
		# An error outside any one document (the database, say) must not commit a half-settled batch;
		# its rows stay Processing and are looked up in Xero before they are sent again.
		frappe.db.rollback()
		raise
	finally:
		lock.release()
	return batches


def distinct_work(rows: list[dict]) -> list[dict]:
	"""One row per piece of work: a second row of the same work (left by an older version, or a merge
	that lost a race) is withdrawn, passing its uncertainty on."""
	kept: dict[tuple, dict] = {}
	for row in rows:
		key = (row["object_type"], row["operation"], row["reference_doctype"], row["reference_name"])
		if key in kept:
			kept[key]["uncertain"] = kept[key]["uncertain"] or row["uncertain"]
			outbox.withdraw([row["name"]], _("Same work as outbox row {0}.").format(kept[key]["name"]))
		else:
			kept[key] = row
	return list(kept.values())


class Pusher:
	def __init__(self, organisation: str):
		self.organisation = organisation
		self.client = connection.client_for(organisation)
		# Site config `xero_batch_size` (1..50) exists for the one-call-per-document benchmark baseline.
		self.batch_size = min(
			int(frappe.conf.get("xero_batch_size") or batching.MAX_ELEMENTS), batching.MAX_ELEMENTS
		)
		self._ctx = None
		self._tax_rates = None
		self._contacts = None
		self._contact_ids: dict[tuple[str, str], str | None] = {}
		self.settlement = Settlement()
		# Outbox row name -> idempotency key of the request it is in while that request is under way.
		self.in_flight: dict = {}

	@property
	def ctx(self):
		if self._ctx is None:
			self._ctx = mapping_context(self.organisation, self.client)
		return self._ctx

	@property
	def tax_rates(self):
		if self._tax_rates is None:
			self._tax_rates = tax_rates(self.organisation, self.client)
		return self._tax_rates

	def run(self, rows: list[dict]) -> bool:
		"""Process one batch of one stage. Returns True when draining must stop for now."""
		self.settlement = Settlement()
		self.in_flight = {}
		stop = self.send_batch(rows)
		self.settlement.write(self, rows)
		return stop

	def send_batch(self, rows: list[dict]) -> bool:
		object_type, operation = rows[0]["object_type"], rows[0]["operation"]
		handler = {
			("Contact", "upsert"): self.push_contacts,
			("Invoice", "upsert"): self.push_transactions,
			("CreditNote", "upsert"): self.push_transactions,
			("Payment", "delete"): self.delete_payments,
			("CreditNote", "void"): self.void_transactions,
			("Invoice", "void"): self.void_transactions,
			("Payment", "create"): self.create_payments,
			("CreditNote", "allocate"): self.allocate_credit_notes,
		}[(object_type, operation)]
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
	def isolated(self, work: "Work"):
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

	def failed_unexpectedly(self, work: "Work", error: Exception, *, uncertain: bool = False) -> None:
		message = _(
			"An unexpected error stopped this document ({0}). It waits here and the rest of the queue goes "
			"on; the traceback below is for your developer. Press Retry once the cause is fixed."
		).format(f"{type(error).__name__}: {error}")
		outbox.mark_needs_attention(self.organisation, work.row, message, uncertain=uncertain)
		self.log("Needs Attention", work, None, message, traceback=frappe.get_traceback())

	def unfinished(self, rows: list[dict]) -> list[dict]:
		still_processing = set(
			frappe.get_all(
				"Xero Outbox",
				filters={"name": ("in", [row["name"] for row in rows]), "status": outbox.PROCESSING},
				pluck="name",
			)
		)
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

	# ---- sending ---------------------------------------------------------------------------------

	def send(self, kind: str, works: list[Work], *, look_up_stale: bool, **params):
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
			yield from self.send_request(kind, group, key, **params)

	def send_request(self, kind: str, group: list[tuple], key: str, **params) -> list[tuple]:
		payloads = [payload for _w, _m, payload in group]
		self.in_flight = {work.row["name"]: key for work, _m, _p in group}
		response = self.client.call(
			SEND_METHOD[kind],
			{batching.COLLECTIONS[kind][0]: payloads},
			summarize_errors=False,
			idempotency_key=key,
			**params,
		)
		self.in_flight = {}
		results = batching.split_results(kind, payloads, response.body)
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

	# ---- contacts --------------------------------------------------------------------------------

	def push_contacts(self, rows: list[dict]):
		works = []
		for work in self.load(rows):
			with self.isolated(work):
				row = work.row
				work.link = links.get_link(
					self.organisation, row["reference_doctype"], row["reference_name"], "Contact"
				)
				try:
					work.payload = self.contact_payload(work)
				except MappingError as e:
					self.attention(work, e.problems)
					continue
				work.hash = payload_hash("Contact", work.payload)
				if work.link and work.link["content_hash"] == work.hash:
					self.skipped(work, _("Unchanged since the last sync: nothing sent."))
					continue
				if not work.link:
					self.match_existing_contact(work)
				works.append(work)
		clashes = self.send_contacts(works, retry_name_clash=True)
		self.send_contacts(clashes, retry_name_clash=False)

	def contact_payload(self, work: Work) -> dict:
		doc = work.doc
		address = None
		address_name = doc.get("customer_primary_address") or doc.get("supplier_primary_address")
		if address_name:
			address = frappe.get_doc("Address", address_name).as_dict()
		# The primary Contact's own email and mobile: the party's copies of them are refreshed by ERPNext
		# only when the party itself is saved, not when a clerk edits the Contact.
		person = frappe._dict(email_id=doc.get("email_id"), mobile_no=doc.get("mobile_no"))
		contact_name = doc.get("customer_primary_contact") or doc.get("supplier_primary_contact")
		if contact_name:
			person = (
				frappe.db.get_value("Contact", contact_name, ["email_id", "mobile_no"], as_dict=True)
				or person
			)
		return contact_payload(
			doc,
			is_customer=doc.doctype == "Customer",
			is_supplier=doc.doctype == "Supplier",
			contact_number=doc.name,
			contact_id=work.link and work.link["xero_id"],
			email=person.email_id,
			phones=[("MOBILE", person.mobile_no)] if person.mobile_no else [],
			addresses=[address] if address else [],
		)

	def match_existing_contact(self, work: Work):
		"""Link instead of duplicating: a Xero contact with our number, email or name is the same party."""
		match = contact_match(
			work.payload["Name"],
			work.payload["ContactNumber"],
			work.payload.get("EmailAddress"),
			self.contacts(),
		)
		if match:
			contact = match["contact"]
			work.payload["ContactID"] = contact["ContactID"]
			if contact.get("ContactStatus") == "ARCHIVED":
				work.payload["ContactStatus"] = "ACTIVE"
				work.notes.append(_("The Xero contact was archived and has been restored."))
			work.notes.append(
				_("Linked to the existing Xero contact {0} (same {1}).").format(
					contact.get("Name"), match["matched_by"]
				)
			)

	def contacts(self) -> list[dict]:
		"""Every contact of the organisation, archived included, fetched once per drain (1,000 a call)."""
		if self._contacts is None:
			self._contacts, page = [], 1
			while True:
				body = self.client.call("get_contacts", page=page, page_size=1000, include_archived=True).body
				found = (body or {}).get("Contacts") or []
				self._contacts.extend(found)
				if len(found) < 1000:
					break
				page += 1
		return self._contacts

	def send_contacts(self, works: list[Work], *, retry_name_clash: bool) -> list[Work]:
		clashes = []
		for work, result in self.send("Contact", works, look_up_stale=False):
			if result.ok:
				if self._contacts is not None and not work.link:
					self._contacts.append(result.element)
				self.done(
					work, "Contact", result.xero_id, result.element.get("ContactStatus"), result.element
				)
			elif retry_name_clash and any(NAME_TAKEN in m for m in result.errors):
				# Another party already uses this name in Xero: a visible, stable suffix keeps both.
				original = work.payload["Name"]
				work.payload["Name"] = disambiguated_name(original, work.payload["ContactNumber"])
				work.notes.append(
					_("Xero already has another contact named {0}; sent as {1}.").format(
						original, work.payload["Name"]
					)
				)
				clashes.append(work)
			else:
				self.attention(work, result.errors, result.element)
		return clashes

	# ---- invoices and credit notes ---------------------------------------------------------------

	def push_transactions(self, rows: list[dict]):
		kind = rows[0]["object_type"]
		works, contact_ids = [], {}
		for work in self.load(rows):
			with self.isolated(work):
				row = work.row
				work.link = links.get_link(
					self.organisation, row["reference_doctype"], row["reference_name"], kind
				)
				if work.doc.docstatus == 2:
					self.cancelled_before_sent(work)
					continue
				contact_ids[row["name"]] = self.contact_id(work)
				if contact_ids[row["name"]]:
					works.append(work)
		# A replayed request needs no look-up: Xero answers it with what it did the first time.
		self.find_unconfirmed(
			kind, [w for w in works if not w.link and w.row["uncertain"] and not self.replayable(w.row)]
		)
		ready, works = works, []
		for work in ready:
			with self.isolated(work):
				contact_id = contact_ids[work.row["name"]]
				try:
					mapped = self.map_transaction(
						kind, work.doc, contact_id, work.link and work.link["xero_id"]
					)
				except MappingError as e:
					self.attention(work, e.problems)
					continue
				work.payload, work.hash = mapped.payload, payload_hash(kind, mapped.payload)
				if mapped.rounding_difference:
					work.notes.append(
						_("Added a rounding line of {0} so Xero's total equals ERPNext's.").format(
							mapped.rounding_difference
						)
					)
				if work.link and work.link.get("content_hash") == work.hash:
					self.skipped(work, _("Unchanged since the last sync: nothing sent."))
					continue
				works.append(work)
		for work, result in self.send(kind, works, look_up_stale=True, unitdp=4):
			if result.ok:
				self.done(work, kind, result.xero_id, result.element.get("Status"), result.element)
				# Allocate only when ERPNext applies the return to the original invoice's outstanding;
				# a return that keeps its own outstanding stays a credit on account, in Xero too.
				if (
					kind == "CreditNote"
					and work.doc.get("return_against")
					and not work.doc.get("update_outstanding_for_self")
				):
					outbox.enqueue(
						self.organisation, "CreditNote", "allocate", work.doc.doctype, work.doc.name
					)
			elif not work.link and any(NUMBER_TAKEN in m for m in result.errors):
				self.adopt_or_report(kind, work, result)
			elif any(ARCHIVED_CONTACT in m for m in result.errors):
				self.restore_contact(work)
			else:
				self.attention(work, result.errors, result.element)

	def cancelled_before_sent(self, work: Work):
		"""Cancelled while its send waited (in backoff, parked, or pressed Retry on): it is never created
		in Xero now. If an unanswered send created it there after all, it is linked and voided."""
		kind = work.row["object_type"]
		if not work.link and work.row["uncertain"]:
			found = self.find_transactions(kind, [work.doc]).get(work.doc.name)
			if found:
				links.save_link(
					self.organisation,
					work.doc.doctype,
					work.doc.name,
					kind,
					found["xero_id"],
					found["xero_status"],
				)
				work.link = found
		if work.link:
			outbox.enqueue(self.organisation, kind, "void", work.doc.doctype, work.doc.name)
		self.skipped(work, _("Cancelled in ERPNext before it was sent: not created in Xero."))

	def restore_contact(self, work: Work):
		"""Someone archived the contact in Xero after we linked it: restore it, then send the document
		again after the usual backoff. If Xero refuses the restore, the document waits for a person."""
		contact_id = work.payload["Contact"]["ContactID"]
		restore = {"ContactID": contact_id, "ContactStatus": "ACTIVE"}
		response = self.client.call(
			"update_or_create_contacts", {"Contacts": [restore]}, summarize_errors=False
		)
		result = batching.split_results("Contact", [restore], response.body)[0]
		party_doctype, party_field = PARTY_OF[work.doc.doctype]
		if not result.ok:
			self.attention(
				work,
				[
					*result.errors,
					_(
						"Its Xero contact is archived and Xero refused to restore it. Restore or merge the "
						"contact in Xero, then press Retry."
					),
				],
				result.element,
			)
			return
		links.set_status(self.organisation, party_doctype, work.doc.get(party_field), "Contact", "ACTIVE")
		self.retry(work, _("Its Xero contact was archived and has been restored; sending again."))

	def contact_id(self, work: Work) -> str | None:
		party_doctype, party_field = PARTY_OF[work.doc.doctype]
		party = work.doc.get(party_field)
		# A batch of 50 invoices often names the same few parties: one look-up each per drain.
		if (party_doctype, party) not in self._contact_ids:
			link = links.get_link(self.organisation, party_doctype, party, "Contact")
			self._contact_ids[(party_doctype, party)] = link and link["xero_id"]
		if self._contact_ids[(party_doctype, party)]:
			return self._contact_ids[(party_doctype, party)]
		if frappe.db.exists(
			"Xero Outbox",
			{
				"organisation": self.organisation,
				"reference_doctype": party_doctype,
				"reference_name": party,
				"status": ("in", (outbox.PENDING, outbox.PROCESSING)),
			},
		):
			self.wait(work, _("Waiting for {0} {1} to reach Xero first.").format(party_doctype, party))
		else:
			self.attention(
				work,
				_("{0} {1} is not in Xero. Fix its sync (see its log), then press Retry here.").format(
					party_doctype, party
				),
			)
		return None

	def map_transaction(self, kind: str, doc, contact_id: str, xero_id: str | None):
		if kind == "CreditNote":
			return map_credit_note(
				doc,
				self.ctx,
				contact_id=contact_id,
				tax_rates=self.tax_rates,
				credit_note_id=xero_id,
			)
		return map_invoice(doc, self.ctx, contact_id=contact_id, tax_rates=self.tax_rates, invoice_id=xero_id)

	def find_unconfirmed(self, kind: str, works: list[Work]) -> None:
		"""After an unanswered send: did Xero keep those documents? Link the ones it did."""
		# Invoices are looked up 40 numbers a call; credit notes have no such filter, one a call.
		per_call = IDS_PER_LOOKUP if kind == "Invoice" else 1
		for start in range(0, len(works), per_call):
			group = works[start : start + per_call]
			found = self.find_transactions(kind, [work.doc for work in group])
			for work in group:
				work.link = found.get(work.doc.name)

	def find_transactions(self, kind: str, docs: list) -> dict[str, dict]:
		"""Live Xero documents for these ERPNext documents, by number (and by Reference for bills, whose
		numbers are the supplier's and repeat)."""
		if kind == "CreditNote":
			where = equals("CreditNoteNumber", docs[0].name)
			records = (self.client.call("get_credit_notes", where=where).body or {}).get("CreditNotes") or []
			key_of = {docs[0].name: docs[0].name}
			record_key = "CreditNoteNumber"
		else:
			numbers = {doc.name: doc.get("bill_no") or doc.name for doc in docs}
			body = self.client.call("get_invoices", invoice_numbers=sorted(set(numbers.values()))).body or {}
			records = body.get("Invoices") or []
			key_of = {doc.name: doc.name for doc in docs}
			record_key = "Reference" if docs[0].doctype == "Purchase Invoice" else "InvoiceNumber"
		id_key = batching.COLLECTIONS[kind][1]
		found = {}
		for record in records:
			name = record.get(record_key)
			if name in key_of and record.get("Status") not in ("DELETED", "VOIDED"):
				found[name] = {
					"xero_id": record[id_key],
					"xero_status": record.get("Status"),
					"content_hash": None,
				}
		return found

	def adopt_or_report(self, kind: str, work: Work, result: batching.ElementResult):
		existing = self.find_transactions(kind, [work.doc]).get(work.doc.name)
		contact = work.payload["Contact"]["ContactID"]
		if existing:
			record = self.client.call(
				"get_invoice" if kind == "Invoice" else "get_credit_note", existing["xero_id"]
			).body
			record = (record or {}).get(batching.COLLECTIONS[kind][0], [{}])[0]
			if record.get("Contact", {}).get("ContactID") == contact:
				work.notes.append(_("Xero already had this document from an earlier send; linked to it."))
				self.done(work, kind, existing["xero_id"], record.get("Status"), record)
				return
		self.attention(
			work,
			[
				*result.errors,
				_("Xero has a document with this number for another contact: rename one of them."),
			],
			result.element,
		)

	def void_transactions(self, rows: list[dict]):
		kind = rows[0]["object_type"]
		works = []
		for work in self.load(rows, removal=True):
			with self.isolated(work):
				row = work.row
				if not self.absorb_open_sends(work, kind, "upsert"):
					continue
				work.link = links.get_link(
					self.organisation, row["reference_doctype"], row["reference_name"], kind
				)
				if not work.link:
					self.skipped(work, _("Never reached Xero: nothing to void."))
					continue
				if work.link["xero_status"] in ("VOIDED", "DELETED"):
					self.skipped(work, _("Already {0} in Xero.").format(work.link["xero_status"]))
					continue
				status = "DELETED" if work.link["xero_status"] in ("DRAFT", "SUBMITTED") else "VOIDED"
				work.payload = {batching.COLLECTIONS[kind][1]: work.link["xero_id"], "Status": status}
				works.append(work)
		for work, result in self.send(kind, works, look_up_stale=False):
			if result.ok:
				links.set_status(
					self.organisation,
					work.row["reference_doctype"],
					work.row["reference_name"],
					kind,
					result.element.get("Status"),
					result.element.get("UpdatedDateUTC"),
				)
				self.finish(work, "Success", work.link["xero_id"], None, result.element)
			else:
				self.attention(work, explain_void_refusal(result.errors), result.element)

	def absorb_open_sends(self, work: Work, send_object: str, send_operation: str) -> bool:
		"""A removal takes over every open send of the same document: one that may have reached Xero
		unanswered is looked up (and linked, so that the removal covers it), and all are withdrawn.
		While one is being sent right now, the removal waits for it. Returns whether to go on."""
		row = work.row
		sends = outbox.open_rows(
			self.organisation, send_object, send_operation, row["reference_doctype"], row["reference_name"]
		)
		if any(send.status == outbox.PROCESSING for send in sends):
			self.wait(work, _("Its send to Xero is still under way; the removal waits for it."))
			return False
		if work.doc is not None and any(send.uncertain for send in sends):
			self.find_sent(work, send_object)
		outbox.withdraw(
			[send.name for send in sends], _("Cancelled in ERPNext: the removal took this work over.")
		)
		return True

	def find_sent(self, work: Work, send_object: str) -> None:
		"""Link what an unanswered send left in Xero."""
		doc = work.doc
		if send_object == "Payment":
			self.adopt_sent_payments(doc, self.payment_targets(doc))
			return
		if links.get_link(self.organisation, doc.doctype, doc.name, send_object):
			return
		found = self.find_transactions(send_object, [doc]).get(doc.name)
		if found:
			links.save_link(
				self.organisation, doc.doctype, doc.name, send_object, found["xero_id"], found["xero_status"]
			)

	# ---- payments --------------------------------------------------------------------------------

	def create_payments(self, rows: list[dict]):
		works, elements, objects = [], [], {}
		for work in self.load(rows):
			with self.isolated(work):
				row = work.row
				if work.doc.docstatus == 2:
					self.cancelled_payment(work)
					continue
				pe = frappe._dict(work.doc)
				targets = self.payment_targets(work.doc)
				# A replayed request needs no look-up: Xero answers it with what it did the first time.
				if row["uncertain"] and not self.replayable(row):
					self.adopt_sent_payments(work.doc, targets)
				already = {
					link["xero_object"]
					for link in links.links_of(self.organisation, "Payment Entry", work.doc.name, "Payment:")
				}
				pe["references"] = [ref for ref in pe["references"] if payment_object(ref) not in already]
				if not pe["references"]:
					self.skipped(work, _("Every payment of this entry is already in Xero."))
					continue
				try:
					payloads = payment_payloads(pe, self.ctx, xero_ids=targets)
				except MappingError as e:
					if all("not in Xero yet" in p for p in e.problems) and self.references_queued(work.doc):
						self.wait(work, " ".join(e.problems))
					else:
						self.attention(work, e.problems)
					continue
				references = [r for r in pe["references"] if r.get("allocated_amount")]
				work.payload = {"Payments": payloads}
				work.hash = content_hash(work.payload)
				works.append(work)
				for ref, payload in zip(references, payloads, strict=True):
					content = f"{payment_object(ref)}:{work.hash}"
					objects[(row["name"], content)] = payment_object(ref)
					elements.append((work, content, payload))
		if not elements:
			return
		requests, stale = self.requests("Payment-create", elements)
		self.look_up_first(stale)
		failed: dict[str, list[str]] = {}
		for group, key in requests:
			answered = self.send_request("Payment", group, key)
			for (work, content, _payload), (_work, result) in zip(group, answered, strict=True):
				if result.ok:
					links.save_link(
						self.organisation,
						"Payment Entry",
						work.doc.name,
						objects[(work.row["name"], content)],
						result.xero_id,
						"AUTHORISED",
					)
				else:
					failed.setdefault(work.row["name"], []).extend(result.errors)
		for work in works:
			if work in stale:
				continue
			if work.row["name"] in failed:
				self.attention(work, failed[work.row["name"]])
			else:
				links.show_on_document("Payment Entry", work.doc.name, None, "AUTHORISED")
				self.done(work, "Payment", None, "AUTHORISED")

	def cancelled_payment(self, work: Work):
		"""Cancelled while its send waited: never created in Xero now. What an unanswered send created
		there after all is linked and deleted."""
		doc = work.doc
		if work.row["uncertain"]:
			self.adopt_sent_payments(doc, self.payment_targets(doc))
		if any(
			link["xero_status"] != "DELETED"
			for link in links.links_of(self.organisation, doc.doctype, doc.name, "Payment:")
		):
			outbox.enqueue(self.organisation, "Payment", "delete", doc.doctype, doc.name)
		self.skipped(work, _("Cancelled in ERPNext before it was sent: not created in Xero."))

	def payment_targets(self, doc) -> dict[tuple[str, str], str]:
		"""(doctype, name) -> Xero InvoiceID/CreditNoteID of each invoice reference already in Xero. Only
		invoices (and their returns) are paid in Xero; orders and journals are not payment targets."""
		targets = {}
		for ref in doc.references:
			if ref.reference_doctype not in INVOICE_DOCTYPES:
				continue
			is_return = frappe.db.get_value(ref.reference_doctype, ref.reference_name, "is_return")
			kind = "CreditNote" if is_return else "Invoice"
			link = links.get_link(self.organisation, ref.reference_doctype, ref.reference_name, kind)
			if link:
				targets[(ref.reference_doctype, ref.reference_name)] = link["xero_id"]
		return targets

	def adopt_sent_payments(self, doc, targets: dict) -> None:
		"""After an unanswered send: link the payments Xero kept (same invoice, amount and reference), never
		one that already belongs to another Payment Entry."""
		reference = doc.reference_no or doc.name
		body = self.client.call("get_payments", where=equals("Reference", reference)).body or {}
		live = [p for p in body.get("Payments") or [] if p.get("Status") != "DELETED"]
		taken = (
			{
				xero_id.lower()
				for xero_id in frappe.get_all(
					"Xero Document Link",
					filters={
						"organisation": self.organisation,
						"xero_id": ("in", [p["PaymentID"] for p in live]),
					},
					pluck="xero_id",
				)
			}
			if live
			else set()
		)
		kept = [p for p in live if p["PaymentID"].lower() not in taken]
		for ref in doc.references:
			target = targets.get((ref.reference_doctype, ref.reference_name))
			amount = Decimal(str(flt(abs(ref.allocated_amount), 2)))
			for payment in kept:
				document = payment.get("Invoice") or payment.get("CreditNote") or {}
				paid_target = target in (document.get("InvoiceID"), document.get("CreditNoteID"))
				if paid_target and Decimal(str(payment.get("Amount"))) == amount:
					links.save_link(
						self.organisation,
						doc.doctype,
						doc.name,
						payment_object(ref),
						payment["PaymentID"],
						"AUTHORISED",
					)
					kept.remove(payment)
					break

	def references_queued(self, doc) -> bool:
		return any(
			frappe.db.exists(
				"Xero Outbox",
				{
					"organisation": self.organisation,
					"reference_doctype": ref.reference_doctype,
					"reference_name": ref.reference_name,
					"status": ("in", (outbox.PENDING, outbox.PROCESSING)),
				},
			)
			for ref in doc.references
		)

	def delete_payments(self, rows: list[dict]):
		for work in self.load(rows, removal=True):
			with self.isolated(work):
				row = work.row
				if not self.absorb_open_sends(work, "Payment", "create"):
					continue
				failures, gone = [], 0
				for link in links.links_of(
					self.organisation, row["reference_doctype"], row["reference_name"], "Payment:"
				):
					if link["xero_status"] == "DELETED":
						continue
					try:
						self.client.call("delete_payment", link["xero_id"], {"Status": "DELETED"})
					except XeroNotFound:
						gone += 1  # removed in Xero meanwhile: what the cancel wanted
					except XeroValidationError as e:
						failures.extend(e.messages)
						continue
					frappe.db.set_value(
						"Xero Document Link", link["name"], "xero_status", "DELETED", update_modified=False
					)
				if failures:
					self.attention(work, failures)
					continue
				links.show_on_document(row["reference_doctype"], row["reference_name"], None, "DELETED")
				message = _("Payments removed from Xero.")
				if gone:
					message += " " + _("{0} of them Xero no longer had: nothing to remove there.").format(
						gone
					)
				self.finish(work, "Success", None, message)

	def allocate_credit_notes(self, rows: list[dict]):
		for work in self.load(rows):
			with self.isolated(work):
				row = work.row
				if work.doc.docstatus == 2:
					self.skipped(work, _("Cancelled in ERPNext: not allocated."))
					continue
				credit = links.get_link(self.organisation, work.doc.doctype, work.doc.name, "CreditNote")
				invoice = links.get_link(
					self.organisation, work.doc.doctype, work.doc.return_against, "Invoice"
				)
				if not credit or not invoice:
					self.skipped(
						work, _("The original invoice is not in Xero: the credit note stays unallocated.")
					)
					continue
				work.payload = allocation_payload(
					work.doc.grand_total, invoice["xero_id"], work.doc.posting_date
				)
				try:
					self.client.call(
						"create_credit_note_allocation",
						credit["xero_id"],
						work.payload,
						summarize_errors=False,
						idempotency_key=batching.idempotency_key(
							self.organisation, "allocate", [f"{row['name']}:{row['claimed_at']}"]
						),
					)
				except XeroValidationError as e:
					self.attention(work, e.messages, e.body)
					continue
				except XeroNotFound as e:
					self.attention(
						work,
						_(
							"Xero no longer has the credit note or the invoice (removed there meanwhile): "
							"nothing was allocated. Check both in Xero."
						),
						e.body,
					)
					continue
				self.finish(
					work, "Success", credit["xero_id"], _("Allocated to {0}.").format(work.doc.return_against)
				)


def payload_hash(kind: str, payload: dict) -> str:
	"""The content of a document, without the Xero id an update carries and a create does not."""
	id_key = batching.COLLECTIONS[kind][1]
	return content_hash({key: value for key, value in payload.items() if key != id_key})


def payment_object(reference) -> str:
	return f"Payment:{reference.get('reference_doctype')}:{reference.get('reference_name')}"


def explain_void_refusal(messages: list[str]) -> list[str]:
	"""Xero's words, plus what a bookkeeper should do about the usual refusal."""
	if any("payment or credit note allocated" in m for m in messages):
		return [
			*messages,
			_(
				"Cancel the Payment Entries (or remove the payments and credit notes in Xero) for this invoice, "
				"then press Retry."
			),
		]
	return messages


def sync_now(doctype: str, name: str) -> list[str]:
	"""Queue one document for its organisation at once (the form's Sync to Xero button)."""
	from xero_integration.sync.events import organisation_for, xero_object

	doc = frappe.get_doc(doctype, name)
	queued = []
	if doctype in ("Customer", "Supplier"):
		for organisation in frappe.get_all(
			"Xero Organisation", filters={"status": "Connected"}, pluck="name"
		):
			queued.append(outbox.enqueue(organisation, "Contact", "upsert", doctype, name))
		return queued
	organisation = organisation_for(doc.company)
	if not organisation or doc.docstatus != 1:
		frappe.throw(_("Only submitted documents of a Company linked to a Xero organisation can be sent."))
	if doctype == "Payment Entry":
		queued.append(outbox.enqueue(organisation, "Payment", "create", doctype, name))
	else:
		queued.append(outbox.enqueue(organisation, xero_object(doc), "upsert", doctype, name))
	return queued
