frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Xero Sync Activity"] = {
	method: "xero_integration.xero_integration.dashboard_chart_source.xero_sync_activity.xero_sync_activity.get",
	filters: [
		{
			fieldname: "organisation",
			label: __("Organisation"),
			fieldtype: "Link",
			options: "Xero Organisation",
		},
	],
};
