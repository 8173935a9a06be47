import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_url

from xero_integration.core.oauth import DEFAULT_SCOPES
from xero_integration.sync.connection import redirect_uri

REQUIRED_SCOPES = frozenset(DEFAULT_SCOPES.split())
TOKEN_FIELDS = ("access_token", "refresh_token")


class XeroSettings(Document):
	@property
	def redirect_uri(self) -> str:
		return redirect_uri()

	@property
	def webhook_url(self) -> str:
		return get_url("/api/method/xero_integration.api.webhook")

	def before_validate(self):
		# Tokens and their expiry are written only by sync/connection.py (under its lock); a form save
		# carries stale or empty copies that would wipe or roll back the connection.
		self.flags.ignore_save_passwords = TOKEN_FIELDS
		if not self.is_new():
			self.token_expires_at = frappe.db.get_single_value(self.doctype, "token_expires_at")

	def validate(self):
		self.client_id = (self.client_id or "").strip()
		self.scopes = " ".join((self.scopes or DEFAULT_SCOPES).split())
		missing = set(REQUIRED_SCOPES) - set(self.scopes.split())
		if self.connection_type == "Custom Connection":
			missing.discard("offline_access")
		if missing:
			frappe.throw(
				_("The sync needs these Xero scopes too: {0}").format(", ".join(sorted(missing))),
				title=_("Missing scopes"),
			)
		if self.enabled and not (
			self.client_id and self.get_password("client_secret", raise_exception=False)
		):
			frappe.throw(_("Enter the Client ID and Client Secret of your Xero app before enabling sync."))
		if (
			self.has_value_changed("client_id")
			and not self.is_new()
			and self.connection_status == "Connected"
		):
			# Tokens belong to the app that issued them: a new client id needs a new consent.
			self.connection_status = "Reconnect Needed"
