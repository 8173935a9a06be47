"""Bulk push: customers, sales invoices and payments in (and suppliers, purchase invoices and payments
out) through the real outbox and bench workers to the emulated Xero at Xero's limits (in scaled time),
batched and one call per document.

	cd /root/frappe-bench/sites && ../env/bin/python <repo>/benchmarks/push_throughput.py --site perf.localhost \
		--customers 2000 --invoices 10000 --payments 5000 --time-scale 1 --baseline-time-scale 3600 \
		--suppliers 400 --purchase-invoices 2000 --purchase-payments 1000

Documents are created once (tagged, and reused by later runs). Each mode then pushes all of them to a
fresh emulated organisation. Per object it prints: documents, API calls, calls per document, the
batching floor ceil(n/50), the time that object's stage took, the rate-limit floor for its calls,
429s served, and the workers' peak memory.
"""

import math

from common import BENCH_TAG, connect, machine, now, print_table, run_workers, site_argument_parser

# Xero object, how it is sent, and the ERPNext doctypes that become it (batched together per stage).
OBJECTS = (
	("Contact", "POST", "/api.xro/2.0/Contacts", ("Customer", "Supplier")),
	("Invoice", "POST", "/api.xro/2.0/Invoices", ("Sales Invoice", "Purchase Invoice")),
	("Payment", "PUT", "/api.xro/2.0/Payments", ("Payment Entry",)),
)


def main():
	parser = site_argument_parser(__doc__)
	parser.add_argument("--customers", type=int, default=200)
	parser.add_argument("--invoices", type=int, default=1000)
	parser.add_argument("--payments", type=int, default=500)
	parser.add_argument("--suppliers", type=int, default=0)
	parser.add_argument("--purchase-invoices", type=int, default=0)
	parser.add_argument("--purchase-payments", type=int, default=0)
	parser.add_argument("--time-scale", type=float, default=60, help="Xero seconds per real second")
	parser.add_argument("--baseline-time-scale", type=float, default=3600)
	parser.add_argument("--workers", type=int, default=2)
	parser.add_argument("--skip-baseline", action="store_true")
	args = parser.parse_args()
	frappe = connect(args.site)
	documents = ensure_documents(frappe, args)
	print(f"Machine: {machine()}")
	modes = [("batched (50 per request)", 50, args.time_scale)]
	if not args.skip_baseline:
		modes.append(("one call per document", 1, args.baseline_time_scale))
	for title, batch_size, time_scale in modes:
		report(title, time_scale, push(frappe, args, documents, batch_size, time_scale))


def ensure_documents(frappe, args) -> dict[str, list[str]]:
	"""Create (or reuse) the benchmark's documents with the app disabled, so nothing is queued yet."""
	from xero_integration.testing import (
		ensure_company,
		make_customer,
		make_purchase_invoice,
		make_sales_invoice,
		make_supplier,
	)

	ensure_company()
	frappe.db.set_single_value("Xero Settings", "enabled", 0)
	frappe.db.commit()
	sides = (
		(
			"Customer",
			make_customer,
			"Sales Invoice",
			make_sales_invoice,
			args.customers,
			args.invoices,
			args.payments,
		),
		(
			"Supplier",
			make_supplier,
			"Purchase Invoice",
			make_purchase_invoice,
			args.suppliers,
			args.purchase_invoices,
			args.purchase_payments,
		),
	)
	started = now()
	documents: dict[str, list[str]] = {"Payment Entry": []}
	for party_doctype, make_party, invoice_doctype, make_invoice, parties, invoices, payments in sides:
		side = ensure_side(
			frappe,
			invoice_doctype,
			party_doctype,
			[make_party(f"XB {party_doctype} {i:05d}") for i in range(parties)],
			make_invoice,
			invoices,
			payments,
		)
		documents[party_doctype] = side["parties"]
		documents[invoice_doctype] = side["invoices"]
		documents["Payment Entry"] += side["payments"]
	print(f"Documents ready in {now() - started:.0f} s")
	return documents


def ensure_side(
	frappe, doctype, party_doctype, parties, make_invoice, invoice_count, payment_count
) -> dict[str, list]:
	"""One side's tagged invoices and the payments made against them, topped up to the counts asked."""
	from xero_integration.testing import make_payment

	frappe.db.commit()
	invoices = frappe.get_all(
		doctype, filters={"remarks": BENCH_TAG, "docstatus": 1}, pluck="name", order_by="creation"
	)
	for i in range(len(invoices), invoice_count):
		invoice = make_invoice(
			parties[i % len(parties)],
			lines=((1 + i % 3, 10 + i % 97), (2, 4.99)),
			tax_rate=15,
			remarks=BENCH_TAG,
		)
		invoices.append(invoice.name)
		if i % 100 == 0:
			frappe.db.commit()
	frappe.db.commit()
	invoices = invoices[:invoice_count]
	# Payments already made against these invoices (ERPNext rewrites a Payment Entry's remarks, so they
	# are found through their references).
	payments = sorted(
		set(
			frappe.get_all(
				"Payment Entry Reference",
				filters={"reference_name": ("in", invoices or [""]), "docstatus": 1},
				pluck="parent",
			)
		)
	)
	paid = set(
		frappe.get_all(
			"Payment Entry Reference", filters={"parent": ("in", payments or [""])}, pluck="reference_name"
		)
	)
	for name in invoices:
		if len(payments) >= payment_count:
			break
		if name in paid:
			continue
		payments.append(make_payment(frappe.get_doc(doctype, name), 5).name)
		if len(payments) % 100 == 0:
			frappe.db.commit()
	frappe.db.commit()
	# The parties the pushed invoices name (reused invoices may name parties of an earlier run).
	named = set(
		frappe.get_all(doctype, filters={"name": ("in", invoices or [""])}, pluck=party_doctype.lower())
	)
	return {"parties": sorted(named), "invoices": invoices, "payments": payments[:payment_count]}


def push(frappe, args, documents, batch_size: int, time_scale: float) -> dict:
	from frappe.installer import update_site_config

	from xero_integration.core.objects import STAGE_ORDER
	from xero_integration.sync import outbox
	from xero_integration.testing import EmulatedXero, tax_mappings

	xero = EmulatedXero(time_scale=time_scale).start()
	tenant = xero.tenants[0]
	xero.connect()
	xero.link_company(tenant, tax_mappings=tax_mappings())
	update_site_config("xero_batch_size", batch_size)
	# The same rows the doc_events would have written, without re-submitting the documents.
	for xero_object, _method, _path, doctypes in OBJECTS:
		operation = "create" if xero_object == "Payment" else "upsert"
		for reference_doctype, name in ((d, name) for d in doctypes for name in documents[d]):
			frappe.get_doc(
				{
					"doctype": "Xero Outbox",
					"organisation": tenant,
					"object_type": xero_object,
					"operation": operation,
					"stage": STAGE_ORDER[(xero_object, operation)],
					"reference_doctype": reference_doctype,
					"reference_name": name,
					"status": outbox.PENDING,
				}
			).insert(ignore_permissions=True)
	frappe.db.commit()
	started = now()
	peak_mib = 0.0
	while frappe.db.count("Xero Outbox", {"status": ("in", (outbox.PENDING, outbox.PROCESSING))}):
		frappe.db.sql("update `tabXero Outbox` set next_attempt_at=null where status='Pending'")
		outbox.schedule_drain(tenant)
		frappe.db.commit()
		peak_mib = max(peak_mib, run_workers(args.site, args.workers))
	elapsed = now() - started
	emulator = xero.emulator
	stage_seconds = stage_durations(frappe)
	result = {
		"objects": [],
		"peak_mib": peak_mib,
		"elapsed": elapsed,
		"throttled": sum(emulator.rate_limited_count.values()),
		"attention": frappe.db.count("Xero Outbox", {"status": outbox.NEEDS_ATTENTION}),
	}
	for xero_object, method, path, doctypes in OBJECTS:
		result["objects"].append(
			{
				"object": xero_object,
				"documents": sum(len(documents[doctype]) for doctype in doctypes),
				"calls": emulator.call_count(method, path),
				"seconds": stage_seconds.get(xero_object, 0.0),
			}
		)
	api_calls = emulator.call_count(path_prefix="/api.xro/")
	result["other_calls"] = api_calls - sum(o["calls"] for o in result["objects"])
	update_site_config("xero_batch_size", None, validate=False)
	xero.stop()
	return result


def stage_durations(frappe) -> dict[str, float]:
	"""Seconds per stage, first to last log row of each object: stages run one after another."""
	rows = frappe.db.sql(
		"""select xero_object, timestampdiff(microsecond, min(creation), max(creation)) / 1e6
		from `tabXero Sync Log` group by xero_object"""
	)
	return {object_name: float(seconds or 0) for object_name, seconds in rows}


def rate_limit_floor(calls: int, time_scale: float, per_minute: int = 60, per_day: int = 5000) -> float:
	"""Least real seconds `calls` can take at Xero's per-minute and per-day limits."""
	if calls <= 0:
		return 0.0
	xero_seconds = max(math.floor((calls - 1) / per_minute) * 60, math.floor((calls - 1) / per_day) * 86400)
	return xero_seconds / time_scale


def report(title: str, time_scale: float, result: dict) -> None:
	rows = []
	for item in result["objects"]:
		floor = math.ceil(item["documents"] / 50)
		rows.append(
			[
				item["object"],
				item["documents"],
				item["calls"],
				f"{item['calls'] / max(item['documents'], 1):.3f}",
				floor,
				f"{item['calls'] / floor:.2f}",
				f"{item['seconds']:.1f}",
				f"{rate_limit_floor(item['calls'], time_scale):.1f}",
			]
		)
	total_calls = sum(o["calls"] for o in result["objects"]) + result["other_calls"]
	total_floor = rate_limit_floor(total_calls, time_scale)
	print_table(
		f"{title}, time scale {time_scale:g} (Xero seconds per real second)",
		[
			"object",
			"documents",
			"API calls",
			"calls/doc",
			"batching floor",
			"calls/floor",
			"time s",
			"rate-limit floor s",
		],
		rows,
	)
	ratio = f"ratio {result['elapsed'] / total_floor:.2f}" if total_floor else "no wait needed"
	print(
		f"all objects: {total_calls} calls ({result['other_calls']} lookups), {result['elapsed']:.1f} s "
		f"against a rate-limit floor of {total_floor:.1f} s ({ratio}), {result['throttled']} 429s, "
		f"{result['attention']} rows needing attention, peak worker memory {result['peak_mib']:.0f} MiB"
	)


if __name__ == "__main__":
	main()
