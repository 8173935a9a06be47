// Coloured statuses, a date filter next to the standard ones, and Retry on a selection.

frappe.listview_settings["Xero Sync Log"] = {
	add_fields: ["status", "reference_doctype"],

	get_indicator(doc) {
		const colour = xero_integration.LOG_COLOURS[doc.status] || "gray";
		return [__(doc.status), colour, `status,=,${doc.status}`];
	},

	onload(listview) {
		add_date_filter(listview);
		if (xero_integration.is_manager()) {
			listview.page.add_actions_menu_item(__("Retry"), () =>
				xero_integration
					.retry_logs(listview.get_checked_items(true))
					.then(() => listview.refresh())
			);
		}
	},
};

function add_date_filter(listview) {
	const field = listview.page.add_field(
		{
			fieldtype: "DateRange",
			fieldname: "creation",
			label: __("Date"),
			change() {
				const range = field.get_value();
				listview.filter_area.remove("creation");
				if (range && range[0] && range[1]) {
					listview.filter_area.add([[listview.doctype, "creation", "Between", range]]);
				}
			},
		},
		listview.filter_area.standard_filters_wrapper
	);
}
