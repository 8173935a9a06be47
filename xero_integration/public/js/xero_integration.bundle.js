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

// frappe.call with a promise of the method's return value (frappe.xcall can neither GET nor freeze).
xero_integration.call = (method, args = {}, options = {}) =>
	new Promise((resolve, reject) =>
		frappe.call({
			method: `xero_integration.api.${method}`,
			args,
			type: options.type || "POST",
			freeze: options.freeze,
			freeze_message: options.freeze_message,
			callback: (r) => resolve(r.message),
			error: reject,
		})
	);

xero_integration.retry_logs = (names) =>
	xero_integration.call("retry_logs", { names }, { freeze: true }).then((result) => {
		frappe.show_alert({
			message: result.message,
			indicator: result.retried ? "green" : "orange",
		});
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
