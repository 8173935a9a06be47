// Xero on Customer, Supplier, Sales/Purchase Invoice and Payment Entry forms: status indicator,
// Open in Xero, Sync to Xero, Preview (dry run) and the document's latest sync history.
// hooks.doctype_js adds this one file to each of those forms' scripts, so it may be evaluated once
// per doctype: handlers are registered once per doctype, on first evaluation.

frappe.provide("xero_integration");

xero_integration.SYNCED_DOCTYPES = [
	"Customer",
	"Supplier",
	"Sales Invoice",
	"Purchase Invoice",
	"Payment Entry",
];
xero_integration.document_form = {
	refresh(frm) {
		if (frm.is_new()) return;
		const group = __("Xero");
		if (xero_integration.is_manager()) {
			if (frm.doc.docstatus === 1 || !frm.meta.is_submittable) {
				frm.add_custom_button(
					__("Sync to Xero"),
					() => xero_integration.sync_document(frm),
					group
				);
			}
			frm.add_custom_button(
				__("Preview Xero Payload"),
				() => xero_integration.preview(frm.doctype, frm.docname),
				group
			);
		}
		const name = frm.docname;
		xero_integration
			.call("document_status", { doctype: frm.doctype, name }, { type: "GET" })
			.then((status) => {
				// The form may have moved on to another document while the request was out.
				if (frm.docname === name) xero_integration.show_status(frm, status);
			});
	},
};

xero_integration.sync_document = (frm) =>
	xero_integration
		.call("sync_document", { doctype: frm.doctype, name: frm.docname }, { freeze: true })
		.then(() => {
			frappe.show_alert({
				message: __("Queued for Xero: it is sent within a minute."),
				indicator: "blue",
			});
			frm.reload_doc();
		});

xero_integration.show_status = (frm, status) => {
	const group = __("Xero");
	for (const record of status.records) {
		if (record.url) {
			const label =
				status.records.length > 1
					? __("Open {0} in Xero ({1})", [
							__(record.xero_object),
							record.organisation_name,
					  ])
					: __("Open in Xero");
			frm.add_custom_button(
				label,
				() => window.open(record.url, "_blank", "noopener"),
				group
			);
		}
	}
	frm.dashboard.set_headline_alert(xero_integration.headline(status));
	frm.dashboard.parent.find(".xero-sync-history").remove();
	frm.dashboard.add_section(
		xero_integration.history_html(status),
		__("Xero Sync History"),
		"custom xero-sync-history"
	);
	frm.dashboard.parent.find(".xero-all-logs").on("click", (event) => {
		event.preventDefault();
		frappe.set_route("List", "Xero Sync Log", {
			reference_doctype: frm.doctype,
			reference_name: frm.docname,
		});
	});
};

xero_integration.headline = (status) => {
	if (status.needs_attention.length) {
		const reason = frappe.utils.escape_html(status.needs_attention[0] || "");
		return `<span class="indicator orange">${__("Xero: needs attention")}</span> ${reason}`;
	}
	if (status.queued) {
		return `<span class="indicator blue">${__("Xero: queued")}</span>`;
	}
	const statuses = status.records.map((r) => r.xero_status).filter(Boolean);
	if (!statuses.length) return "";
	const voided = statuses.some((s) => ["VOIDED", "DELETED"].includes(s));
	const text = __("In Xero: {0}", [[...new Set(statuses)].map((s) => __(s)).join(", ")]);
	return `<span class="indicator ${voided ? "gray" : "green"}">${text}</span>`;
};

xero_integration.history_html = (status) => {
	if (!status.history.length) {
		return `<div class="text-muted small">${__("Not synced with Xero yet.")}</div>`;
	}
	const rows = status.history
		.map((log) => {
			const colour = xero_integration.LOG_COLOURS[log.status] || "gray";
			const when = frappe.utils.get_form_link(
				"Xero Sync Log",
				log.name,
				true,
				frappe.datetime.str_to_user(log.creation)
			);
			return `<tr>
				<td class="text-nowrap">${when}</td>
				<td class="text-nowrap"><span class="indicator-pill ${colour}">${__(log.status)}</span></td>
				<td>${frappe.utils.escape_html(log.operation || "")}</td>
				<td>${frappe.utils.escape_html(log.message || "")}</td>
			</tr>`;
		})
		.join("");
	return `<table class="table table-sm small xero-sync-history"><tbody>${rows}</tbody></table>
		<a class="small xero-all-logs" href="#">${__("All Xero sync logs of this document")}</a>`;
};

xero_integration.preview = (doctype, name) =>
	xero_integration
		.call("preview", { doctype, name }, { freeze: true, freeze_message: __("Reading Xero…") })
		.then((previews) => {
			const dialog = new frappe.ui.Dialog({
				title: __("Xero preview of {0}", [name]),
				size: "extra-large",
				fields: [{ fieldtype: "HTML", fieldname: "preview" }],
			});
			dialog.fields_dict.preview.$wrapper.html(
				previews.map(xero_integration.preview_html).join("")
			);
			dialog.show();
			return dialog;
		});

xero_integration.preview_html = (entry) => {
	const esc = (value) =>
		frappe.utils.escape_html(
			value === null || value === undefined
				? ""
				: typeof value === "string"
				? value
				: JSON.stringify(value)
		);
	const parts = [
		`<h5>${esc(entry.label)} · ${esc(entry.organisation_name)} · ${esc(entry.action)}</h5>`,
	];
	if (entry.url) {
		parts.push(
			`<p><a href="${entry.url}" target="_blank" rel="noopener">${__(
				"Open in Xero"
			)}</a></p>`
		);
	}
	for (const problem of entry.problems) {
		parts.push(`<div class="alert alert-danger">${esc(problem)}</div>`);
	}
	if (entry.error) parts.push(`<div class="alert alert-warning">${esc(entry.error)}</div>`);
	for (const note of entry.notes) parts.push(`<p class="text-muted">${esc(note)}</p>`);
	if (entry.differences) {
		if (!entry.differences.length) {
			parts.push(`<p class="text-success">${__("Xero already has exactly this.")}</p>`);
		} else {
			const rows = entry.differences
				.map(
					(d) =>
						`<tr><td><code>${esc(d.field)}</code></td><td>${esc(
							d.erpnext
						)}</td><td>${esc(d.xero)}</td></tr>`
				)
				.join("");
			parts.push(`<table class="table table-bordered table-sm xero-preview-differences">
				<thead><tr><th>${__("Field")}</th><th>${__("ERPNext would send")}</th><th>${__(
				"Xero has now"
			)}</th></tr></thead><tbody>${rows}</tbody></table>`);
		}
	}
	if (entry.payload) {
		parts.push(
			`<details ${entry.differences ? "" : "open"}><summary>${__(
				"Payload sent to Xero"
			)}</summary><pre class="xero-preview-payload">${esc(entry.payload)}</pre></details>`
		);
	}
	return `<div class="xero-preview">${parts.join("")}</div>`;
};

xero_integration.registered_forms = xero_integration.registered_forms || new Set();
for (const doctype of xero_integration.SYNCED_DOCTYPES) {
	if (!xero_integration.registered_forms.has(doctype)) {
		xero_integration.registered_forms.add(doctype);
		frappe.ui.form.on(doctype, xero_integration.document_form);
	}
}
