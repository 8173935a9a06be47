// ERPNext against Xero per invoice or per party balance; differences in red; Re-sync selected rows.

frappe.query_reports["Xero Reconciliation"] = {
	filters: [
		{
			fieldname: "organisation",
			label: __("Xero Organisation"),
			fieldtype: "Link",
			options: "Xero Organisation",
			reqd: 1,
		},
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.get_today(), -1),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{
			fieldname: "view",
			label: __("Compare"),
			fieldtype: "Select",
			options: [
				{ value: "Invoices", label: __("Invoices") },
				{ value: "Balances", label: __("Customer and Supplier Balances") },
			],
			default: "Invoices",
		},
	],

	// Which columns each difference colours red.
	highlighted: {
		erpnext_status: "Status",
		xero_status: "Status",
		erpnext_total: "Total",
		xero_total: "Total",
		erpnext_outstanding: "Amount Due",
		xero_amount_due: "Amount Due",
		erpnext_balance: "Balance",
		xero_balance: "Balance",
		difference: "Balance",
		erpnext_unallocated: "Unallocated",
		xero_unallocated: "Unallocated",
	},

	formatter(value, row, column, data, default_formatter) {
		if (column.fieldname === "xero_url") {
			return data && data.xero_url
				? `<a href="${data.xero_url}" target="_blank" rel="noopener">${__("Open")}</a>`
				: "";
		}
		value = default_formatter(value, row, column, data);
		if (!data || !data.differences) return value;
		const report = frappe.query_reports["Xero Reconciliation"];
		const differences = data.differences.split(", ");
		const difference = report.highlighted[column.fieldname];
		const whole_row = !data.reference_name || differences.includes(__("Not in Xero"));
		if (
			column.fieldname === "differences" ||
			(difference && differences.includes(__(difference))) ||
			(whole_row && column.fieldname === "reference_name")
		) {
			return `<span class="xero-difference" style="color: var(--red-600); font-weight: 600">${value}</span>`;
		}
		return value;
	},

	get_datatable_options(options) {
		return Object.assign(options, { checkboxColumn: true });
	},

	onload(report) {
		if (!xero_integration.is_manager()) return;
		report.page.add_inner_button(__("Re-sync Selected"), () => {
			const rows = report.datatable.rowmanager
				.getCheckedRows()
				.map((index) => report.data[index])
				.filter((row) => row && row.reference_name);
			if (!rows.length) {
				frappe.msgprint(
					__(
						"Tick the ERPNext documents to send again. Rows only in Xero are fixed in Xero."
					)
				);
				return;
			}
			Promise.all(
				rows.map((row) =>
					xero_integration.call("sync_document", {
						doctype: row.reference_doctype,
						name: row.reference_name,
					})
				)
			).then(() =>
				frappe.show_alert({
					message: __(
						"{0} document(s) queued for Xero. Generate the report again to check.",
						[rows.length]
					),
					indicator: "green",
				})
			);
		});
	},
};
