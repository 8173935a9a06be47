// Shared by every Xero screen in Desk (hooks.app_include_js): status colours, who may act, Retry.

frappe.provide("xero_integration");

xero_integration.LOG_COLOURS = {
	Queued: "blue",
	Success: "green",
	Failed: "red",
	"Needs Attention": "orange",
	Retrying: "yellow",
	Skipped: "gray",
};
xero_integration.RETRYABLE_LOG_STATUSES = ["Needs Attention", "Failed"];
xero_integration.MANAGER_ROLES = ["Xero Manager", "System Manager"];

xero_integration.is_manager = () =>
	xero_integration.MANAGER_ROLES.some((role) => frappe.user.has_role(role));

xero_integration.retry_logs = (names) =>
	frappe
		.xcall("xero_integration.api.retry_logs", { names }, "POST", { freeze: true })
		.then((result) => {
			frappe.show_alert({ message: result.message, indicator: result.retried ? "green" : "orange" });
			return result;
		});

// oauth_callback sends the browser back with a plain-language outcome in ?xero_message=.
xero_integration.show_xero_message = () => {
	const message = frappe.utils.get_query_params().xero_message;
	if (message) {
		frappe.msgprint({ title: __("Xero"), message: frappe.utils.escape_html(message) });
		window.history.replaceState(null, "", window.location.pathname);
	}
};
