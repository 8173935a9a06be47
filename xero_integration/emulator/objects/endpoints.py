"""What the families' endpoints share: routes, the call a handler is given, the list filters and paging,
and Xero's answers (envelopes, batches with a result per element, errors). Also what a family registers."""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..query import DEFAULT_PAGE_SIZE, QueryError, compile_where, order_by, paginate
from ..spec import normalise_if_modified_since
from ..webhooks import EventSource
from ..xerojson import ms_timestamp, parse_ms_timestamp
from .base import ElementResult, Organisation

NOT_FOUND = "The resource you're looking for cannot be found"

# Granular scopes (2026) and the broad scope they replaced.
LEGACY_SCOPES = {
	"accounting.invoices": "accounting.transactions",
	"accounting.payments": "accounting.transactions",
	"accounting.banktransactions": "accounting.transactions",
	"accounting.manualjournals": "accounting.transactions",
}


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
	def path_key(self) -> str:
		"""The id (or number, or code) in the path, e.g. /Invoices/{InvoiceID}."""
		return next(iter(self.params.values()))

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


Handler = Callable[[ApiCall], tuple[int, object]]


@dataclass(frozen=True)
class Route:
	method: str
	template: str  # as in Xero's spec, below /api.xro/2.0
	handler: Handler
	scope: str  # accounting.contacts / .invoices / .payments / .settings; GETs also accept <scope>.read
	numbers_allowed: bool = False  # the id segment may be a document number or code
	writes: bool = False
	# The body may also come as {<key>: [element]}, the form of the spec's own example; the spec's
	# schema names the bare element, so the element is what is validated.
	example_wrapper: str | None = None

	@property
	def pattern(self) -> re.Pattern:
		return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template) + "$", re.IGNORECASE)

	def allows(self, scopes: frozenset[str]) -> bool:
		accepted = {self.scope}
		legacy = LEGACY_SCOPES.get(self.scope)
		if legacy:
			accepted.add(legacy)
		if self.method == "GET":
			accepted |= {f"{scope}.read" for scope in accepted}
		return bool(accepted & scopes)


@dataclass(frozen=True)
class Family:
	"""One family of Xero objects, as the registry (objects/__init__.py) takes it."""

	collections: tuple[str, ...]  # the dicts it keeps on every Organisation, keyed by id
	routes: tuple[Route, ...]
	seed: Callable[[Organisation], None] | None = None  # its starting data in a new organisation
	announces: tuple[EventSource, ...] = ()  # the objects Xero sends webhook events for


# --- answers ---------------------------------------------------------------------------------------------


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


def batch_answer(call: ApiCall, key: str, results: list[ElementResult], error_flag: str, view=None):
	"""summarizeErrors=false: 200 with every element marked OK or ERROR. Otherwise any error makes the whole
	answer a 400 ValidationException listing the failed elements, though the others were saved."""
	view = view or (lambda element: element)

	def element_of(result: ElementResult, detailed: bool) -> dict:
		element = dict(result.element) if result.errors else view(result.element)
		element[error_flag] = bool(result.errors)
		if result.errors:
			element["ValidationErrors"] = [{"Message": m} for m in result.errors]
		if detailed:
			element["StatusAttributeString"] = "ERROR" if result.errors else "OK"
			element.setdefault("ValidationErrors", [])
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


# --- lists -----------------------------------------------------------------------------------------------


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


# --- handlers most objects have --------------------------------------------------------------------------

Finder = Callable[[Organisation, str], dict | None]  # the object an id (number, code) in a path names
View = Callable[[ApiCall, dict], dict]  # an object as this call is answered


def by_id(collection: str) -> Finder:
	"""Find an object by its id (any case) in one of the organisation's collections."""
	return lambda org, key: getattr(org, collection).get(key.lower())


def by_id_or(collection: str, find: Finder) -> Finder:
	"""Find an object by its id, or else with find (by number, by code)."""
	return lambda org, key: getattr(org, collection).get(key.lower()) or find(org, key)


def get_one(resource: str, find: Finder, view: View | None = None) -> Handler:
	"""GET /<resource>/{id}: the object, or 404."""

	def handler(call: ApiCall):
		found = find(call.org, call.path_key)
		if found is None:
			raise ApiError(404, NOT_FOUND)
		return 200, envelope(call, resource, [view(call, found) if view else found])

	return handler


def standard_routes(
	resource: str,
	id_key: str,
	scope: str,
	list_all: Handler,
	save: Callable[[ApiCall, list[dict], bool], list[ElementResult]],
	find: Finder,
	*,
	numbered_writes: bool = False,
	error_flag: str = "HasValidationErrors",
	view: View | None = None,
) -> tuple[Route, ...]:
	"""The endpoints of an object Xero creates with PUT and creates or updates with POST, in batches
	{resource: [...]}: GET /<resource> (list_all), PUT and POST /<resource>, GET /<resource>/{<id_key>}
	(find: by id, or by number or code) and POST /<resource>/{<id_key>} (by id only unless numbered_writes;
	every element is that object). save(call, elements, create_only) saves a batch."""

	def find_written(org: Organisation, path_key: str) -> dict | None:
		found = find(org, path_key)
		if found is None or not (numbered_writes or found[id_key] == path_key.lower()):
			return None
		return found

	def save_handler(create_only: bool) -> Handler:
		def handler(call: ApiCall):
			elements = call.elements(resource)
			if call.params:
				found = find_written(call.org, call.path_key)
				if found is None:
					raise ApiError(404, NOT_FOUND)
				elements = [{**element, id_key: found[id_key]} for element in elements]
			answer_view = (lambda element: view(call, element)) if view else None
			return batch_answer(call, resource, save(call, elements, create_only), error_flag, answer_view)

		return handler

	collection, one = f"/{resource}", f"/{resource}/{{{id_key}}}"
	return (
		Route("GET", collection, list_all, scope),
		Route("PUT", collection, save_handler(create_only=True), scope, writes=True),
		Route("POST", collection, save_handler(create_only=False), scope, writes=True),
		Route("GET", one, get_one(resource, find, view), scope, numbers_allowed=True),
		Route(
			"POST", one, save_handler(create_only=False), scope, numbers_allowed=numbered_writes, writes=True
		),
	)
