// Coloured statuses, a date filter next to the standard ones, and Retry on a selection.

frappe.listview_settings["Xero Sync Log"] = {
	add_fields: ["status", "reference_doctype"],

	get_indicator(doc) {
		const colour = xero_integration.LOG_COLOURS[doc.status] || "gray";
		return [__(doc.status), colour, `status,=,${doc.status}`];
	},

	onload(listview) {
		// Made as Frappe makes the standard filters: the list reads the value with its condition, and a
		// change only refreshes the list (no handler of its own re-setting filters, which can loop).
		listview.page.add_field(
			{
				fieldtype: "DateRange",
				fieldname: "creation",
				label: __("Date"),
				condition: "Between",
				onchange: () => listview.filter_area.debounced_refresh_list_view(),
			},
			listview.filter_area.standard_filters_wrapper
		);
		if (xero_integration.is_manager()) {
			listview.page.add_actions_menu_item(__("Retry"), () =>
				xero_integration
					.retry_logs(listview.get_checked_items(true))
					.then(() => listview.refresh())
			);
		}
	},
};
