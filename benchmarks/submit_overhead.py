"""Submit overhead: Sales Invoice submits with the app enabled vs disabled, in the real bench.

	cd /root/frappe-bench/sites && ../env/bin/python <repo>/benchmarks/submit_overhead.py --site perf.localhost \
		--submits 200

Each sample is one submit plus its commit (the after-commit enqueue of the drain job included), the
way a user's request ends. Enabled and disabled samples alternate so drift hits both alike. No worker
runs, so Xero is never called; the script also checks the emulator saw no call during the submits.
"""

from common import connect, machine, median, now, percentile, print_table, site_argument_parser


def main():
	parser = site_argument_parser(__doc__)
	parser.add_argument("--submits", type=int, default=200, help="per mode")
	args = parser.parse_args()
	frappe = connect(args.site)
	from xero_integration.testing import ABBR, EmulatedXero, ensure_company, make_customer, make_sales_invoice

	ensure_company()
	xero = EmulatedXero(time_scale=60).start()
	xero.connect()
	xero.link_company(
		xero.tenants[0],
		tax_mappings=[
			{"erpnext_tax_type": "Account", "erpnext_tax": f"Sales Tax - {ABBR}", "xero_tax_type": "OUTPUT2"}
		],
	)
	customer = make_customer("XB Submit Customer")
	make_sales_invoice(customer)  # warm caches on both paths before measuring
	frappe.db.commit()
	calls_before = len(xero.emulator.calls)
	samples = {True: [], False: []}
	for i in range(args.submits * 2):
		enabled = i % 2 == 0
		frappe.db.set_single_value("Xero Settings", "enabled", int(enabled))
		frappe.db.commit()
		frappe.clear_document_cache("Xero Settings", "Xero Settings")
		invoice = make_sales_invoice(customer, lines=((1 + i % 4, 25), (2, 9.99)), tax_rate=15, submit=False)
		frappe.db.commit()
		started = now()
		invoice.submit()
		frappe.db.commit()
		samples[enabled].append((now() - started) * 1000)
	calls_during = len(xero.emulator.calls) - calls_before
	queued = frappe.db.count("Xero Outbox", {"reference_doctype": "Sales Invoice"})
	xero.stop()
	rows = []
	for enabled in (False, True):
		values = samples[enabled]
		rows.append(
			[
				"enabled" if enabled else "disabled",
				len(values),
				f"{median(values):.1f}",
				f"{percentile(values, 0.95):.1f}",
			]
		)
	overhead = (median(samples[True]) / median(samples[False]) - 1) * 100
	print(f"Machine: {machine()}")
	print_table("Sales Invoice submit + commit, milliseconds", ["app", "submits", "median", "p95"], rows)
	print(
		f"median overhead: {overhead:+.1f} %; Xero calls during the submits: {calls_during}; "
		f"outbox rows written: {queued}"
	)


if __name__ == "__main__":
	main()
