app_name = "xero_integration"
app_title = "Xero Integration"
app_publisher = "xero_integration developers"
app_description = "Two-way sync between ERPNext and Xero"
app_email = "dev@example.com"
app_license = "mit"

# ERPNext is required, but not through `required_apps`: frappe 15's installer resolves those names
# against api.github.com, which breaks installs on offline benches. install.before_install checks.

from frappe import __version__ as _frappe_version

# Frappe 16 serves the desk under /desk, Frappe 15 under /app.
_DESK = "/desk" if int(_frappe_version.split(".", 1)[0]) >= 16 else "/app"

# The apps screen (Frappe 16: the Desktop) opens the Xero workspace; only for those who configure the sync.
add_to_apps_screen = [
	{
		"name": app_name,
		"logo": "/assets/xero_integration/images/xero-integration-logo.svg",
		"title": app_title,
		"route": f"{_DESK}/xero",
		"has_permission": "xero_integration.api.is_manager",
	}
]

before_install = "xero_integration.install.before_install"
after_install = "xero_integration.install.after_install"
after_migrate = "xero_integration.install.after_migrate"
before_uninstall = "xero_integration.install.before_uninstall"

# Handlers only write outbox rows in the user's transaction; workers talk to Xero after commit.
_SUBMITTABLE_EVENTS = {
	"on_submit": "xero_integration.sync.events.queue_document",
	"on_cancel": "xero_integration.sync.events.queue_cancellation",
}
doc_events = {
	"Item": {"on_update": "xero_integration.sync.events.queue_item"},
	"Customer": {"on_update": "xero_integration.sync.events.queue_party"},
	"Supplier": {"on_update": "xero_integration.sync.events.queue_party"},
	# They hold a party's email, phones and addresses.
	"Contact": {"on_update": "xero_integration.sync.events.queue_linked_parties"},
	"Address": {"on_update": "xero_integration.sync.events.queue_linked_parties"},
	"Sales Invoice": _SUBMITTABLE_EVENTS,
	"Purchase Invoice": _SUBMITTABLE_EVENTS,
	"Payment Entry": {
		**_SUBMITTABLE_EVENTS,
		# Payment Reconciliation and an invoice's advances table allocate an advance by saving it.
		"on_update_after_submit": "xero_integration.sync.events.queue_advance_change",
	},
	"Journal Entry": _SUBMITTABLE_EVENTS,
	"Unreconcile Payment": {"on_submit": "xero_integration.sync.events.queue_unreconciled"},
}

scheduler_events = {
	"cron": {
		# Safety net: rows whose after-commit job was lost (worker died, Redis flushed) are drained here.
		"* * * * *": ["xero_integration.sync.push.drain_all"],
		# Webhook events whose processing job was lost.
		"*/5 * * * *": ["xero_integration.sync.webhooks.process_all"],
		# Hourly failure digest to Xero Managers; off the hour so it does not join the hourly rush.
		"17 * * * *": ["xero_integration.sync.digest.send_failure_digest"],
	},
	# Pulls from Xero: each runs only when Xero Settings' Pull Frequency says so (Off: none does).
	"hourly": ["xero_integration.sync.pull.pull_hourly"],
	"daily": [
		"xero_integration.sync.pull.pull_daily",
		"xero_integration.sync.reference.refresh_all",
		# Settled outbox rows and webhook events older than Xero Settings says; failures stay.
		"xero_integration.sync.housekeeping.clear_settled_rows",
	],
	"weekly": ["xero_integration.sync.pull.pull_weekly"],
	"monthly": ["xero_integration.sync.pull.pull_monthly"],
}

# A User Permission on Company limits these rows to the organisations of the user's Companies.
_COMPANY_ROWS = ("Xero Sync Log", "Xero Outbox", "Xero Document Link", "Xero Webhook Event")
permission_query_conditions = {
	doctype: "xero_integration.sync.permissions.query_conditions" for doctype in _COMPANY_ROWS
}
has_permission = {doctype: "xero_integration.sync.permissions.has_permission" for doctype in _COMPANY_ROWS}

# Sync history and queued work never stop someone deleting a document (the drain settles its rows);
# a Xero Document Link does: the document is in Xero.
ignore_links_on_delete = ["Xero Sync Log", "Xero Outbox"]

# Xero Sync Log.clear_old_logs keeps failures: only settled rows older than this are removed (the outbox and
# webhook events are cleared the same way by sync/housekeeping.py, after Xero Settings' number of days).
default_log_clearing_doctypes = {"Xero Sync Log": 30}

# Status colours, role checks and Retry shared by every Xero screen.
app_include_js = "xero_integration.bundle.js"

# One shared form script: Xero status, Open in Xero, Sync to Xero, Preview and the sync history.
doctype_js = {
	doctype: "public/js/xero_document.js"
	for doctype in ("Customer", "Supplier", "Sales Invoice", "Purchase Invoice", "Payment Entry")
}
