"""Xero to ERPNext: fetch records (by ID in chunks under 50, or pages of what changed since the
watermark), map them with the core reverse mappings and apply them as ERPNext documents.

Everything written here carries doc.flags.from_xero, so sync/events.py never queues it back to Xero.
Each record is applied in its own transaction and ends in one Outcome; a record that fails is
logged as Needs Attention (with the Xero id and what to fix). A scheduled pull holds it aside
(sync/held.py) and retries it by id, so it never pins the watermark; Import History resumes at it.
Submitted documents are never edited in place: a Xero-side change is applied by cancel and amend
when the conflict policy lets Xero win, otherwise it is logged as a conflict with both versions.
"""

import datetime
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

import frappe
from frappe import _
from frappe.utils import flt, get_datetime, get_system_timezone
from redis.exceptions import LockError

from xero_integration.core.errors import XeroError, XeroNotFound
from xero_integration.core.mapping.contact import contact_to_erpnext, normalise_name
from xero_integration.core.mapping.context import MappingError
from xero_integration.core.mapping.credit_note import credit_note_to_erpnext
from xero_integration.core.mapping.invoice import ROUNDING_DESCRIPTION, invoice_to_erpnext
from xero_integration.core.mapping.payment import payment_to_erpnext
from xero_integration.core.money import money
from xero_integration.core.client import PAGE_SIZE, id_chunks, is_last_page
from xero_integration.core.pull import (
	HOLD_ATTEMPTS,
	Watermark,
	booked_hash,
	event_window,
	if_modified_since,
	same_moment,
	unapplied_payment_target,
	winner,
)
from xero_integration.install import FRACTIONAL_UOM
from xero_integration.sync import connection, links, party_details
from xero_integration.sync.context import mapping_context, tax_rates
from xero_integration.sync.held import HeldRecords
from xero_integration.sync.integration_user import as_integration_user
from xero_integration.sync.log import create_log

OBJECTS = ("Contact", "Invoice", "CreditNote", "Payment")  # dependency order
# object -> (AccountingApi list method, collection key, id key, extra list parameters)
LIST_CALL = {
	"Contact": ("get_contacts", "Contacts", "ContactID", {}),
	"Invoice": ("get_invoices", "Invoices", "InvoiceID", {"unitdp": 4}),
	"CreditNote": ("get_credit_notes", "CreditNotes", "CreditNoteID", {"unitdp": 4}),
	"Payment": ("get_payments", "Payments", "PaymentID", {}),
}
# object -> (AccountingApi method reading one record by id, its extra parameters), for the objects whose
# list has no IDs filter.
GET_ONE_CALL = {"CreditNote": ("get_credit_note", {"unitdp": 4}), "Payment": ("get_payment", {})}
WATERMARK_FIELD = {
	"Contact": "contacts_pulled_until",
	"Invoice": "invoices_pulled_until",
	"CreditNote": "credit_notes_pulled_until",
	"Payment": "payments_pulled_until",
}
PARTY_OF_TYPE = {
	"ACCREC": ("Customer", "customer"),
	"ACCRECCREDIT": ("Customer", "customer"),
	"ACCPAY": ("Supplier", "supplier"),
	"ACCPAYCREDIT": ("Supplier", "supplier"),
}
DIRECTION_OF_TYPE = {
	"ACCREC": "sync_sales_invoices",
	"ACCRECCREDIT": "sync_sales_invoices",
	"ACCPAY": "sync_purchase_invoices",
	"ACCPAYCREDIT": "sync_purchase_invoices",
}
PULL_DIRECTIONS = ("Both", "Xero to ERPNext")
DIRECTION = "Xero to ERPNext"
LOCK_SECONDS = 900
DEFAULT_UOM = "Nos"
# Per-line rounding can leave a cent a line between Xero's total and ERPNext's recomputation.
ROUNDING_CENTS_PER_LINE = Decimal("0.01")

CREATED, UPDATED, LINKED, UNCHANGED, ECHO, SKIPPED, FAILED, MISSING = (
	"created",
	"updated",
	"linked",
	"unchanged",
	"echo",
	"skipped",
	"failed",
	"missing",
)


class NeedsAttention(Exception):
	"""A record a person must look at; `erpnext` is ERPNext's version when Xero's conflicts with it."""

	def __init__(self, message: str, erpnext: dict | None = None):
		super().__init__(message)
		self.erpnext = erpnext


@dataclass
class Outcome:
	xero_id: str
	stamp: str | None
	result: str
	message: str | None = None

	@property
	def ok(self) -> bool:
		return self.result != FAILED


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


def pulls(direction_field: str) -> bool:
	settings = frappe.get_cached_doc("Xero Settings")
	return bool(settings.enabled) and settings.get(direction_field) in PULL_DIRECTIONS


def ready(organisation: str) -> bool:
	values = frappe.db.get_value("Xero Organisation", organisation, ["status", "company"], as_dict=True)
	return bool(values and values.status == "Connected" and values.company)


# ---- scheduled and on-demand pulls -------------------------------------------------------------


@as_integration_user()
def pull_organisation(organisation: str, objects=OBJECTS) -> Counter:
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
	header = if_modified_since(since)
	id_key = LIST_CALL[kind][2]
	page = 1
	while True:
		records, pagination = applier.list_page(kind, page, header, where)
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
			return mark  # stop at a page boundary rather than apply alongside another run
		if is_last_page(len(records), page, pagination):
			return mark
		page += 1


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
	for organisation in frappe.get_all(
		"Xero Organisation", filters={"status": "Connected", "company": ("is", "set")}, pluck="name"
	):
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


# ---- applying records --------------------------------------------------------------------------


class Applier:
	"""Applies Xero records of one organisation to its Company. One per job (the client is not
	thread-safe); caches what every record needs (mapping context, reverse mappings, party index)."""

	def __init__(self, organisation: str, client=None):
		self.organisation = organisation
		self.org = frappe.get_doc("Xero Organisation", organisation)
		self.company = self.org.company
		self.client = client or connection.client_for(organisation)
		self.counts: Counter = Counter()
		self.held = HeldRecords(organisation)
		self._party_index: dict[str, dict[str, str]] = {}

	# ---- what the mappings need -------------------------------------------------------------------

	@cached_property
	def ctx(self):
		return mapping_context(self.organisation, self.client)

	@cached_property
	def reverse_accounts(self) -> dict[str, str]:
		"""Xero account Code -> ERPNext account: the Company's defaults for the organisation's default
		codes, overridden by the explicit Account Mappings."""
		company = frappe.get_cached_doc("Company", self.company)
		defaults = {
			self.org.sales_account_code: company.default_income_account,
			self.org.purchase_account_code: company.default_expense_account,
			self.org.bank_account_code: company.default_bank_account or company.default_cash_account,
			self.org.rounding_account_code: company.round_off_account,
		}
		accounts = {code: account for code, account in defaults.items() if code and account}
		accounts.update({row.xero_account_code: row.account for row in self.org.account_mappings})
		return accounts

	@cached_property
	def reverse_tax(self) -> dict[str, tuple[str, Decimal]]:
		"""Xero TaxType -> (ERPNext tax account, Xero's rate), from the Tax Mappings."""
		rates = tax_rates(self.organisation, self.client)
		result = {}
		for row in sorted(self.org.tax_mappings, key=lambda r: r.erpnext_tax_type != "Account"):
			account = row.erpnext_tax if row.erpnext_tax_type == "Account" else template_account(row)
			if account and row.xero_tax_type in rates:
				result.setdefault(row.xero_tax_type, (account, rates[row.xero_tax_type]))
		return result

	@cached_property
	def reverse_items(self) -> dict[str, str]:
		return {row.xero_item_code: row.item for row in self.org.item_mappings}

	@cached_property
	def cost_center(self) -> str | None:
		return frappe.get_cached_value("Company", self.company, "cost_center")

	def policy(self, kind: str) -> str:
		settings = frappe.get_cached_doc("Xero Settings")
		specific = settings.get(
			"contacts_conflict_policy" if kind == "Contact" else "invoices_conflict_policy"
		)
		return specific or settings.conflict_policy or "ERPNext wins"

	# ---- fetching ---------------------------------------------------------------------------------

	def list_page(self, kind: str, page: int, since=None, where=None) -> tuple[list[dict], dict | None]:
		method, collection, _id_key, extra = LIST_CALL[kind]
		params = {"page": page, "page_size": PAGE_SIZE, "order": "UpdatedDateUTC ASC", **extra}
		if since is not None:
			params["if_modified_since"] = since
		if where:
			params["where"] = where
		body = self.client.call(method, **params).body or {}
		return body.get(collection) or [], body.get("pagination")

	def fetch(self, kind: str, ids, event_dates=()) -> dict[str, dict]:
		"""The current Xero records of these IDs, by lowercase ID; an ID Xero no longer has is absent."""
		method, collection, id_key, extra = LIST_CALL[kind]
		found = {}
		if kind in GET_ONE_CALL:
			# Xero's CreditNotes and Payments lists have no IDs filter: read what changed since the events,
			# in pages (or, with no events to date them, fetch each one).
			wanted = {i.lower() for i in ids}
			if not event_dates:
				for xero_id in wanted:
					found.update(self.fetch_one(kind, xero_id))
				return found
			window, page = event_window(event_dates), 1
			while wanted - found.keys():
				records, pagination = self.list_page(kind, page, window)
				found.update({r[id_key].lower(): r for r in records if r[id_key].lower() in wanted})
				if is_last_page(len(records), page, pagination):
					break
				page += 1
			for missing in wanted - found.keys():
				found.update(self.fetch_one(kind, missing))
			return found
		if kind == "Contact":
			extra = {"include_archived": True}  # an announced contact may have just been archived
		for chunk in id_chunks(ids):
			body = self.client.call(method, i_ds=chunk, page=1, page_size=PAGE_SIZE, **extra).body or {}
			found.update({r[id_key].lower(): r for r in body.get(collection) or []})
		return found

	def fetch_one(self, kind: str, xero_id: str) -> dict[str, dict]:
		method, extra = GET_ONE_CALL[kind]
		_list_method, collection, id_key, _extra = LIST_CALL[kind]
		try:
			body = self.client.call(method, xero_id, **extra).body or {}
		except XeroNotFound:
			return {}
		return {r[id_key].lower(): r for r in body.get(collection) or []}

	# ---- applying ---------------------------------------------------------------------------------

	def apply_all(self, kind: str, records: list[dict]) -> list[Outcome]:
		self.fetch_dependencies(kind, records)
		return [self.apply(kind, record) for record in records]

	def apply(self, kind: str, record: dict) -> Outcome:
		"""Apply one record in its own transaction; a failure is logged and does not stop the rest."""
		xero_id = record.get(LIST_CALL[kind][2])
		stamp = record.get("UpdatedDateUTC")
		handler = {
			"Contact": self.apply_contact,
			"Invoice": self.apply_transaction,
			"CreditNote": self.apply_transaction,
			"Payment": self.apply_payment,
		}[kind]
		try:
			outcome = handler(record)
			self.held.release(kind, xero_id)
			frappe.db.commit()
		except XeroError as e:
			if e.retryable or not isinstance(e, XeroNotFound):
				raise  # Xero trouble stops the run; the watermark has not passed this record
			outcome = self.attention(kind, record, str(e))
		except NeedsAttention as e:
			outcome = self.attention(kind, record, str(e), e.erpnext)
		except MappingError as e:
			outcome = self.attention(
				kind,
				record,
				_(
					"{0} Fix the mappings on the Xero Organisation, then press Sync now: the next pull retries it."
				).format(plain_error(e)),
			)
		except frappe.ValidationError as e:
			outcome = self.attention(kind, record, plain_error(e))
		except Exception as e:
			frappe.db.rollback()
			if not self.held.repeats(kind, xero_id, str(e)):
				self.log(
					"Failed",
					kind,
					xero_id,
					_("Applying this Xero record failed unexpectedly: {0}").format(e),
					request=record,
					traceback=frappe.get_traceback(),
				)
			frappe.db.commit()
			outcome = Outcome(xero_id, stamp, FAILED, str(e))
		self.counts[outcome.result] += 1
		return outcome

	def attention(self, kind: str, record: dict, message: str, erpnext: dict | None = None) -> Outcome:
		frappe.db.rollback()
		xero_id = record.get(LIST_CALL[kind][2])
		label = record.get("Name") or record.get("InvoiceNumber") or record.get("CreditNoteNumber") or xero_id
		if not self.held.repeats(kind, xero_id, message):
			self.log(
				"Needs Attention",
				kind,
				xero_id,
				_("Xero {0} {1}: {2}").format(kind, label, message),
				request=record,
				response=erpnext,
			)
		frappe.db.commit()
		return Outcome(xero_id, record.get("UpdatedDateUTC"), FAILED, message)

	def done(self, result: str, kind: str, record: dict, doctype: str, name: str, message=None) -> Outcome:
		xero_id = record.get(LIST_CALL[kind][2])
		self.log(
			"Success", kind, xero_id, message, reference_doctype=doctype, reference_name=name, request=record
		)
		return Outcome(xero_id, record.get("UpdatedDateUTC"), result, message)

	def log(self, status: str, kind: str, xero_id: str | None, message: str | None, **fields) -> None:
		"""One log row about one Xero record of this organisation."""
		create_log(
			status,
			operation=f"{kind} from Xero",
			direction=DIRECTION,
			organisation=self.organisation,
			xero_object=kind,
			xero_id=xero_id,
			message=message,
			**fields,
		)

	def hold(self, kind: str, outcome: Outcome) -> None:
		"""Hold a failed record aside to retry it by id; at the cap it is parked, with one log saying so."""
		if self.held.hold(kind, outcome):
			self.log(
				"Needs Attention",
				kind,
				outcome.xero_id,
				_(
					"Xero {0} {1} failed {2} times and is no longer retried on its own: {3} Fix the cause, then "
					"change it in Xero or import Xero's history from its date to bring it in."
				).format(kind, outcome.xero_id, HOLD_ATTEMPTS, outcome.message),
			)

	def fetch_dependencies(self, kind: str, records: list[dict]) -> None:
		"""Bring in, in bulk, the contacts of invoices and the invoices of payments not yet linked, so
		a page costs a few calls instead of one per record."""
		if kind in ("Invoice", "CreditNote"):
			ids = [(r.get("Contact") or {}).get("ContactID") for r in records]
			missing = [i for i in ids if i and not self.links_of("Contact", i)]
			if missing and pulls("sync_contacts"):
				for contact in self.fetch("Contact", missing).values():
					self.apply("Contact", contact)
		elif kind == "Payment":
			ids = [(r.get("Invoice") or {}).get("InvoiceID") for r in records if r.get("Status") != "DELETED"]
			missing = [i for i in ids if i and not self.links_of("Invoice", i)]
			if missing:
				for invoice in self.fetch("Invoice", missing).values():
					self.apply("Invoice", invoice)

	# ---- links ------------------------------------------------------------------------------------

	def links_of(self, xero_object: str, xero_id: str, doctype: str | None = None) -> list[dict]:
		"""Document links of one Xero record (a contact can be a Customer and a Supplier)."""
		filters = {"organisation": self.organisation, "xero_id": xero_id.lower()}
		filters["xero_object"] = ("like", "Payment:%") if xero_object == "Payment" else xero_object
		if doctype:
			filters["reference_doctype"] = doctype
		return frappe.get_all(
			"Xero Document Link",
			filters=filters,
			fields=[
				"name",
				"reference_doctype",
				"reference_name",
				"xero_object",
				"xero_updated",
				"last_synced",
				"booked_hash",
			],
		)

	def link(self, doctype: str, name: str, xero_object: str, record: dict, status=None) -> None:
		id_key = LIST_CALL[xero_object if not xero_object.startswith("Payment") else "Payment"][2]
		links.save_link(
			self.organisation,
			doctype,
			name,
			xero_object,
			record[id_key].lower(),
			status or record.get("Status") or record.get("ContactStatus"),
			xero_updated=record.get("UpdatedDateUTC"),
			booked_hash=booked_hash(record) if "LineItems" in record else None,
		)

	# ---- contacts ---------------------------------------------------------------------------------

	def apply_contact(self, contact: dict) -> Outcome:
		xero_id, stamp = contact["ContactID"], contact.get("UpdatedDateUTC")
		if not pulls("sync_contacts"):
			return Outcome(xero_id, stamp, SKIPPED)
		existing = self.links_of("Contact", xero_id)
		if existing and all(same_moment(link.xero_updated, stamp) for link in existing):
			return Outcome(xero_id, stamp, ECHO)
		if not existing and contact.get("ContactStatus") == "ARCHIVED":
			return Outcome(xero_id, stamp, SKIPPED, _("Archived in Xero: not brought into ERPNext."))
		mapped = contact_to_erpnext(contact)
		roles = [d for d, flag in (("Customer", "is_customer"), ("Supplier", "is_supplier")) if mapped[flag]]
		doctypes = dict.fromkeys([*(roles or ["Customer"]), *(link.reference_doctype for link in existing)])
		results = []
		for doctype in doctypes:
			link = next((link for link in existing if link.reference_doctype == doctype), None)
			results.append(self.apply_party(doctype, mapped, contact, link))
		changed = [r for r in results if r != UNCHANGED]
		return Outcome(xero_id, stamp, changed[0] if changed else UNCHANGED)

	def apply_party(self, doctype: str, mapped: dict, contact: dict, link) -> str:
		name_field = "customer_name" if doctype == "Customer" else "supplier_name"
		wanted = {name_field: mapped[name_field], "tax_id": mapped["tax_id"]}
		if link:
			doc = frappe.get_doc(doctype, link.reference_name)
			changes = {k: v for k, v in wanted.items() if v and doc.get(k) != v}
			details = party_details.detail_changes(doc, mapped, self.company)
			if changes or details:
				erpnext_changed = get_datetime(doc.modified) > get_datetime(
					link.last_synced
				) or details.modified_in_erpnext_since(doc, link.last_synced)
				side = winner(
					self.policy("Contact"),
					erpnext_changed=erpnext_changed,
					erpnext_modified=utc(doc.modified),
					xero_updated=contact.get("UpdatedDateUTC"),
				)
				if side == "erpnext":
					raise NeedsAttention(
						_(
							"{0} {1} was changed in ERPNext and in Xero; the conflict policy keeps ERPNext's version. Edit one side to agree."
						).format(doctype, doc.name),
						{**{k: doc.get(k) for k in wanted}, **details.current(doc)},
					)
				doc.update(changes)
				party_details.apply_details(doc, details, mapped)
				doc.flags.from_xero = True
				doc.save(ignore_permissions=True)
			self.link(doctype, doc.name, "Contact", contact)
			if changes or details:
				self.done(UPDATED, "Contact", contact, doctype, doc.name)
				return UPDATED
			return UNCHANGED
		matched = self.match_party(doctype, mapped)
		if matched:
			self.link(doctype, matched["name"], "Contact", contact)
			self.done(
				LINKED,
				"Contact",
				contact,
				doctype,
				matched["name"],
				_("Linked to the existing {0} {1} (same {2}).").format(
					doctype, matched["name"], matched["rule"]
				),
			)
			return LINKED
		name = self.create_party(doctype, mapped)
		self.link(doctype, name, "Contact", contact)
		self.done(CREATED, "Contact", contact, doctype, name)
		return CREATED

	def match_party(self, doctype: str, mapped: dict) -> dict | None:
		"""An unlinked ERPNext party that is this Xero contact: by ContactNumber (our name), email,
		or normalised name, in that order."""
		linked = set(
			frappe.get_all(
				"Xero Document Link",
				filters={
					"organisation": self.organisation,
					"reference_doctype": doctype,
					"xero_object": "Contact",
				},
				pluck="reference_name",
			)
		)
		number, email = mapped.get("contact_number"), mapped.get("email_id")
		candidates = (
			("ContactNumber", number if number and frappe.db.exists(doctype, number) else None),
			("email", email and frappe.db.get_value(doctype, {"email_id": email, "disabled": 0})),
			("name", self.party_index(doctype).get(normalise_name(mapped["customer_name"]))),
		)
		for rule, name in candidates:
			if name and name not in linked:
				return {"name": name, "rule": rule}
		return None

	def party_index(self, doctype: str) -> dict[str, str]:
		if doctype not in self._party_index:
			name_field = "customer_name" if doctype == "Customer" else "supplier_name"
			self._party_index[doctype] = {
				normalise_name(row[name_field]): row.name
				for row in frappe.get_all(doctype, filters={"disabled": 0}, fields=["name", name_field])
			}
		return self._party_index[doctype]

	def create_party(self, doctype: str, mapped: dict) -> str:
		if doctype == "Customer":
			values = {
				"customer_name": mapped["customer_name"],
				"customer_type": "Company",
				"customer_group": frappe.db.get_single_value("Selling Settings", "customer_group")
				or "All Customer Groups",
				"territory": frappe.db.get_single_value("Selling Settings", "territory") or "All Territories",
			}
		else:
			values = {
				"supplier_name": mapped["supplier_name"],
				"supplier_type": "Company",
				"supplier_group": frappe.db.get_single_value("Buying Settings", "supplier_group")
				or "All Supplier Groups",
			}
		# email_id / mobile_no on a new party make ERPNext create its primary Contact.
		for field in ("tax_id", "email_id", "mobile_no"):
			if mapped.get(field):
				values[field] = mapped[field]
		doc = frappe.get_doc({"doctype": doctype, **values})
		doc.flags.from_xero = True
		doc.insert(ignore_permissions=True)
		for address in mapped["addresses"]:
			party_details.create_address(
				doctype, doc.name, party_details.address_values(address, self.company)
			)
		self.party_index(doctype)[normalise_name(mapped["customer_name"])] = doc.name
		return doc.name

	def party_for(self, contact_id: str | None, doctype: str) -> str:
		"""The ERPNext party of a Xero contact, bringing the contact in when it is not linked yet."""
		if not contact_id:
			raise NeedsAttention(_("It names no contact."))
		found = self.links_of("Contact", contact_id, doctype)
		if not found:
			contact = self.fetch("Contact", [contact_id]).get(contact_id.lower())
			if not contact:
				raise NeedsAttention(_("Its contact {0} does not exist in Xero any more.").format(contact_id))
			mapped = contact_to_erpnext(contact)
			existing = self.links_of("Contact", contact_id)
			self.apply_party(doctype, mapped, contact, None)
			if existing:  # keep the other role's link stamp in step
				self.link(existing[0].reference_doctype, existing[0].reference_name, "Contact", contact)
			found = self.links_of("Contact", contact_id, doctype)
		return found[0].reference_name

	# ---- invoices and credit notes ----------------------------------------------------------------

	def apply_transaction(self, record: dict) -> Outcome:
		xero_type = record.get("Type")
		kind = "CreditNote" if "CreditNoteID" in record else "Invoice"
		id_key = LIST_CALL[kind][2]
		xero_id, stamp = record[id_key], record.get("UpdatedDateUTC")
		if xero_type not in PARTY_OF_TYPE or not pulls(DIRECTION_OF_TYPE[xero_type]):
			return Outcome(xero_id, stamp, SKIPPED)
		found = self.links_of(kind, xero_id)
		link = found[0] if found else None
		if link and same_moment(link.xero_updated, stamp):
			return Outcome(xero_id, stamp, ECHO)
		to_erpnext = invoice_to_erpnext if kind == "Invoice" else credit_note_to_erpnext
		mapped = to_erpnext(
			record, self.ctx, reverse_accounts=self.reverse_accounts, reverse_tax=self.reverse_tax
		)
		target = mapped.pop("docstatus")
		notes = " ".join(mapped.pop("xero_notes"))
		party_doctype, party_field = PARTY_OF_TYPE[xero_type]
		allocated = mapped.pop("xero_allocated_invoice_ids", [])
		values = self.document_values(mapped)
		number = record.get("InvoiceNumber") or record.get("CreditNoteNumber")
		if not link and target == 2:
			return self.done(
				SKIPPED,
				kind,
				record,
				None,
				None,
				_("{0} in Xero before it reached ERPNext: nothing to record.").format(record.get("Status")),
			)
		values[party_field] = self.party_for(mapped["xero_contact_id"], party_doctype)
		self.check_currency(values, number)
		if not link:
			matched = self.match_transaction(values, number)
			if matched:
				self.link(values["doctype"], matched, kind, record)
				return self.done(
					LINKED,
					kind,
					record,
					values["doctype"],
					matched,
					_("Linked to the existing {0} {1} (same number).").format(values["doctype"], matched),
				)
			if kind == "CreditNote":
				values.update(self.return_against(allocated, values["doctype"]))
			doc = self.insert_document(
				values, target, record, name=number if party_doctype == "Customer" else None
			)
			self.link(doc.doctype, doc.name, kind, record)
			return self.done(CREATED, kind, record, doc.doctype, doc.name, notes or None)
		doc = frappe.get_doc(link.reference_doctype, link.reference_name)
		result, current, message = self.update_document(doc, link, values, target, record)
		if current is not None:
			self.link(current.doctype, current.name, kind, record)
		if result == UNCHANGED:
			return Outcome(xero_id, stamp, UNCHANGED)
		return self.done(
			result, kind, record, doc.doctype, (current or doc).name, " ".join(filter(None, (message, notes)))
		)

	def document_values(self, mapped: dict) -> dict:
		"""The mapped dict as ERPNext document values: Company, units, cost centre, floats."""
		values = {k: v for k, v in mapped.items() if not k.startswith("xero_")}
		values["company"] = self.company
		for item in values["items"]:
			item_code = self.reverse_items.get(item.pop("xero_item_code", None))
			if item_code:
				item["item_code"] = item_code
			whole = float(item.get("qty") or 0).is_integer()
			item.setdefault("uom", DEFAULT_UOM if whole else FRACTIONAL_UOM)
			item.setdefault("stock_uom", item["uom"])
			item.setdefault("conversion_factor", 1)
			item.setdefault("cost_center", self.cost_center)
		for tax in values["taxes"]:
			tax.setdefault("cost_center", self.cost_center)
		return as_floats(values)

	def check_currency(self, values: dict, number) -> None:
		currency = values["currency"]
		if not frappe.db.get_value("Currency", currency, "enabled"):
			raise NeedsAttention(
				_(
					"{0} is in {1}, which is not enabled in ERPNext: enable it in the Currency list, then press Sync now."
				).format(number, currency)
			)

	def match_transaction(self, values: dict, number) -> str | None:
		"""An unlinked ERPNext document that is this Xero one: a Sales Invoice or return named with
		the Xero number, or a Purchase Invoice with that bill number from the same supplier."""
		if not number:
			return None
		doctype = values["doctype"]
		filters = {"docstatus": ("<", 2), "is_return": values.get("is_return", 0), "company": self.company}
		if doctype == "Sales Invoice":
			filters["name"] = number
		else:
			filters.update({"bill_no": number, "supplier": values["supplier"]})
		candidate = frappe.db.get_value(
			doctype, filters, ["name", "customer" if doctype == "Sales Invoice" else "supplier"], as_dict=True
		)
		if not candidate or frappe.db.exists(
			"Xero Document Link",
			{
				"organisation": self.organisation,
				"reference_doctype": doctype,
				"reference_name": candidate.name,
			},
		):
			return None
		party = candidate.get("customer") or candidate.get("supplier")
		party_field = "customer" if doctype == "Sales Invoice" else "supplier"
		if party != values[party_field]:
			raise NeedsAttention(
				_("ERPNext already has {0} {1} for {2}, but Xero's is for {3}: rename one of them.").format(
					doctype, candidate.name, party, values[party_field]
				)
			)
		return candidate.name

	def return_against(self, invoice_ids: list, doctype: str) -> dict:
		for invoice_id in filter(None, invoice_ids):
			found = self.links_of("Invoice", invoice_id, doctype)
			if found:
				return {"return_against": found[0].reference_name}
		return {}

	def insert_document(self, values: dict, target: int, record: dict, name=None):
		doc = frappe.get_doc(values)
		doc.flags.from_xero = True
		if name and not frappe.db.exists(values["doctype"], name):
			doc.insert(ignore_permissions=True, set_name=name)
		else:
			doc.insert(ignore_permissions=True)
		book_rounding_difference(doc, record)
		check_total(doc, record)
		if target == 1:
			doc.submit()
		return doc

	def update_document(self, doc, link, values: dict, target: int, record: dict):
		"""Bring an ERPNext document in line with Xero's. Returns (result, document now linked, note)."""
		if target == 2:
			if doc.docstatus == 1:
				doc.flags.from_xero = True
				doc.cancel()
				return UPDATED, doc, _("Cancelled: {0} in Xero.").format(record.get("Status"))
			if doc.docstatus == 0:
				frappe.delete_doc(doc.doctype, doc.name, ignore_permissions=True, flags={"from_xero": True})
				links.delete_link(link.name)
				return (
					UPDATED,
					None,
					_("Draft {0} deleted: {1} in Xero.").format(doc.name, record.get("Status")),
				)
			return UNCHANGED, doc, None
		if doc.docstatus == 2:
			raise NeedsAttention(
				_(
					"{0} {1} is cancelled in ERPNext but {2} in Xero: void it in Xero or amend it in ERPNext."
				).format(doc.doctype, doc.name, record.get("Status")),
				erpnext_version(doc),
			)
		if same_content(doc, values, record, link):
			if target == 1 and doc.docstatus == 0:
				doc.flags.from_xero = True
				doc.submit()
				return UPDATED, doc, _("Submitted: approved in Xero.")
			return UNCHANGED, doc, None
		erpnext_changed = doc.docstatus == 1 or get_datetime(doc.modified) > get_datetime(link.last_synced)
		side = winner(
			self.policy("Invoice"),
			erpnext_changed=erpnext_changed,
			erpnext_modified=utc(doc.modified),
			xero_updated=record.get("UpdatedDateUTC"),
		)
		if side == "erpnext":
			raise NeedsAttention(
				_(
					"Changed in Xero, but {0} {1} {2} and the conflict policy keeps ERPNext's version. Compare both versions (request: Xero, response: ERPNext) and change one side."
				).format(
					doc.doctype, doc.name, _("is submitted") if doc.docstatus == 1 else _("was edited too")
				),
				erpnext_version(doc),
			)
		if doc.docstatus == 0:
			doc.update({k: v for k, v in values.items() if k != "doctype"})
			doc.flags.from_xero = True
			doc.save(ignore_permissions=True)
			book_rounding_difference(doc, record)
			check_total(doc, record)
			if target == 1:
				doc.submit()
			return UPDATED, doc, _("Updated from Xero.")
		doc.flags.from_xero = True
		doc.cancel()
		amended = frappe.get_doc({**values, "amended_from": doc.name})
		amended.flags.from_xero = True
		amended.insert(ignore_permissions=True)
		book_rounding_difference(amended, record)
		check_total(amended, record)
		if target == 1:
			amended.submit()
		frappe.db.set_value(
			"Xero Document Link", link.name, "reference_name", amended.name, update_modified=False
		)
		return (
			UPDATED,
			amended,
			_("Changed in Xero: {0} cancelled and amended as {1}.").format(doc.name, amended.name),
		)

	# ---- payments ---------------------------------------------------------------------------------

	def apply_payment(self, payment: dict) -> Outcome:
		xero_id, stamp = payment["PaymentID"], payment.get("UpdatedDateUTC")
		if not pulls("sync_payments"):
			return Outcome(xero_id, stamp, SKIPPED)
		target = unapplied_payment_target(payment)
		if target:
			return self.not_applied(payment, target)
		deleted = payment.get("Status") == "DELETED"
		found = self.links_of("Payment", xero_id)
		if found:
			link = found[0]
			entry = frappe.get_doc("Payment Entry", link.reference_name)
			if deleted and entry.docstatus == 1:
				entry.flags.from_xero = True
				entry.cancel()
				self.link("Payment Entry", entry.name, link.xero_object, payment, "DELETED")
				return self.done(
					UPDATED, "Payment", payment, "Payment Entry", entry.name, _("Cancelled: deleted in Xero.")
				)
			self.link("Payment Entry", entry.name, link.xero_object, payment)
			return Outcome(xero_id, stamp, UNCHANGED)
		if deleted:
			return Outcome(xero_id, stamp, SKIPPED, _("Deleted in Xero before it reached ERPNext."))
		mapped = payment_to_erpnext(payment, self.ctx, reverse_accounts=self.reverse_accounts)
		reference = mapped["references"][0]
		kind = "CreditNote" if payment.get("CreditNote") else "Invoice"
		doctype, name = self.paid_document(kind, reference["xero_id"])
		entry = self.payment_entry(mapped, doctype, name)
		self.link("Payment Entry", entry.name, f"Payment:{doctype}:{name}", payment, "AUTHORISED")
		return self.done(CREATED, "Payment", payment, "Payment Entry", entry.name)

	def not_applied(self, payment: dict, target: str) -> Outcome:
		"""A payment of a prepayment or overpayment: skipped, and logged the first time it is read."""
		xero_id, stamp = payment["PaymentID"], payment.get("UpdatedDateUTC")
		message = _(
			"Xero payment {0} pays a {1}, not an invoice or credit note: the app does not apply payments of "
			"prepayments or overpayments. Record it in ERPNext by hand if your books need it."
		).format(xero_id, target)
		if self.held.note_not_applied("Payment", xero_id, stamp, message):
			self.log("Skipped", "Payment", xero_id, message, request=payment)
		return Outcome(xero_id, stamp, SKIPPED, message)

	def paid_document(self, kind: str, xero_id: str | None) -> tuple[str, str]:
		if not xero_id:
			raise NeedsAttention(_("It does not say which invoice it pays."))
		found = self.links_of(kind, xero_id)
		if not found:
			record = self.fetch(kind, [xero_id]).get(xero_id.lower())
			if record:
				self.apply(kind, record)
			found = self.links_of(kind, xero_id)
		if not found:
			raise NeedsAttention(
				_(
					"It pays Xero {0} {1}, which is not in ERPNext: fix that document first (see its log)."
				).format(kind, xero_id)
			)
		return found[0].reference_doctype, found[0].reference_name

	def payment_entry(self, mapped: dict, doctype: str, name: str):
		"""The Payment Entry, built from the paid document's own party and accounts and submitted.

		Not with get_payment_entry: it computes the party's and both accounts' balances at today's date
		(validate keeps them) and carries its own guesses (the company's default bank account, open
		payment requests, early-payment discounts). Built here, validate computes the balances at the
		payment's own date. It costs the same: both compute them once (see README, Benchmarks)."""
		from erpnext.accounts.doctype.payment_entry.payment_entry import (
			set_party_account,
			set_party_account_currency,
			update_accounting_dimensions,
		)

		invoice = frappe.get_doc(doctype, name)
		allocated = flt(mapped["references"][0]["allocated_amount"], 2)
		outstanding = flt(invoice.outstanding_amount, 2)
		if not outstanding or (outstanding > 0) != (allocated > 0):
			raise NeedsAttention(
				_("{0} {1} has nothing outstanding to pay in ERPNext.").format(doctype, name)
			)
		party_type = mapped["party_type"]
		party_account = set_party_account(doctype, name, invoice, party_type)
		bank = mapped.get("paid_to") or mapped.get("paid_from")
		receive = mapped["payment_type"] == "Receive"
		entry = frappe.new_doc("Payment Entry")
		entry.update(
			{
				"payment_type": mapped["payment_type"],
				"company": invoice.company,
				"cost_center": invoice.get("cost_center"),
				"party_type": party_type,
				"party": invoice.get(frappe.scrub(party_type)),
				"paid_from": party_account if receive else bank,
				"paid_to": bank if receive else party_account,
				f"paid_{'from' if receive else 'to'}_account_currency": set_party_account_currency(
					doctype, party_account, invoice
				),
				"posting_date": mapped["posting_date"],
				"reference_no": mapped["reference_no"],
				"reference_date": mapped["reference_date"],
				"paid_amount": flt(mapped["paid_amount"], 2),
				"received_amount": flt(mapped["received_amount"], 2),
				"source_exchange_rate": flt(mapped["source_exchange_rate"], 9),
				"target_exchange_rate": flt(mapped["target_exchange_rate"], 9),
			}
		)
		entry.append(
			"references",
			{
				"reference_doctype": doctype,
				"reference_name": name,
				"due_date": invoice.get("due_date"),
				"bill_no": invoice.get("bill_no"),
				"total_amount": invoice.grand_total,
				"outstanding_amount": outstanding,
				"allocated_amount": allocated,
			},
		)
		update_accounting_dimensions(entry, invoice)
		entry.flags.from_xero = True
		entry.insert(ignore_permissions=True)
		entry.submit()
		return entry


# ---- helpers -----------------------------------------------------------------------------------


def template_account(row) -> str | None:
	"""The first tax account of a taxes template or Item Tax Template named in a Tax Mapping row."""
	child, field = {
		"Sales Taxes and Charges Template": ("Sales Taxes and Charges", "account_head"),
		"Purchase Taxes and Charges Template": ("Purchase Taxes and Charges", "account_head"),
		"Item Tax Template": ("Item Tax Template Detail", "tax_type"),
	}[row.erpnext_tax_type]
	accounts = frappe.get_all(child, filters={"parent": row.erpnext_tax}, pluck=field, order_by="idx")
	return accounts[0] if accounts else None


def as_floats(value):
	"""Decimals from the mapping as floats (exact for the 2-9 decimal places used) for Frappe."""
	if isinstance(value, dict):
		return {k: as_floats(v) for k, v in value.items()}
	if isinstance(value, list):
		return [as_floats(v) for v in value]
	if isinstance(value, Decimal):
		return float(value)
	return value


def xero_total(record: dict) -> Decimal:
	sign = -1 if record.get("Type", "").endswith("CREDIT") else 1
	return sign * money(record.get("Total"))


def book_rounding_difference(doc, record: dict) -> None:
	"""Xero rounds every line; ERPNext rounds rates and then tax rows. When the document ERPNext built
	is a few cents from Xero's total, book the difference on the Company's round-off account in the
	document's rounding row, and say so on the document: never absorb it silently, never let a real difference through
	(anything larger is left for check_total to refuse)."""
	if record.get("Total") is None:
		return
	difference = xero_total(record) - money(flt(doc.grand_total, 2))
	if not difference or abs(difference) > ROUNDING_CENTS_PER_LINE * max(len(doc.items), 1):
		return
	existing = next((tax for tax in doc.taxes if tax.description == ROUNDING_DESCRIPTION), None)
	if existing:
		# One rounding row per document: the mapping's own row absorbs what ERPNext rounded differently.
		existing.tax_amount = float(money(existing.tax_amount) + difference)
	else:
		row = {
			"charge_type": "Actual",
			"account_head": frappe.get_cached_value("Company", doc.company, "round_off_account"),
			"description": ROUNDING_DESCRIPTION,
			"tax_amount": float(difference),
			"cost_center": frappe.get_cached_value("Company", doc.company, "round_off_cost_center"),
		}
		if doc.doctype == "Purchase Invoice":
			row.update({"category": "Total", "add_deduct_tax": "Add"})
		doc.append("taxes", row)
	doc.flags.from_xero = True
	doc.save(ignore_permissions=True)
	doc.add_comment(
		"Comment",
		_("Rounding adjustment of {0} booked so that the total equals Xero's {1}.").format(
			difference, xero_total(record)
		),
	)


def check_total(doc, record: dict) -> None:
	"""The ERPNext document must total what Xero says, to the cent, or it is not recorded at all."""
	if record.get("Total") is None:
		return
	expected = xero_total(record)
	actual = money(flt(doc.grand_total, 2))
	if actual != expected:
		raise NeedsAttention(
			_("ERPNext totals it {0} but Xero {1}: check the tax and account mappings of its lines.").format(
				actual, expected
			),
			erpnext_version(doc),
		)


def same_content(doc, values: dict, record: dict, link) -> bool:
	"""Whether Xero's version books the same as ERPNext's: party, currency, date and total, and the same
	lines as when last synced (a line edit that keeps the total is a change too)."""
	party_field = "customer" if doc.doctype == "Sales Invoice" else "supplier"
	return (
		doc.get(party_field) == values.get(party_field)
		and doc.currency == values["currency"]
		and str(doc.posting_date) == str(values["posting_date"])
		and (record.get("Total") is None or money(flt(doc.grand_total, 2)) == xero_total(record))
		and (not link.booked_hash or "LineItems" not in record or link.booked_hash == booked_hash(record))
	)


def erpnext_version(doc) -> dict:
	party_field = "customer" if doc.doctype == "Sales Invoice" else "supplier"
	return {
		"doctype": doc.doctype,
		"name": doc.name,
		"docstatus": doc.docstatus,
		party_field: doc.get(party_field),
		"posting_date": str(doc.posting_date),
		"currency": doc.currency,
		"grand_total": flt(doc.grand_total, 2),
		"items": [
			{"item_name": i.item_name, "qty": i.qty, "rate": i.rate, "amount": i.amount} for i in doc.items
		],
	}


def utc(moment):
	"""An ERPNext timestamp (system time zone, naive) as an aware UTC datetime."""
	if not moment:
		return None
	return (
		get_datetime(moment).replace(tzinfo=ZoneInfo(get_system_timezone())).astimezone(datetime.timezone.utc)
	)


def plain_error(error: Exception) -> str:
	if isinstance(error, MappingError):
		return " ".join(error.problems)
	text = frappe.utils.strip_html(str(error)) or error.__class__.__name__
	return " ".join(text.split())
