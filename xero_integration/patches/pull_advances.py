import frappe


def execute():
	"""The pull now brings prepayments and overpayments. An organisation already pulled starts them where
	its payments stand (what Xero held before is Import History's, as for a newly linked one), and the
	refunds of advances it used to skip (noted "Not Applied") are held for a retry: the next pull fetches
	them by id, with the advances they refund."""
	for organisation in frappe.get_all(
		"Xero Organisation",
		filters={"payments_pulled_until": ("is", "set")},
		fields=["name", "payments_pulled_until"],
	):
		frappe.db.set_value(
			"Xero Organisation",
			organisation.name,
			{
				"overpayments_pulled_until": organisation.payments_pulled_until,
				"prepayments_pulled_until": organisation.payments_pulled_until,
			},
			update_modified=False,
		)
	frappe.db.set_value(
		"Xero Held Record", {"status": "Not Applied"}, {"status": "Retrying", "attempts": 0, "message": None}
	)
