// Connect, reconnect and disconnect; the connection status; Xero's answer after the OAuth round trip.

const CONNECTION_COLOURS = {
	Connected: "green",
	"Reconnect Needed": "orange",
	"Not Connected": "gray",
	Disabled: "red",
};

frappe.ui.form.on("Xero Settings", {
	onload() {
		xero_integration.show_xero_message();
	},

	refresh(frm) {
		const status = frm.doc.enabled ? frm.doc.connection_status || "Not Connected" : "Disabled";
		frm.page.set_indicator(__(status), CONNECTION_COLOURS[status] || "gray");
		frm.set_intro(
			frm.doc.enabled
				? ""
				: __(
						"Sync is off. Enter your Xero app's Client ID and Secret, tick Enabled and save."
				  ),
			"blue"
		);

		const connected = frm.doc.connection_status === "Connected";
		if (frm.doc.connection_type === "Custom Connection") {
			frm.add_custom_button(
				connected ? __("Reconnect") : __("Connect Custom Connection"),
				() =>
					save_then(frm, () =>
						xero_integration
							.call("connect_custom_connection", {}, { freeze: true })
							.then((names) => {
								frappe.msgprint(__("Connected to Xero: {0}", [names.join(", ")]));
								frm.reload_doc();
							})
					)
			);
		} else {
			const label = connected ? __("Reconnect") : __("Connect to Xero");
			frm.add_custom_button(label, () => save_then(frm, () => start_oauth()));
			if (!connected) frm.change_custom_button_type(label, null, "primary");
		}
		if (connected) {
			frm.add_custom_button(__("Disconnect"), () => disconnect_organisations(frm));
			frm.add_custom_button(__("Organisations"), () =>
				frappe.set_route("List", "Xero Organisation")
			);
		}
	},
});

function save_then(frm, action) {
	return frm.is_dirty() ? frm.save().then(action) : action();
}

function start_oauth() {
	// Xero's consent screen is a full page: the browser comes back to oauth_callback afterwards.
	return xero_integration.call("start_oauth").then((url) => (window.location.href = url));
}

function disconnect_organisations(frm) {
	frappe.db
		.get_list("Xero Organisation", {
			filters: { status: ["!=", "Disconnected"] },
			fields: ["name", "organisation_name"],
		})
		.then((organisations) => {
			const dialog = new frappe.ui.Dialog({
				title: __("Disconnect from Xero"),
				fields: [
					{
						fieldtype: "HTML",
						options: `<p>${__(
							"Queued work for a disconnected organisation waits until you connect it again."
						)}</p>`,
					},
					...organisations.map((org) => ({
						fieldtype: "Check",
						fieldname: org.name,
						label: org.organisation_name,
						default: 1,
					})),
				],
				primary_action_label: __("Disconnect"),
				primary_action(values) {
					const chosen = organisations.filter((org) => values[org.name]);
					Promise.all(
						chosen.map((org) =>
							xero_integration.call("disconnect", { organisation: org.name })
						)
					).then(() => {
						dialog.hide();
						frappe.show_alert({ message: __("Disconnected"), indicator: "orange" });
						frm.reload_doc();
					});
				},
			});
			dialog.show();
		});
}
