"""The machinery every inbound object family shares: outcomes of applying one Xero record, what the
reverse mappings need, fetching records by id, applying each record in its own transaction (a failure is
logged and held aside, never stops the rest), links to the documents they became, and the one
conflict-resolution rule.
"""

import datetime
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import ClassVar
from zoneinfo import ZoneInfo

import frappe
from frappe import _
from frappe.utils import get_datetime, get_system_timezone

from xero_integration.core.client import PAGE_SIZE
from xero_integration.core.errors import XeroError, XeroNotFound
from xero_integration.core.mapping.context import MappingError
from xero_integration.core.objects import OBJECTS
from xero_integration.core.pull import HOLD_ATTEMPTS, booked_hash, event_window, winner
from xero_integration.sync import connection, links
from xero_integration.sync.context import mapping_context, tax_rates
from xero_integration.sync.held import HeldRecords
from xero_integration.sync.log import create_log

PULL_DIRECTIONS = ("Both", "Xero to ERPNext")
DIRECTION = "Xero to ERPNext"


class Result:
	"""What applying one Xero record came to (Outcome.result)."""

	CREATED, UPDATED, LINKED, UNCHANGED = "created", "updated", "linked", "unchanged"
	ECHO = "echo"  # our own write coming back
	SKIPPED, FAILED, MISSING = "skipped", "failed", "missing"


class NeedsAttention(Exception):
	"""A record a person must look at; `erpnext` is ERPNext's version when Xero's conflicts with it."""

	def __init__(self, message: str, erpnext: dict | None = None):
		super().__init__(message)
		self.erpnext = erpnext


@dataclass
class Outcome:
	"""What applying one Xero record came to."""

	xero_id: str
	stamp: str | None
	result: str
	message: str | None = None

	@property
	def ok(self) -> bool:
		return self.result != Result.FAILED


def pulls(direction_field: str) -> bool:
	settings = frappe.get_cached_doc("Xero Settings")
	return bool(settings.enabled) and settings.get(direction_field) in PULL_DIRECTIONS


class Inbound:
	"""Applies Xero records of one organisation to its Company. One per job (the client is not
	thread-safe); caches what every record needs (mapping context, reverse mappings). The object
	families (contacts.py, invoices.py, advances.py, payments.py) add the applying, named in APPLIES,
	and what must be in ERPNext first, in BRINGS_FIRST; sync/pull.py puts them together."""

	APPLIES: ClassVar[dict] = {}  # Xero object -> method applying one record of it
	BRINGS_FIRST: ClassVar[dict] = {}  # Xero object -> method bringing in what a page of it needs
	page_size = PAGE_SIZE

	def __init__(self, organisation: str, client=None):
		self.organisation = organisation
		self.org = frappe.get_doc("Xero Organisation", organisation)
		self.company = self.org.company
		self.client = client or connection.client_for(organisation)
		self.counts: Counter = Counter()
		self.held = HeldRecords(organisation)

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

	def resolve_conflict(
		self, kind: str, *, erpnext_changed: bool, doc, record: dict, message: str, erpnext
	) -> None:
		"""Xero changed a record ERPNext holds: when the conflict policy keeps ERPNext's version, say so
		(NeedsAttention, with both versions for a person to compare); otherwise Xero's is applied."""
		side = winner(
			self.policy(kind),
			erpnext_changed=erpnext_changed,
			erpnext_modified=utc(doc.modified),
			xero_updated=record.get("UpdatedDateUTC"),
		)
		if side == "erpnext":
			raise NeedsAttention(message, erpnext)

	# ---- fetching ---------------------------------------------------------------------------------

	def fetch(self, kind: str, ids, event_dates=()) -> dict[str, dict]:
		"""The current Xero records of these IDs, by lowercase ID; an ID Xero no longer has is absent."""
		xero_object = OBJECTS[kind]
		if xero_object.by_ids or not event_dates:
			return self.client.by_ids(kind, ids)
		# Its list has no IDs filter: read what changed since the events, in pages, and fetch any still
		# missing one by one.
		wanted, found = {xero_id.lower() for xero_id in ids}, {}
		for records, _pagination in self.client.pages(
			kind,
			page_size=self.page_size,
			if_modified_since=event_window(event_dates),
			order="UpdatedDateUTC ASC",
		):
			found.update(
				{r[xero_object.id_key].lower(): r for r in records if r[xero_object.id_key].lower() in wanted}
			)
			if not wanted - found.keys():
				break
		found.update(self.client.by_ids(kind, wanted - found.keys()))
		return found

	# ---- applying ---------------------------------------------------------------------------------

	def bring(self, kind: str, xero_ids) -> None:
		"""Those of these Xero records no document is linked to yet, fetched together and applied: what a
		page of records needs in ERPNext first (the invoices a payment pays, say)."""
		missing = links.unlinked(self.organisation, kind, list(dict.fromkeys(xero_ids)))
		if missing:
			for record in self.fetch(kind, missing).values():
				self.apply(kind, record)

	def linked_document(self, kind: str, xero_id: str | None) -> tuple[str, str]:
		"""(doctype, name) of the document a Xero record is, brought in first when it is not linked yet."""
		if not xero_id:
			raise NeedsAttention(_("It does not say which Xero document it settles."))
		found = self.links_of(kind, xero_id)
		if not found:
			record = self.fetch(kind, [xero_id]).get(xero_id.lower())
			if record:
				self.apply(kind, record)
			found = self.links_of(kind, xero_id)
		if not found:
			raise NeedsAttention(
				_(
					"It settles Xero {0} {1}, which is not in ERPNext: fix that document first (see its log)."
				).format(kind, xero_id)
			)
		return found[0].reference_doctype, found[0].reference_name

	def apply_all(self, kind: str, records: list[dict]) -> list[Outcome]:
		"""Apply a page of records, after bringing in, in bulk, what they need first (the contacts of
		invoices, the invoices of payments): a page costs a few calls instead of one per record."""
		if kind in self.BRINGS_FIRST:
			getattr(self, self.BRINGS_FIRST[kind])(records)
		return [self.apply(kind, record) for record in records]

	def apply(self, kind: str, record: dict) -> Outcome:
		"""Apply one record in its own transaction; a failure is logged and does not stop the rest."""
		xero_id = record.get(OBJECTS[kind].id_key)
		stamp = record.get("UpdatedDateUTC")
		handler = getattr(self, self.APPLIES[kind])
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
			outcome = Outcome(xero_id, stamp, Result.FAILED, str(e))
		self.counts[outcome.result] += 1
		return outcome

	def attention(self, kind: str, record: dict, message: str, erpnext: dict | None = None) -> Outcome:
		frappe.db.rollback()
		xero_id = record.get(OBJECTS[kind].id_key)
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
		return Outcome(xero_id, record.get("UpdatedDateUTC"), Result.FAILED, message)

	def done(self, result: str, kind: str, record: dict, doctype: str, name: str, message=None) -> Outcome:
		xero_id = record.get(OBJECTS[kind].id_key)
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

	# ---- links ------------------------------------------------------------------------------------

	def links_of(self, xero_object: str, xero_id: str, doctype: str | None = None) -> list[dict]:
		"""Document links of one Xero record (a contact can be a Customer and a Supplier)."""
		return links.links_of_record(self.organisation, xero_object, xero_id, doctype)

	def link(self, doctype: str, name: str, xero_object: str, record: dict, status=None) -> None:
		kind = xero_object.split(":", 1)[0]  # "Payment:Sales Invoice:SINV-1" is a Payment
		id_key = OBJECTS["Payment" if kind == links.REFUND else kind].id_key
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


def template_account(row) -> str | None:
	"""The first tax account of a taxes template or Item Tax Template named in a Tax Mapping row."""
	child, field = {
		"Sales Taxes and Charges Template": ("Sales Taxes and Charges", "account_head"),
		"Purchase Taxes and Charges Template": ("Purchase Taxes and Charges", "account_head"),
		"Item Tax Template": ("Item Tax Template Detail", "tax_type"),
	}[row.erpnext_tax_type]
	accounts = frappe.get_all(child, filters={"parent": row.erpnext_tax}, pluck=field, order_by="idx")
	return accounts[0] if accounts else None
