"""Bulk pull / historical import: invoices with payments raised in (emulated) Xero, imported into
ERPNext by the app, against inserting the same documents with ERPNext's own API without the app.

	cd /root/frappe-bench/sites && ../env/bin/python <repo>/benchmarks/pull_throughput.py --site perf.localhost \
		--invoices 10000 --baseline-every 20

Prints list calls per object, documents per second, and per doctype the app's seconds per document
against ERPNext's own insert and submit of the same documents (the app's overhead: reading Xero,
mapping, links and logs). `--baseline-of <organisation>` reruns only that comparison for an earlier run.
"""

import math

from common import connect, machine, now, print_table, site_argument_parser

SEED_LIMITS = {"per_minute": 1_000_000, "per_day": 10_000_000, "concurrent": 50}


def main():
	parser = site_argument_parser(__doc__)
	parser.add_argument("--invoices", type=int, default=1000)
	parser.add_argument("--payments", type=int, default=None, help="default: half the invoices")
	parser.add_argument("--contacts", type=int, default=None, help="default: a tenth of the invoices")
	parser.add_argument(
		"--skip-baseline", action="store_true", help="no plain ERPNext insert and submit to compare with"
	)
	parser.add_argument(
		"--baseline-every", type=int, default=1, help="insert every n-th invoice and payment in the baseline"
	)
	parser.add_argument(
		"--baseline-of",
		metavar="TENANT_ID",
		help="only the baseline, against the documents an earlier run imported from this organisation",
	)
	args = parser.parse_args()
	if args.baseline_of:
		compare_with_plain_insert(connect(args.site), args.baseline_of, args.baseline_every)
		return
	payments = args.invoices // 2 if args.payments is None else args.payments
	contacts = max(args.invoices // 10, 1) if args.contacts is None else args.contacts
	frappe = connect(args.site)
	from xero_integration.emulator import Limits
	from xero_integration.sync import history
	from xero_integration.testing import ABBR, EmulatedXero, ensure_company

	ensure_company()
	# Seeding goes through the API too; generous limits keep it quick, the import is counted apart.
	xero = EmulatedXero(time_scale=60, limits=Limits(**SEED_LIMITS)).start()
	tenant = xero.tenants[0]
	xero.connect()
	xero.link_company(
		tenant,
		account_mappings=[
			{"account": f"Sales - {ABBR}", "xero_account_code": "200"},
			{"account": f"Cash - {ABBR}", "xero_account_code": "090"},
		],
		tax_mappings=[
			{"erpnext_tax_type": "Account", "erpnext_tax": f"Sales Tax - {ABBR}", "xero_tax_type": "OUTPUT2"}
		],
	)
	run = frappe.generate_hash(length=5)
	seeded = seed(xero, tenant, run, contacts, args.invoices, payments)
	frappe.db.commit()
	before = {path: xero.emulator.call_count("GET", path) for path in LISTS}
	started = now()
	history.import_history(tenant, "2000-01-01")
	frappe.db.commit()
	elapsed = now() - started
	calls = {path: xero.emulator.call_count("GET", path) - before[path] for path in LISTS}
	imported = {
		doctype: frappe.db.count(doctype, {"name": ("in", names)}) if names else 0
		for doctype, names in created_names(frappe, tenant).items()
	}
	xero.stop()
	print(f"Machine: {machine()}")
	rows = []
	for (path, label), count in zip(LISTS.items(), (contacts, args.invoices, 0, payments), strict=True):
		rows.append([label, count, calls[path], math.ceil(count / 1000) if count else 0])
	print_table(
		"Historical import: GET calls per object (pageSize 1000)",
		["object", "in Xero", "list/fetch calls", "ceil(n/1000)"],
		rows,
	)
	documents = sum(imported.values())
	print_table(
		"Documents created in ERPNext",
		["documents", "app import s", "docs/s"],
		[[documents, f"{elapsed:.1f}", f"{documents / elapsed:.1f}"]],
	)
	print(f"seeded in Xero: {seeded}; created: {imported}; organisation {tenant}")
	if not args.skip_baseline:
		compare_with_plain_insert(frappe, tenant, args.baseline_every)


LISTS = {
	"/api.xro/2.0/Contacts": "Contacts",
	"/api.xro/2.0/Invoices": "Invoices",
	"/api.xro/2.0/CreditNotes": "Credit notes",
	"/api.xro/2.0/Payments": "Payments",
}


def seed(xero, tenant, run, contacts, invoices, payments) -> dict:
	"""What a bookkeeper's years in Xero look like, written through the Accounting API."""
	made = [
		element
		for start in range(0, contacts, 50)
		for element in xero.create_many(
			tenant, "Contacts", [{"Name": f"Pull {run} {n}"} for n in range(start, min(start + 50, contacts))]
		)
	]
	invoice_ids = []
	for start in range(0, invoices, 50):
		batch = [
			{
				"Type": "ACCREC",
				"Contact": {"ContactID": made[n % len(made)]["ContactID"]},
				"InvoiceNumber": f"XP-{run}-{n:05d}",
				"Date": "2026-10-01",
				"DueDate": "2026-10-31",
				"Status": "AUTHORISED",
				"LineAmountTypes": "Exclusive",
				"LineItems": [
					{
						"Description": "Service",
						"Quantity": 1 + n % 3,
						"UnitAmount": 10 + n % 90,
						"AccountCode": "200",
						"TaxType": "OUTPUT2",
					},
					{
						"Description": "Parts",
						"Quantity": 2,
						"UnitAmount": 4.99,
						"AccountCode": "200",
						"TaxType": "OUTPUT2",
					},
				],
			}
			for n in range(start, min(start + 50, invoices))
		]
		invoice_ids += [i["InvoiceID"] for i in xero.create_many(tenant, "Invoices", batch)]
	for start in range(0, payments, 50):
		xero.create_many(
			tenant,
			"Payments",
			[
				{
					"Invoice": {"InvoiceID": invoice_ids[n]},
					"Account": {"Code": "090"},
					"Date": "2026-10-15",
					"Amount": 5,
				}
				for n in range(start, min(start + 50, payments))
			],
		)
	return {"contacts": len(made), "invoices": len(invoice_ids), "payments": payments}


def created_names(frappe, tenant) -> dict[str, list[str]]:
	links = frappe.get_all(
		"Xero Document Link", filters={"organisation": tenant}, fields=["reference_doctype", "reference_name"]
	)
	names: dict[str, list[str]] = {"Customer": [], "Sales Invoice": [], "Payment Entry": []}
	for link in links:
		if link.reference_doctype in names:
			names[link.reference_doctype].append(link.reference_name)
	return names


def compare_with_plain_insert(frappe, tenant, every: int) -> None:
	"""Seconds per document, the app's import against ERPNext's own insert and submit, per doctype.

	ERPNext slows down as its tables grow (on 2 cores: 153 invoices a minute at first, 82 at 10,000),
	so both are measured at the size the import ended at: the app over its last thousand documents of
	each doctype, the plain insert right after it."""
	names = created_names(frappe, tenant)
	plain = plain_erpnext_insert(frappe, names, every)
	rows = []
	for doctype in ("Sales Invoice", "Payment Entry"):
		count, app_seconds = latest_pace(frappe, doctype, names[doctype])
		plain_count, plain_seconds = plain[doctype]
		app_each, plain_each = app_seconds / max(count - 1, 1), plain_seconds / max(plain_count, 1)
		rows.append(
			[
				doctype,
				count,
				f"{app_each:.3f}",
				plain_count,
				f"{plain_each:.3f}",
				f"{app_each / plain_each:.2f}" if plain_count else "-",
			]
		)
	print_table(
		"App import against plain ERPNext insert and submit, at the imported size",
		["doctype", "app: last documents", "app s/doc", "plain: documents", "plain s/doc", "app / plain"],
		rows,
	)


def latest_pace(frappe, doctype: str, names: list[str], last: int = 1000) -> tuple[int, float]:
	"""How many of the import's latest documents of `doctype` (at most `last`) and the seconds they
	took, first creation to last."""
	stamps = frappe.get_all(
		doctype,
		filters={"name": ("in", names or [""])},
		pluck="creation",
		order_by="creation desc",
		limit=last,
	)
	return len(stamps), (stamps[0] - stamps[-1]).total_seconds() if len(stamps) > 1 else 0.0


def plain_erpnext_insert(frappe, names: dict[str, list[str]], every: int = 1) -> dict[str, tuple]:
	"""Every n-th imported invoice and payment inserted and submitted again with ERPNext's API, the app
	switched off, then rolled back: (documents, seconds) per doctype."""
	frappe.db.set_single_value("Xero Settings", "enabled", 0)
	frappe.db.commit()
	timings = {}
	started = now()
	invoices = names["Sales Invoice"][::every]
	for name in invoices:
		copy = frappe.copy_doc(frappe.get_doc("Sales Invoice", name))
		copy.insert(ignore_permissions=True)
		copy.submit()
	timings["Sales Invoice"] = (len(invoices), now() - started)
	started = now()
	payments = names["Payment Entry"][::every]
	for name in payments:
		source = frappe.get_doc("Payment Entry", name)
		copy = frappe.copy_doc(source)
		copy.references[0].reference_name = source.references[0].reference_name
		# Balances are what validate computes for any new entry; copied, they would be skipped.
		copy.update({"party_balance": 0, "paid_from_account_balance": 0, "paid_to_account_balance": 0})
		copy.insert(ignore_permissions=True)
		copy.submit()
	timings["Payment Entry"] = (len(payments), now() - started)
	frappe.db.rollback()
	return timings


if __name__ == "__main__":
	main()
