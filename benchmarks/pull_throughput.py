"""Bulk pull / historical import: invoices with payments raised in (emulated) Xero, imported into
ERPNext by the app, against inserting the same documents with ERPNext's own API without the app.

	cd /root/frappe-bench/sites && ../env/bin/python <repo>/benchmarks/pull_throughput.py --invoices 10000 \
		--baseline-every 5

Prints list calls and fetch calls per object, documents per second, and the app's time over the plain
ERPNext insert of the same documents (the app's overhead: reading Xero, mapping, links and logs).
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
		"--skip-baseline", action="store_true", help="no plain ERPNext insert (halves a large run's time)"
	)
	parser.add_argument(
		"--baseline-every",
		type=int,
		default=1,
		help="insert every n-th invoice and payment in the baseline and scale its time up by what it left out",
	)
	args = parser.parse_args()
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
	baseline = None if args.skip_baseline else plain_erpnext_insert(frappe, tenant, args.baseline_every)
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
		[
			"documents",
			"app import s",
			"docs/s",
			"plain ERPNext insert s"
			+ (f" (1 in {args.baseline_every}, scaled)" if args.baseline_every > 1 else ""),
			"app / plain",
		],
		[
			[
				documents,
				f"{elapsed:.1f}",
				f"{documents / elapsed:.1f}",
				f"{baseline:.1f}" if baseline else "skipped",
				f"{elapsed / baseline:.2f}" if baseline else "-",
			]
		],
	)
	print(f"seeded in Xero: {seeded}; created: {imported}")


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


def plain_erpnext_insert(frappe, tenant, every: int = 1) -> float:
	"""The same invoices and payments inserted and submitted with ERPNext's API, the app switched off:
	all of them, or every n-th with the time scaled to all (a 10,000-invoice baseline takes an hour)."""
	frappe.db.set_single_value("Xero Settings", "enabled", 0)
	frappe.db.commit()
	names = created_names(frappe, tenant)
	invoices, payments = names["Sales Invoice"][::every], names["Payment Entry"][::every]
	started = now()
	for name in invoices:
		copy = frappe.copy_doc(frappe.get_doc("Sales Invoice", name))
		copy.insert(ignore_permissions=True)
		copy.submit()
	for name in payments:
		source = frappe.get_doc("Payment Entry", name)
		copy = frappe.copy_doc(source)
		copy.references[0].reference_name = source.references[0].reference_name
		copy.insert(ignore_permissions=True)
		copy.submit()
	elapsed = now() - started
	frappe.db.rollback()
	everything = len(names["Sales Invoice"]) + len(names["Payment Entry"])
	return elapsed * everything / max(len(invoices) + len(payments), 1)


if __name__ == "__main__":
	main()
