"""Worker: drain one organisation's outbox into Xero, in dependency order and batches of 50.

Per batch: map each document (core.mapping), skip the unchanged (content hash), send one request
with summarizeErrors=false and an idempotency key derived from the batch, then put each element's
outcome back on its row, its document link and one log row. Retryable failures (5xx, timeouts,
429) reschedule the rows with backoff; Xero's validation messages park a row as Needs Attention.
"""

import time
from dataclasses import dataclass, field
from decimal import Decimal

import frappe
from frappe import _
from frappe.utils import flt

from xero_integration.core import batching
from xero_integration.core.errors import (
	XeroAuthError,
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


@dataclass
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
	as writing them one by one, without fifty inserts of each kind."""

	links: list[dict] = field(default_factory=list)
	done: list = field(default_factory=list)  # outbox row names
	logs: list[dict] = field(default_factory=list)

	def write(self, organisation: str) -> None:
		links.save_links(organisation, self.links)
		outbox.mark_all_done(self.done)
		insert_logs(self.logs)


def drain_all():
	"""Scheduler safety net: drain every connected organisation that has due work."""
	if not frappe.db.get_single_value("Xero Settings", "enabled"):
		return
	for organisation in frappe.get_all(
		"Xero Outbox", filters={"status": outbox.PENDING}, pluck="organisation", distinct=True
	):
		outbox.schedule_drain(organisation)


def drain(organisation: str, max_batches: int | None = None) -> int:
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
		outbox.recover_abandoned(organisation)
		frappe.db.commit()
		pusher = Pusher(organisation)
		while max_batches is None or batches < max_batches:
			rows = outbox.due_rows(organisation, pusher.batch_size)
			if not rows:
				break
			stage = rows[0]["stage"]
			batch = [row for row in rows if row["stage"] == stage]
			outbox.claim(batch)
			stop = pusher.run(batch)
			frappe.db.commit()
			batches += 1
			lock.renew()
			if stop:
				break
			if time.monotonic() - started > outbox.DRAIN_SECONDS:
				outbox.schedule_drain(organisation, handover=True)
				break
	except Exception:
		# An unexpected error must not commit a half-settled batch; its rows stay Processing and the
		# next drain looks them up in Xero before sending again.
		frappe.db.rollback()
		raise
	finally:
		lock.release()
	return batches


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
		stop = self.send_batch(rows)
		self.settlement.write(self.organisation)
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
		except XeroRateLimited as e:
			self.pause(self.unfinished(rows), e)
			return True
		except XeroUnavailable as e:
			# Rows already settled by an earlier request of this batch keep their outcome.
			for row in self.unfinished(rows):
				self.retry(Work(row), str(e), uncertain=e.uncertain)
		except XeroValidationError as e:
			# The whole request was refused (not one element): nothing of it was saved.
			for row in self.unfinished(rows):
				self.attention(Work(row), e.messages)
		except XeroAuthError as e:
			for row in self.unfinished(rows):
				outbox.release(row)
			create_log(
				"Failed",
				operation="Send to Xero",
				organisation=self.organisation,
				message=_(
					"Xero refused our access ({0}). Reconnect in Xero Settings; queued work waits."
				).format(e),
			)
			return True
		return False

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
			outbox.mark_retry(row, message, uncertain=False, delay_seconds=e.retry_after, count_attempt=False)
		create_log("Queued", operation="Paused", organisation=self.organisation, message=message)

	# ---- outcomes --------------------------------------------------------------------------------

	def done(self, work: Work, xero_object: str, xero_id: str | None, xero_status: str | None, response=None):
		if xero_id:
			self.settlement.links.append(
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
		outbox.mark_needs_attention(work.row, message)
		self.log("Needs Attention", work, work.link and work.link["xero_id"], message, response)

	def retry(self, work: Work, message: str, *, uncertain: bool = False, delay: float | None = None):
		attempts = outbox.mark_retry(work.row, message, uncertain=uncertain, delay_seconds=delay)
		self.log("Retrying", work, None, message, attempts=attempts)

	def wait(self, work: Work, message: str):
		"""A dependency is still on its way to Xero: try again later without counting an attempt."""
		outbox.mark_retry(work.row, message, uncertain=False, count_attempt=False)

	def log(self, status, work: Work, xero_id, message, response=None, attempts=None):
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
		)
		self.settlement.logs.append(log_row)

	# ---- sending ---------------------------------------------------------------------------------

	def send(self, kind: str, works: list[Work], **params) -> list[batching.ElementResult]:
		collection = batching.COLLECTIONS[kind][0]
		payloads = [work.payload for work in works]
		for work in works:
			# Hash what is actually sent: matching or renaming may have changed the payload.
			work.hash = payload_hash(kind, work.payload)
		key = batching.idempotency_key(
			self.organisation,
			f"{kind}-{works[0].row['operation']}",
			# The key covers the exact body: a resend of the same batch replays, a changed body is new work.
			[f"{w.row['name']}:{content_hash(w.payload)}" for w in works],
		)
		response = self.client.call(
			SEND_METHOD[kind], {collection: payloads}, summarize_errors=False, idempotency_key=key, **params
		)
		return batching.split_results(kind, payloads, response.body)

	def load(self, rows: list[dict]) -> list[Work]:
		"""The batch's documents, read together. A document deleted since it was queued is settled here."""
		docs = {}
		for doctype in dict.fromkeys(row["reference_doctype"] for row in rows):
			names = [row["reference_name"] for row in rows if row["reference_doctype"] == doctype]
			docs[doctype] = load_documents(doctype, names)
		works = []
		for row in rows:
			doc = docs[row["reference_doctype"]].get(row["reference_name"])
			if doc is None:
				self.skipped(Work(row), _("Deleted in ERPNext since it was queued: nothing sent."))
			else:
				works.append(Work(row, doc))
		return works

	# ---- contacts --------------------------------------------------------------------------------

	def push_contacts(self, rows: list[dict]):
		works = []
		for work in self.load(rows):
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
		return contact_payload(
			doc,
			is_customer=doc.doctype == "Customer",
			is_supplier=doc.doctype == "Supplier",
			contact_number=doc.name,
			contact_id=work.link and work.link["xero_id"],
			email=doc.get("email_id"),
			phones=[("MOBILE", doc.get("mobile_no"))] if doc.get("mobile_no") else [],
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
		for indexes in batching.chunks([w.payload for w in works], self.batch_size):
			group = [works[i] for i in indexes]
			for work, result in zip(group, self.send("Contact", group), strict=True):
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
			row = work.row
			work.link = links.get_link(
				self.organisation, row["reference_doctype"], row["reference_name"], kind
			)
			contact_ids[row["name"]] = self.contact_id(work)
			if contact_ids[row["name"]]:
				works.append(work)
		self.find_unconfirmed(kind, [w for w in works if not w.link and w.row["uncertain"]])
		ready, works = works, []
		for work in ready:
			contact_id = contact_ids[work.row["name"]]
			try:
				mapped = self.map_transaction(kind, work.doc, contact_id, work.link and work.link["xero_id"])
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
		for indexes in batching.chunks([w.payload for w in works], self.batch_size):
			group = [works[i] for i in indexes]
			for work, result in zip(group, self.send(kind, group, unitdp=4), strict=True):
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

	def restore_contact(self, work: Work):
		"""Someone archived the contact in Xero after we linked it: restore it, then send the document."""
		contact_id = work.payload["Contact"]["ContactID"]
		self.client.call(
			"update_or_create_contacts",
			{"Contacts": [{"ContactID": contact_id, "ContactStatus": "ACTIVE"}]},
			summarize_errors=False,
		)
		party_doctype, party_field = PARTY_OF[work.doc.doctype]
		links.set_status(self.organisation, party_doctype, work.doc.get(party_field), "Contact", "ACTIVE")
		work.notes.append(_("Its Xero contact was archived and has been restored."))
		self.log("Retrying", work, None, " ".join(work.notes))
		outbox.mark_retry(work.row, " ".join(work.notes), uncertain=False, delay_seconds=0)

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
			where = f'CreditNoteNumber=="{docs[0].name}"'
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
		for row in rows:
			work = Work(row)
			work.link = links.get_link(
				self.organisation, row["reference_doctype"], row["reference_name"], kind
			)
			if not work.link:
				self.skipped(work, _("Never reached Xero: nothing to void."))
				continue
			status = "DELETED" if work.link["xero_status"] in ("DRAFT", "SUBMITTED") else "VOIDED"
			work.payload = {batching.COLLECTIONS[kind][1]: work.link["xero_id"], "Status": status}
			work.hash = content_hash(work.payload)
			works.append(work)
		for indexes in batching.chunks([w.payload for w in works], self.batch_size):
			group = [works[i] for i in indexes]
			for work, result in zip(group, self.send(kind, group), strict=True):
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

	# ---- payments --------------------------------------------------------------------------------

	def create_payments(self, rows: list[dict]):
		works, elements = [], []
		for work in self.load(rows):
			row = work.row
			pe = frappe._dict(work.doc)
			targets = self.payment_targets(work.doc)
			if row["uncertain"]:
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
			elements.extend(
				(work, payment_object(ref), payload)
				for ref, payload in zip(references, payloads, strict=True)
			)
		if not elements:
			return
		failed: dict[str, list[str]] = {}
		for indexes in batching.chunks([e[2] for e in elements], self.batch_size):
			group = [elements[i] for i in indexes]
			key = batching.idempotency_key(
				self.organisation,
				"Payment-create",
				[f"{w.row['name']}:{obj}:{w.hash}" for w, obj, _p in group],
			)
			response = self.client.call(
				"create_payments",
				{"Payments": [p for _w, _o, p in group]},
				summarize_errors=False,
				idempotency_key=key,
			)
			for (work, obj, _payload), result in zip(
				group,
				batching.split_results("Payment", [p for _w, _o, p in group], response.body),
				strict=True,
			):
				if result.ok:
					links.save_link(
						self.organisation, "Payment Entry", work.doc.name, obj, result.xero_id, "AUTHORISED"
					)
				else:
					failed.setdefault(work.row["name"], []).extend(result.errors)
		for work in works:
			if work.row["name"] in failed:
				self.attention(work, failed[work.row["name"]])
			else:
				links.show_on_document("Payment Entry", work.doc.name, None, "AUTHORISED")
				self.done(work, "Payment", None, "AUTHORISED")

	def payment_targets(self, doc) -> dict[tuple[str, str], str]:
		"""(doctype, name) -> Xero InvoiceID/CreditNoteID of each reference already in Xero."""
		targets = {}
		for ref in doc.references:
			is_return = frappe.db.get_value(ref.reference_doctype, ref.reference_name, "is_return")
			kind = "CreditNote" if is_return else "Invoice"
			link = links.get_link(self.organisation, ref.reference_doctype, ref.reference_name, kind)
			if link:
				targets[(ref.reference_doctype, ref.reference_name)] = link["xero_id"]
		return targets

	def adopt_sent_payments(self, doc, targets: dict) -> None:
		"""After an unanswered send: link the payments Xero kept (same invoice, amount and reference)."""
		reference = doc.reference_no or doc.name
		body = self.client.call("get_payments", where=f'Reference=="{reference}"').body or {}
		kept = [p for p in body.get("Payments") or [] if p.get("Status") != "DELETED"]
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
		for row in rows:
			work = Work(row)
			failures = []
			for link in links.links_of(
				self.organisation, row["reference_doctype"], row["reference_name"], "Payment:"
			):
				if link["xero_status"] == "DELETED":
					continue
				try:
					self.client.call("delete_payment", link["xero_id"], {"Status": "DELETED"})
				except XeroValidationError as e:
					failures.extend(e.messages)
					continue
				frappe.db.set_value(
					"Xero Document Link", link["name"], "xero_status", "DELETED", update_modified=False
				)
			if failures:
				self.attention(work, failures)
			else:
				links.show_on_document(row["reference_doctype"], row["reference_name"], None, "DELETED")
				self.finish(work, "Success", None, _("Payments removed from Xero."))

	def allocate_credit_notes(self, rows: list[dict]):
		for work in self.load(rows):
			row = work.row
			credit = links.get_link(self.organisation, work.doc.doctype, work.doc.name, "CreditNote")
			invoice = links.get_link(self.organisation, work.doc.doctype, work.doc.return_against, "Invoice")
			if not credit or not invoice:
				self.skipped(
					work, _("The original invoice is not in Xero: the credit note stays unallocated.")
				)
				continue
			work.payload = allocation_payload(work.doc.grand_total, invoice["xero_id"], work.doc.posting_date)
			try:
				self.client.call(
					"create_credit_note_allocation",
					credit["xero_id"],
					work.payload,
					summarize_errors=False,
					idempotency_key=batching.idempotency_key(
						self.organisation, "allocate", [str(row["name"])]
					),
				)
			except XeroValidationError as e:
				self.attention(work, e.messages, e.body)
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
