"""Xero `where` filters with user text in them. Frappe-free.

Xero parses `where` as a Dynamic LINQ expression: a string literal is enclosed in double quotes and a
double quote inside it is written twice. A reference number such as `PO "17"` placed in a filter
unescaped ends the literal early and Xero refuses the whole request.
"""


def text_literal(value: str) -> str:
	"""`value` as a quoted string literal of a `where` filter."""
	return '"' + str(value).replace('"', '""') + '"'


def equals(field: str, value: str) -> str:
	"""`Field=="value"`, the value escaped."""
	return f"{field}=={text_literal(value)}"
