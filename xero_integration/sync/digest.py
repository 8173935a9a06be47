"""Failure digest: one email to the Xero Managers about sync rows that failed since the last digest,
and optionally one message to a Slack or Discord webhook. Never one mail per failure."""

import frappe
import requests
from frappe import _
from frappe.utils import get_url_to_form, get_url_to_list, now_datetime

from xero_integration.sync.permissions import XERO_MANAGER

SETTINGS = "Xero Settings"
FAILED_STATUSES = ("Needs Attention", "Failed")
# Rows listed in the mail; the rest are counted and one link opens them all.
LISTED_ROWS = 50
WEBHOOK_TIMEOUT_SECONDS = 10


def send_failure_digest() -> int:
	"""Scheduled: report failures logged since the previous digest. Returns how many were reported."""
	if not frappe.db.get_single_value(SETTINGS, "enabled"):
		return 0
	since = frappe.db.get_single_value(SETTINGS, "failure_digest_sent_until")
	until = now_datetime()
	filters = {"status": ("in", FAILED_STATUSES), "creation": ("<=", until)}
	if since:
		filters["creation"] = ("between", (since, until))
	failures = frappe.get_all(
		"Xero Sync Log",
		filters=filters,
		fields=["name", "creation", "status", "operation", "reference_doctype", "reference_name", "message"],
		order_by="creation desc",
	)
	# Advance the watermark first: a mail server outage must not resend the same digest every hour.
	frappe.db.set_single_value(SETTINGS, "failure_digest_sent_until", until)
	if not failures:
		return 0
	for recipients, visible in readers(failures):
		try:
			frappe.sendmail(
				recipients=recipients,
				subject=subject(len(visible)),
				message=email_body(visible),
				reference_doctype=SETTINGS,
				reference_name=SETTINGS,
			)
		except frappe.OutgoingEmailError:
			# No outgoing Email Account yet: the chat message below and the Error Log still tell someone.
			frappe.log_error(_("Xero failure digest: set up an outgoing Email Account to receive it"))
			break
	webhook_url = frappe.db.get_single_value(SETTINGS, "failure_webhook_url")
	if webhook_url:
		post_to_webhook(webhook_url, chat_text(failures))
	return len(failures)


def readers(failures: list[dict]) -> list[tuple[list[str], list[dict]]]:
	"""Each Xero Manager hears of the failures they may read (their Companies', sync/permissions.py):
	one mail per group of managers who read the same rows."""
	groups: dict[tuple, tuple[list[dict], list[str]]] = {}
	for user in xero_managers():
		visible = [
			row
			for row in failures
			if frappe.has_permission("Xero Sync Log", "read", str(row.name), user=user.name)
		]
		if visible:
			groups.setdefault(tuple(row.name for row in visible), (visible, []))[1].append(user.email)
	return [(emails, visible) for visible, emails in groups.values()]


def xero_managers() -> list[dict]:
	users = frappe.get_all(
		"Has Role", filters={"role": XERO_MANAGER, "parenttype": "User"}, pluck="parent", distinct=True
	)
	return frappe.get_all(
		"User",
		filters={"name": ("in", users or [""]), "enabled": 1, "user_type": "System User"},
		fields=["name", "email"],
	)


def subject(count: int) -> str:
	return _("Xero sync: {0} document(s) need attention").format(count)


def failures_url() -> str:
	return get_url_to_list("Xero Sync Log") + "?status=Needs%20Attention"


def email_body(failures: list[dict]) -> str:
	rows = "".join(
		"<tr><td>{when}</td><td>{status}</td><td>{document}</td><td>{message}</td></tr>".format(
			when=frappe.format(row.creation, {"fieldtype": "Datetime"}),
			status=_(row.status),
			document=_document_link(row),
			message=frappe.utils.escape_html(row.message or ""),
		)
		for row in failures[:LISTED_ROWS]
	)
	more = ""
	if len(failures) > LISTED_ROWS:
		more = "<p>{}</p>".format(_("…and {0} more.").format(len(failures) - LISTED_ROWS))
	return """<p>{intro}</p>
<table border="1" cellpadding="4" cellspacing="0">
<tr><th>{when}</th><th>{status}</th><th>{document}</th><th>{message}</th></tr>{rows}</table>
{more}<p><a href="{url}">{open}</a></p>""".format(
		intro=_("These Xero syncs failed since the last digest. Fix the cause, then press Retry on the log."),
		when=_("When"),
		status=_("Status"),
		document=_("Document"),
		message=_("What Xero or the sync said"),
		rows=rows,
		more=more,
		url=failures_url(),
		open=_("Open the Xero Sync Log"),
	)


def _document_link(row) -> str:
	if not row.reference_name:
		return frappe.utils.escape_html(row.operation or "")
	url = get_url_to_form(row.reference_doctype, row.reference_name)
	return f'<a href="{url}">{frappe.utils.escape_html(_(row.reference_doctype))} {frappe.utils.escape_html(row.reference_name)}</a>'


def chat_text(failures: list[dict]) -> str:
	lines = [subject(len(failures))]
	for row in failures[:10]:
		document = f"{row.reference_doctype} {row.reference_name}" if row.reference_name else row.operation
		# Discord takes 2,000 characters per message: keep each line short.
		lines.append(f"• {document}: {(row.message or _(row.status))[:150]}")
	if len(failures) > 10:
		lines.append(_("…and {0} more.").format(len(failures) - 10))
	lines.append(failures_url())
	return "\n".join(lines)


def post_to_webhook(url: str, text: str) -> None:
	"""Slack reads `text`, Discord reads `content`: one body serves both."""
	try:
		response = requests.post(url, json={"text": text, "content": text}, timeout=WEBHOOK_TIMEOUT_SECONDS)
		response.raise_for_status()
	except requests.RequestException:
		frappe.log_error(_("Xero failure digest: the chat webhook could not be reached"))
