"""The list features of the Accounting API: `where`, `order` and paging, for the simple forms apps use."""

import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from .xerojson import parse_date, parse_ms_timestamp

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100

_COMPARISON = re.compile(r"^(?P<field>[A-Za-z][\w.]*)\s*(?P<op>==|!=|>=|<=|>|<)\s*(?P<value>.+)$", re.DOTALL)
# A string literal as Dynamic LINQ (Xero's `where`) reads it: double quotes, a quote inside written twice.
_STRING = r'"(?:[^"]|"")*"'
_METHOD_CALL = re.compile(
	rf"^(?P<field>[A-Za-z][\w.]*)\.(?P<method>Contains|StartsWith|EndsWith)\((?P<value>{_STRING})\)$",
	re.DOTALL,
)
_GUID = re.compile(r'^Guid\("(?P<value>[0-9a-fA-F-]{36})"\)$', re.IGNORECASE)
_DATETIME = re.compile(r"^DateTime\((?P<y>\d{4}),\s*(?P<m>\d{1,2}),\s*(?P<d>\d{1,2})\)$")
# Outside string literals: the joiners of clauses.
_TOKENS = re.compile(rf"(?P<string>{_STRING})|(?P<and>\s+AND\s+|&&)|(?P<or>\s+OR\s+|\|\|)", re.IGNORECASE)


class QueryError(ValueError):
	"""A `where` or `order` Xero would not understand (answered as a 400)."""


def compile_where(where: str):
	"""A predicate over Xero JSON objects for clauses joined by AND."""
	clauses = [_compile_clause(part) for part in _split_clauses(where) if part.strip()]
	return lambda obj: all(clause(obj) for clause in clauses)


def _split_clauses(where: str) -> list[str]:
	"""The clauses of `where` joined by AND / &&; joiners inside string literals are text."""
	parts, start = [], 0
	for token in _TOKENS.finditer(where):
		if token["or"]:
			raise QueryError(
				"OR is not supported by the emulator's where filter; use Statuses/IDs parameters"
			)
		if token["and"]:
			parts.append(where[start : token.start()])
			start = token.end()
	parts.append(where[start:])
	if where.count('"') % 2:
		raise QueryError(f"Unterminated string literal in the where clause: {where}")
	return parts


def _compile_clause(text: str):
	text = text.strip()
	while text.startswith("(") and text.endswith(")"):
		text = text[1:-1].strip()
	call = _METHOD_CALL.match(text)
	if call:
		needle = _string_value(call["value"]).lower()
		method = {"Contains": str.__contains__, "StartsWith": str.startswith, "EndsWith": str.endswith}[
			call["method"]
		]
		return lambda obj: method(str(_field(obj, call["field"]) or "").lower(), needle)
	comparison = _COMPARISON.match(text)
	if not comparison:
		raise QueryError(f"Unable to parse the where clause: {text}")
	literal = _literal(comparison["value"].strip())
	field, op = comparison["field"], comparison["op"]

	def clause(obj):
		left = _comparable(_field(obj, field), literal)
		if op == "==":
			return left == literal
		if op == "!=":
			return left != literal
		if left is None:
			return False
		try:
			return {">": left > literal, "<": left < literal, ">=": left >= literal, "<=": left <= literal}[
				op
			]
		except TypeError:
			return False

	return clause


def _string_value(literal: str) -> str:
	return literal[1:-1].replace('""', '"')


def _literal(text: str):
	if re.fullmatch(_STRING, text):
		return _string_value(text).lower()
	if text.startswith('"'):
		raise QueryError(f"Unable to parse the where value: {text}")
	if text in ("true", "false"):
		return text == "true"
	if text == "null":
		return None
	guid = _GUID.match(text)
	if guid:
		return guid["value"].lower()
	moment = _DATETIME.match(text)
	if moment:
		return date(int(moment["y"]), int(moment["m"]), int(moment["d"]))
	try:
		return Decimal(text)
	except InvalidOperation:
		raise QueryError(f"Unable to parse the where value: {text}")


def _comparable(value, literal):
	"""Bring a field value to the literal's type; string comparisons are case-insensitive, as in Xero."""
	if value is None:
		return None
	if isinstance(literal, date):
		try:
			return parse_date(value)
		except (TypeError, ValueError):
			return None
	if isinstance(literal, bool):
		return value if isinstance(value, bool) else None
	if isinstance(literal, Decimal):
		try:
			return Decimal(str(value))
		except InvalidOperation:
			return None
	return str(value).lower()


def _field(obj, dotted: str):
	for name in dotted.split("."):
		if not isinstance(obj, dict):
			return None
		obj = obj.get(name)
	return obj


def order_by(items: list, order: str) -> list:
	"""Sort by 'Field [ASC|DESC], ...'; a stable sort applied from the last key to the first."""
	keys = []
	for part in order.split(","):
		words = part.split()
		if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
			raise QueryError(f"Unable to parse the order clause: {order}")
		keys.append((words[0], len(words) == 2 and words[1].upper() == "DESC"))
	for field, descending in reversed(keys):
		items = sorted(items, key=lambda obj, field=field: _sort_key(_field(obj, field)), reverse=descending)
	return items


def _sort_key(value):
	if value is None:
		return (0, "")
	if isinstance(value, str) and value.startswith("/Date("):
		return (1, parse_ms_timestamp(value))
	if isinstance(value, int | Decimal):
		return (1, value)
	return (2, str(value).lower())


def paginate(items: list, page: int, page_size: int) -> tuple[list, dict]:
	page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
	page = max(page, 1)
	start = (page - 1) * page_size
	pagination = {
		"page": page,
		"pageSize": page_size,
		"pageCount": math.ceil(len(items) / page_size),
		"itemCount": len(items),
	}
	return items[start : start + page_size], pagination
