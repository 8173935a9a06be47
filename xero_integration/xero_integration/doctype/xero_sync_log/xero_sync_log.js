// One sync outcome: what happened, Retry when the cause is fixed, and Open in Xero.

frappe.ui.form.on("Xero Sync Log", {
	refresh(frm) {
		const colour = xero_integration.LOG_COLOURS[frm.doc.status] || "gray";
		frm.page.set_indicator(__(frm.doc.status), colour);
		const url = frm.doc.__onload && frm.doc.__onload.xero_url;
		if (url) {
			frm.add_custom_button(__("Open in Xero"), () =>
				window.open(url, "_blank", "noopener")
			);
		}
		if (frm.doc.reference_name) {
			frm.add_custom_button(__("Open {0}", [__(frm.doc.reference_doctype)]), () =>
				frappe.set_route("Form", frm.doc.reference_doctype, frm.doc.reference_name)
			);
		}
		if (
			xero_integration.is_manager() &&
			xero_integration.RETRYABLE_LOG_STATUSES.includes(frm.doc.status)
		) {
			frm.add_custom_button(__("Retry"), () =>
				xero_integration.retry_logs([frm.doc.name]).then(() => frm.reload_doc())
			);
			frm.change_custom_button_type(__("Retry"), null, "primary");
		}
		if (frm.doc.message && frm.doc.status !== "Success") {
			frm.set_intro(frappe.utils.escape_html(frm.doc.message), colour);
		}
	},
});
