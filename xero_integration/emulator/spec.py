"""Request validation against Xero's official OpenAPI documents (loaded once per process; ~1 s, ~1 MB).

Deliberate relaxations, each because Xero accepts what the spec text forbids:
- If-Modified-Since without a UTC offset ("2024-01-31T00:00:00", what xero-python sends for a naive datetime)
  or in HTTP-date form is accepted; Xero reads both as UTC.
- GET /Invoices/{InvoiceNumber} and /CreditNotes/{CreditNoteNumber}: the spec types the segment as a uuid,
  Xero's documentation allows the number there.
- A Custom Connection may omit xero-tenant-id (it has exactly one organisation).
- Read-only properties in a body are ignored, not refused: xero-python always sends HasErrors,
  HasAttachments and HasValidationErrors (model defaults), and Xero ignores read-only fields.
- POST /Payments/{PaymentID} (deletePayment): the schema is the bare {"Status": "DELETED"}, the spec's
  own example wraps it as {"Payments": [{"Status": "DELETED"}]}; both are accepted, the wrapped element
  is validated against the schema (a route's example_wrapper).
"""

import functools
import os
import re
import threading
import warnings
from datetime import timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from werkzeug.datastructures import Headers, ImmutableMultiDict

from .xerojson import dumps, loads

SPEC_HOST = "https://api.xero.com"
ZERO_UUID = "00000000-0000-0000-0000-000000000000"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_lock = threading.Lock()


def spec_dir() -> Path:
	"""The copy shipped in the package (openapi/, pinned in its README), or $XERO_OPENAPI_DIR."""
	override = os.environ.get("XERO_OPENAPI_DIR")
	if override:
		return Path(override)
	return Path(__file__).resolve().parent / "openapi"


@functools.cache
def _openapi(filename: str):
	from jsonschema_path import SchemaPath
	from openapi_core import Config, OpenAPI

	path = spec_dir() / filename
	if not path.exists():
		raise FileNotFoundError(
			f"Xero OpenAPI spec not found at {path} (XERO_OPENAPI_DIR overrides the path)"
		)
	# The spec itself has small schema errors; validating the spec document would refuse to load it.
	return OpenAPI(SchemaPath.from_file_path(str(path)), config=Config(spec_validator_cls=None))


def preload() -> None:
	with _lock:
		_openapi("xero_accounting.yaml")
		_openapi("xero-identity.yaml")


class _SpecRequest:
	"""The request as openapi-core sees it: on Xero's host, whatever host the emulator listens on."""

	def __init__(self, method, path, query, headers, body, content_type):
		from openapi_core.datatypes import RequestParameters

		self.method = method.lower()
		self.host_url = SPEC_HOST
		self.path = path
		self.parameters = RequestParameters(
			query=ImmutableMultiDict(query), header=Headers(headers), cookie=ImmutableMultiDict()
		)
		self.body = body
		self.content_type = content_type or "application/octet-stream"


def normalise_if_modified_since(value: str) -> str:
	"""RFC 3339 form of the header Xero accepts in several forms (see module doc)."""
	try:
		return parsedate_to_datetime(value).astimezone(timezone.utc).isoformat()
	except (TypeError, ValueError):
		pass
	if re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$", value.strip()):
		return value.strip() + "Z"
	return value


def validate(
	spec: str, method: str, path: str, query, headers: dict, body: bytes, content_type: str
) -> str | None:
	"""None when Xero's spec accepts the request, else why not. spec: 'accounting' or 'identity'."""
	from openapi_core.exceptions import OpenAPIError

	filename = "xero_accounting.yaml" if spec == "accounting" else "xero-identity.yaml"
	headers = dict(headers)
	for name in list(headers):
		if name.lower() == "if-modified-since":
			headers[name] = normalise_if_modified_since(headers[name])
	with _lock:
		api = _openapi(filename)
	try:
		with warnings.catch_warnings():
			# openapi-core does not implement the OAuth2 security scheme; the emulator checks tokens itself.
			warnings.simplefilter("ignore", UserWarning)
			api.validate_request(
				_SpecRequest(method, path, query, headers, body if body else None, content_type)
			)
	except OpenAPIError as error:
		schema_errors = _schema_errors(error)
		if schema_errors and all(e.message.startswith(READ_ONLY_WRITE) for e in schema_errors):
			return None
		return "; ".join(dict.fromkeys([str(error), *(e.message for e in schema_errors)]))
	return None


READ_ONLY_WRITE = "Tried to write read-only property"


def _schema_errors(error: Exception) -> list:
	cause = error.__cause__
	while cause is not None:
		if getattr(cause, "schema_errors", None):
			return list(cause.schema_errors)
		cause = cause.__cause__
	return []


def unwrapped(body: bytes, wrapper: str | None) -> bytes:
	"""The one element of a body {wrapper: [element]}; any other body as it is."""
	if not wrapper or not body:
		return body
	try:
		parsed = loads(body)
	except ValueError:
		return body
	if isinstance(parsed, dict) and list(parsed) == [wrapper] and isinstance(parsed[wrapper], list):
		if len(parsed[wrapper]) == 1:
			return dumps(parsed[wrapper][0])
	return body


def spec_path(template: str, values: dict[str, str], numbers_allowed: bool) -> str:
	"""The concrete path to validate: values put into Xero's template; a document number where the spec
	wants a uuid is validated as a uuid (see module doc)."""
	path = template
	for name, value in values.items():
		if numbers_allowed and not _UUID.match(value):
			value = ZERO_UUID
		path = path.replace("{" + name + "}", value)
	return path
