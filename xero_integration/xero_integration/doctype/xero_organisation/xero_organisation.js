// Company mapping, Test connection, Sync now, Import history (with live progress) and Disconnect.

const ORGANISATION_COLOURS = {
	Connected: "green",
	"Reconnect Needed": "orange",
	Disconnected: "gray",
};

frappe.ui.form.on("Xero Organisation", {
	onload() {
		xero_integration.show_xero_message();
	},

	setup(frm) {
		// Published by the historical import job (sync/history.py) after each page of each object.
		frappe.realtime.on("xero_import_progress", (progress) => {
			if (progress.organisation !== frm.doc.name) return;
			const total = Math.max(progress.total || 0, progress.done || 0, 1);
			frappe.show_progress(
				__("Importing from Xero"),
				Math.min(progress.done || 0, total),
				total,
				__("{0}: {1} imported so far", [__(progress.object), progress.done || 0]),
				true
			);
		});
	},

	refresh(frm) {
		if (frm.is_new()) return;
		frm.page.set_indicator(__(frm.doc.status), ORGANISATION_COLOURS[frm.doc.status] || "gray");
		if (!frm.doc.company) {
			frm.set_intro(
				__("Pick the ERPNext Company whose books this organisation keeps, then save."),
				"orange"
			);
		}
		const call = (method, args, message) =>
			xero_integration
				.call(method, { organisation: frm.doc.name, ...args }, { freeze: true })
				.then((result) => {
					frappe.show_alert({ message: result || message, indicator: "green" });
					frm.reload_doc();
				});

		frm.add_custom_button(__("Test Connection"), () =>
			call("test_connection", {}, __("Connected"))
		);
		frm.add_custom_button(
			__("Import Xero Lists"),
			() => call("import_xero_lists", {}, __("Reading Xero's lists.")),
			__("Mappings")
		);
		if ((frm.doc.xero_references || []).length) {
			frm.add_custom_button(
				__("Suggest Mappings"),
				() => call("suggest_mappings", {}, __("Suggestions added.")),
				__("Mappings")
			);
		}
		if (frm.doc.status === "Connected" && frm.doc.company) {
			frm.add_custom_button(__("Sync Now"), () =>
				call("pull_now", {}, __("Sync started: changes appear in the Xero Sync Log."))
			);
			frm.add_custom_button(__("Import History"), () =>
				frappe.prompt(
					{
						fieldtype: "Date",
						fieldname: "from_date",
						label: __("Import Xero documents dated from"),
						reqd: 1,
						default: frm.doc.history_from_date || frappe.datetime.year_start(),
					},
					({ from_date }) =>
						call(
							"import_history",
							{ from_date },
							__("Import started in the background.")
						),
					__("Import History from Xero"),
					__("Start Import")
				)
			);
		}
		if (frm.doc.status !== "Disconnected") {
			frm.add_custom_button(__("Disconnect"), () =>
				frappe.confirm(
					__("Disconnect {0}? Queued work waits until it is connected again.", [
						frm.doc.organisation_name,
					]),
					() => call("disconnect", {}, __("Disconnected"))
				)
			);
		}
		frm.add_custom_button(
			__("Sync Log"),
			() => frappe.set_route("List", "Xero Sync Log", { organisation: frm.doc.name }),
			__("View")
		);
		frm.add_custom_button(
			__("Reconciliation"),
			() =>
				frappe.set_route("query-report", "Xero Reconciliation", {
					organisation: frm.doc.name,
				}),
			__("View")
		);
	},
});
