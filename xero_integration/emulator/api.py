"""The Accounting API endpoints: routing, list filters, batch answers, in Xero's shapes."""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .accounting import CREDIT_NOTE, INVOICE, DocumentKind, ElementResult, Organisation
from .query import DEFAULT_PAGE_SIZE, QueryError, compile_where, order_by, paginate
from .spec import normalise_if_modified_since
from .xerojson import ms_timestamp, parse_ms_timestamp

NOT_FOUND = "The resource you're looking for cannot be found"


class ApiError(Exception):
	"""Answer the request with this status and body instead of the handler's result."""

	def __init__(self, status: int, body):
		super().__init__(status)
		self.status = status
		self.body = body


def bad_request(message: str, number: int = 16, kind: str = "QueryParseException") -> ApiError:
	return ApiError(400, {"ErrorNumber": number, "Type": kind, "Message": message})


@dataclass
class ApiCall:
	org: Organisation
	params: dict[str, str]
	args: dict[str, str]
	headers: dict[str, str]
	body: object
	provider: str
	now: datetime

	@property
	def unitdp(self) -> int:
		return 4 if self.args.get("unitdp") == "4" else 2

	@property
	def summarize(self) -> bool:
		return self.args.get("summarizeErrors", "true").lower() != "false"

	def elements(self, key: str, *, bare_allowed: bool = False) -> list[dict]:
		"""The body's {key: [...]} array; with bare_allowed, a body that is one element on its own."""
		if bare_allowed and isinstance(self.body, dict) and key not in self.body:
			return [self.body]
		if not isinstance(self.body, dict) or not isinstance(self.body.get(key), list):
			raise bad_request(f"The request body must contain a {key} array", 14, "PostDataInvalidException")
		return self.body[key]


@dataclass(frozen=True)
class Route:
	method: str
	template: str  # as in Xero's spec, below /api.xro/2.0
	handler: Callable[[ApiCall], tuple[int, object]]
	scope: str  # accounting.contacts / .invoices / .payments / .settings; GETs also accept <scope>.read
	numbers_allowed: bool = False  # the id segment may be a document number or code
	writes: bool = False
	# The body may also come as {<key>: [element]}, the form of the spec's own example; the spec's
	# schema names the bare element, so the element is what is validated.
	example_wrapper: str | None = None

	@property
	def pattern(self) -> re.Pattern:
		return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template) + "$", re.IGNORECASE)


def envelope(call: ApiCall, key: str, items: list, pagination: dict | None = None) -> dict:
	body = {
		"Id": str(uuid.uuid4()),
		"Status": "OK",
		"ProviderName": call.provider,
		"DateTimeUTC": ms_timestamp(call.now).replace("+0000", ""),
	}
	if pagination is not None:
		body["pagination"] = pagination
	body[key] = items
	return body


def _csv(value: str | None) -> set[str] | None:
	if not value:
		return None
	return {part.strip().strip('"').lower() for part in value.split(",") if part.strip()}


def _if_modified_since(headers: dict) -> float | None:
	value = next((v for k, v in headers.items() if k.lower() == "if-modified-since"), None)
	if not value:
		return None
	try:
		return datetime.fromisoformat(normalise_if_modified_since(value)).timestamp()
	except ValueError:
		raise bad_request(f"If-Modified-Since is not a valid date: {value}")


def select(call: ApiCall, objects, *, id_key: str, archived=None, number_key=None, status_key="Status"):
	"""The common list filters: IDs, Statuses, ContactIDs, InvoiceNumbers, includeArchived, If-Modified-Since,
	where, order. Returns the matching objects in order."""
	items = list(objects)
	filters = [
		(_csv(call.args.get("IDs")), lambda o: o.get(id_key, "").lower()),
		(_csv(call.args.get("Statuses")), lambda o: str(o.get(status_key, "")).lower()),
		(_csv(call.args.get("ContactIDs")), lambda o: o.get("Contact", {}).get("ContactID", "").lower()),
	]
	if number_key:
		filters.append((_csv(call.args.get("InvoiceNumbers")), lambda o: str(o.get(number_key, "")).lower()))
	for wanted, value_of in filters:
		if wanted is not None:
			items = [o for o in items if value_of(o) in wanted]
	if archived and call.args.get("includeArchived", "false").lower() != "true":
		items = [o for o in items if not archived(o)]
	since = _if_modified_since(call.headers)
	if since is not None:
		# Xero compares at second precision.
		items = [o for o in items if int(parse_ms_timestamp(o["UpdatedDateUTC"])) >= int(since)]
	try:
		if call.args.get("where"):
			items = list(filter(compile_where(call.args["where"]), items))
		if call.args.get("order"):
			items = order_by(items, call.args["order"])
	except QueryError as error:
		raise bad_request(str(error))
	return items


def page_of(call: ApiCall, items: list) -> tuple[list, dict | None]:
	"""Paging applies when the request names a page (or a pageSize); otherwise Xero returns everything."""
	if "page" not in call.args and "pageSize" not in call.args:
		return items, None
	try:
		page = int(call.args.get("page", 1))
		page_size = int(call.args.get("pageSize", DEFAULT_PAGE_SIZE))
	except ValueError:
		raise bad_request("page and pageSize must be whole numbers")
	return paginate(items, page, page_size)


def batch_answer(call: ApiCall, key: str, results: list[ElementResult], error_flag: str, view=None):
	"""summarizeErrors=false: 200 with every element marked OK/WARNING/ERROR. Otherwise any error makes the
	whole answer a 400 ValidationException listing the failed elements, though the others were saved."""
	view = view or (lambda element: element)

	def element_of(result: ElementResult, detailed: bool) -> dict:
		element = dict(result.element) if result.errors else view(result.element)
		element[error_flag] = bool(result.errors)
		if result.errors:
			element["ValidationErrors"] = [{"Message": m} for m in result.errors]
		if detailed:
			element["StatusAttributeString"] = (
				"ERROR" if result.errors else "WARNING" if result.warnings else "OK"
			)
			element.setdefault("ValidationErrors", [])
			if result.warnings:
				element["Warnings"] = [{"Message": m} for m in result.warnings]
		return element

	if call.summarize and any(r.errors for r in results):
		raise ApiError(
			400,
			{
				"ErrorNumber": 10,
				"Type": "ValidationException",
				"Message": "A validation exception occurred",
				"Elements": [element_of(r, detailed=False) for r in results if r.errors],
			},
		)
	return 200, envelope(call, key, [element_of(r, detailed=not call.summarize) for r in results])


# --- Organisation and settings ---------------------------------------------------------------------------


def get_organisation(call: ApiCall):
	return 200, envelope(call, "Organisations", [call.org.organisation])


def _settings_list(key: str, collection: str, id_key: str, archived=None):
	def handler(call: ApiCall):
		items = select(call, getattr(call.org, collection).values(), id_key=id_key, archived=archived)
		return 200, envelope(call, key, items)

	return handler


def _settings_one(key: str, collection: str):
	def handler(call: ApiCall):
		found = getattr(call.org, collection).get(next(iter(call.params.values())).lower())
		if found is None:
			raise ApiError(404, NOT_FOUND)
		return 200, envelope(call, key, [found])

	return handler


# --- Contacts --------------------------------------------------------------------------------------------


def list_contacts(call: ApiCall):
	items = select(
		call,
		call.org.contacts.values(),
		id_key="ContactID",
		archived=lambda c: c["ContactStatus"] == "ARCHIVED",
	)
	term = call.args.get("searchTerm", "").lower()
	if term:
		fields = ("Name", "FirstName", "LastName", "ContactNumber", "CompanyNumber", "EmailAddress")
		items = [c for c in items if any(term in str(c.get(f) or "").lower() for f in fields)]
	items, pagination = page_of(call, items)
	return 200, envelope(call, "Contacts", items, pagination)


def get_contact(call: ApiCall):
	key = call.params["ContactID"]
	contact = call.org.contacts.get(key.lower()) or next(
		(c for c in call.org.contacts.values() if c.get("ContactNumber") == key), None
	)
	if contact is None:
		raise ApiError(404, NOT_FOUND)
	return 200, envelope(call, "Contacts", [contact])


def save_contacts(create_only: bool):
	def handler(call: ApiCall):
		elements = call.elements("Contacts")
		if "ContactID" in call.params:
			if call.params["ContactID"].lower() not in call.org.contacts:
				raise ApiError(404, NOT_FOUND)
			elements = [{**e, "ContactID": call.params["ContactID"]} for e in elements]
		results = call.org.save_contacts(elements, create_only=create_only)
		return batch_answer(call, "Contacts", results, "HasValidationErrors")

	return handler


# --- Invoices and credit notes ---------------------------------------------------------------------------


def _documents(kind: DocumentKind):
	def list_documents(call: ApiCall):
		items = select(
			call, getattr(call.org, kind.collection).values(), id_key=kind.id_key, number_key=kind.number_key
		)
		items, pagination = page_of(call, items)
		views = [call.org.view_document(d, call.unitdp) for d in items]
		if pagination is None:
			# Unpaged lists come without line items, as in Xero: page to get them.
			for view in views:
				view.pop("LineItems", None)
		return 200, envelope(call, kind.resource, views, pagination)

	def get_document(call: ApiCall):
		document = call.org.find_document(kind, next(iter(call.params.values())))
		if document is None:
			raise ApiError(404, NOT_FOUND)
		return 200, envelope(call, kind.resource, [call.org.view_document(document, call.unitdp)])

	def save(create_only: bool):
		def handler(call: ApiCall):
			elements = call.elements(kind.resource)
			if call.params:
				document = call.org.find_document(kind, next(iter(call.params.values())))
				if document is None:
					raise ApiError(404, NOT_FOUND)
				elements = [{**e, kind.id_key: document[kind.id_key]} for e in elements]
			save_batch = call.org.save_invoices if kind is INVOICE else call.org.save_credit_notes
			results = save_batch(elements, create_only=create_only, unitdp=call.unitdp)
			return batch_answer(
				call, kind.resource, results, "HasErrors", lambda d: call.org.view_document(d, call.unitdp)
			)

		return handler

	return list_documents, get_document, save(create_only=True), save(create_only=False)


list_invoices, get_invoice, put_invoices, post_invoices = _documents(INVOICE)
list_credit_notes, get_credit_note, put_credit_notes, post_credit_notes = _documents(CREDIT_NOTE)


def allocate_credit_note(call: ApiCall):
	credit_note_id = call.params["CreditNoteID"].lower()
	if credit_note_id not in call.org.credit_notes:
		raise ApiError(404, NOT_FOUND)
	results = call.org.allocate_credit_note(credit_note_id, call.elements("Allocations"))
	return batch_answer(call, "Allocations", results, "HasValidationErrors")


# --- Payments --------------------------------------------------------------------------------------------


def list_payments(call: ApiCall):
	items = select(call, call.org.payments.values(), id_key="PaymentID")
	items, pagination = page_of(call, items)
	return 200, envelope(call, "Payments", items, pagination)


def get_payment(call: ApiCall):
	payment = call.org.payments.get(call.params["PaymentID"].lower())
	if payment is None:
		raise ApiError(404, NOT_FOUND)
	return 200, envelope(call, "Payments", [payment])


def save_payments(call: ApiCall):
	elements = call.elements("Payments", bare_allowed=True)  # one payment, or a batch
	return batch_answer(call, "Payments", call.org.save_payments(elements), "HasValidationErrors")


def delete_payment(call: ApiCall):
	"""{"Status": "DELETED"} (the spec's schema) or {"Payments": [{"Status": "DELETED"}]} (its example)."""
	payment_id = call.params["PaymentID"].lower()
	if payment_id not in call.org.payments:
		raise ApiError(404, NOT_FOUND)
	elements = call.elements("Payments", bare_allowed=True)
	if len(elements) != 1:
		raise bad_request("Delete one payment per request", 14, "PostDataInvalidException")
	result = call.org.delete_payment(payment_id, elements[0])
	return batch_answer(call, "Payments", [result], "HasValidationErrors")


# --- Items -----------------------------------------------------------------------------------------------


def list_items(call: ApiCall):
	return 200, envelope(call, "Items", select(call, call.org.items.values(), id_key="ItemID"))


def get_item(call: ApiCall):
	key = call.params["ItemID"]
	item = call.org.items.get(key.lower()) or next(
		(i for i in call.org.items.values() if i["Code"] == key), None
	)
	if item is None:
		raise ApiError(404, NOT_FOUND)
	return 200, envelope(call, "Items", [item])


def save_items(create_only: bool):
	def handler(call: ApiCall):
		elements = call.elements("Items")
		if call.params:
			if call.params["ItemID"].lower() not in call.org.items:
				raise ApiError(404, NOT_FOUND)
			elements = [{**e, "ItemID": call.params["ItemID"].lower()} for e in elements]
		results = call.org.save_items(elements, create_only=create_only)
		return batch_answer(call, "Items", results, "HasValidationErrors")

	return handler


def _archived_status(item: dict) -> bool:
	return item.get("Status") == "ARCHIVED"


ROUTES = (
	Route("GET", "/Organisation", get_organisation, "accounting.settings"),
	Route("GET", "/Accounts", _settings_list("Accounts", "accounts", "AccountID"), "accounting.settings"),
	Route("GET", "/Accounts/{AccountID}", _settings_one("Accounts", "accounts"), "accounting.settings"),
	Route("GET", "/TaxRates", _settings_list("TaxRates", "tax_rates", "TaxType"), "accounting.settings"),
	Route("GET", "/Currencies", _settings_list("Currencies", "currencies", "Code"), "accounting.settings"),
	Route(
		"GET",
		"/TrackingCategories",
		_settings_list("TrackingCategories", "tracking_categories", "TrackingCategoryID", _archived_status),
		"accounting.settings",
	),
	Route(
		"GET",
		"/TrackingCategories/{TrackingCategoryID}",
		_settings_one("TrackingCategories", "tracking_categories"),
		"accounting.settings",
	),
	Route("GET", "/Contacts", list_contacts, "accounting.contacts"),
	Route("PUT", "/Contacts", save_contacts(create_only=True), "accounting.contacts", writes=True),
	Route("POST", "/Contacts", save_contacts(create_only=False), "accounting.contacts", writes=True),
	Route("GET", "/Contacts/{ContactID}", get_contact, "accounting.contacts", numbers_allowed=True),
	Route(
		"POST", "/Contacts/{ContactID}", save_contacts(create_only=False), "accounting.contacts", writes=True
	),
	Route("GET", "/Invoices", list_invoices, "accounting.invoices"),
	Route("PUT", "/Invoices", put_invoices, "accounting.invoices", writes=True),
	Route("POST", "/Invoices", post_invoices, "accounting.invoices", writes=True),
	Route("GET", "/Invoices/{InvoiceID}", get_invoice, "accounting.invoices", numbers_allowed=True),
	Route(
		"POST",
		"/Invoices/{InvoiceID}",
		post_invoices,
		"accounting.invoices",
		numbers_allowed=True,
		writes=True,
	),
	Route("GET", "/CreditNotes", list_credit_notes, "accounting.invoices"),
	Route("PUT", "/CreditNotes", put_credit_notes, "accounting.invoices", writes=True),
	Route("POST", "/CreditNotes", post_credit_notes, "accounting.invoices", writes=True),
	Route("GET", "/CreditNotes/{CreditNoteID}", get_credit_note, "accounting.invoices", numbers_allowed=True),
	Route(
		"POST",
		"/CreditNotes/{CreditNoteID}",
		post_credit_notes,
		"accounting.invoices",
		numbers_allowed=True,
		writes=True,
	),
	Route(
		"PUT",
		"/CreditNotes/{CreditNoteID}/Allocations",
		allocate_credit_note,
		"accounting.invoices",
		writes=True,
	),
	Route("GET", "/Payments", list_payments, "accounting.payments"),
	Route("PUT", "/Payments", save_payments, "accounting.payments", writes=True),
	Route("POST", "/Payments", save_payments, "accounting.payments", writes=True),
	Route("GET", "/Payments/{PaymentID}", get_payment, "accounting.payments"),
	Route(
		"POST",
		"/Payments/{PaymentID}",
		delete_payment,
		"accounting.payments",
		writes=True,
		example_wrapper="Payments",
	),
	Route("GET", "/Items", list_items, "accounting.invoices"),
	Route("PUT", "/Items", save_items(create_only=True), "accounting.invoices", writes=True),
	Route("POST", "/Items", save_items(create_only=False), "accounting.invoices", writes=True),
	Route("GET", "/Items/{ItemID}", get_item, "accounting.invoices", numbers_allowed=True),
	Route("POST", "/Items/{ItemID}", save_items(create_only=False), "accounting.invoices", writes=True),
)
_COMPILED = tuple((route, route.pattern) for route in ROUTES)

# Granular scopes (2026) and the broad scope they replaced.
LEGACY_SCOPES = {
	"accounting.invoices": "accounting.transactions",
	"accounting.payments": "accounting.transactions",
}


def match(method: str, resource_path: str) -> tuple[Route, dict[str, str]] | None:
	"""The route for a path below /api.xro/2.0 (Xero's paths are case-insensitive); None if unknown.
	A known path with another method raises 405."""
	known_path = False
	for route, pattern in _COMPILED:
		found = pattern.match(resource_path)
		if found:
			known_path = True
			if route.method == method:
				return route, found.groupdict()
	if known_path:
		raise ApiError(405, {"Message": f"The requested resource does not support http method '{method}'."})
	return None


def scope_allows(route: Route, scopes: frozenset[str]) -> bool:
	accepted = {route.scope}
	legacy = LEGACY_SCOPES.get(route.scope)
	if legacy:
		accepted.add(legacy)
	if route.method == "GET":
		accepted |= {f"{scope}.read" for scope in accepted}
	return bool(accepted & scopes)
