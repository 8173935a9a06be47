"""Frappe-free micro-benchmark: ERPNext documents mapped to Xero payloads per second, by the core alone.

	python benchmarks/mapping_speed.py --documents 5000

Uses synthetic ERPNext-shaped dicts (3 lines, 15% tax on net total, one payment per invoice).
"""

import argparse
import time
from decimal import Decimal

from xero_integration.core.mapping import content_hash
from xero_integration.core.mapping.contact import contact_payload
from xero_integration.core.mapping.context import MappingContext
from xero_integration.core.mapping.invoice import map_invoice
from xero_integration.core.mapping.payment import payment_payloads

CTX = MappingContext(
	base_currency="USD",
	enabled_currencies=frozenset({"USD", "EUR"}),
	account_codes={"Sales - B": "200", "Cash - B": "090", "Tax - B": "820"},
	tax_types={"Tax - B": "OUTPUT2"},
	rounding_account_code="860",
)
RATES = {"OUTPUT2": Decimal(15), "NONE": Decimal(0)}


def invoice(i: int) -> dict:
	lines = [(1 + i % 3, Decimal(10 + i % 97)), (2, Decimal("4.99")), (1, Decimal("0.35"))]
	items = [
		{
			"item_code": "SVC",
			"description": f"Service {n}",
			"qty": qty,
			"rate": rate,
			"net_rate": rate,
			"amount": qty * rate,
			"net_amount": qty * rate,
			"income_account": "Sales - B",
			"cost_center": "Main - B",
		}
		for n, (qty, rate) in enumerate(lines)
	]
	net = sum(item["net_amount"] for item in items)
	tax = (net * Decimal("0.15")).quantize(Decimal("0.01"))
	return {
		"doctype": "Sales Invoice",
		"name": f"SINV-{i:06d}",
		"customer": f"Customer {i % 2000}",
		"posting_date": "2026-11-22",
		"due_date": "2026-12-22",
		"currency": "USD",
		"conversion_rate": 1,
		"items": items,
		"taxes": [
			{
				"charge_type": "On Net Total",
				"account_head": "Tax - B",
				"rate": 15,
				"tax_amount": tax,
				"included_in_print_rate": 0,
			}
		],
		"net_total": net,
		"total_taxes_and_charges": tax,
		"grand_total": net + tax,
		"rounded_total": 0,
	}


def payment(i: int, total: Decimal) -> dict:
	return {
		"doctype": "Payment Entry",
		"name": f"PE-{i:06d}",
		"payment_type": "Receive",
		"posting_date": "2026-11-22",
		"paid_to": "Cash - B",
		"paid_from_account_currency": "USD",
		"party_account_currency": "USD",
		"source_exchange_rate": 1,
		"unallocated_amount": 0,
		"references": [
			{
				"reference_doctype": "Sales Invoice",
				"reference_name": f"SINV-{i:06d}",
				"allocated_amount": total,
			}
		],
	}


def rate(label: str, count: int, work) -> list:
	started = time.perf_counter()
	for i in range(count):
		work(i)
	elapsed = time.perf_counter() - started
	return [label, count, f"{elapsed:.2f}", f"{count / elapsed:,.0f}"]


def main():
	parser = argparse.ArgumentParser(description=__doc__)
	parser.add_argument("--documents", type=int, default=5000)
	n = parser.parse_args().documents
	invoices = [invoice(i) for i in range(n)]
	rows = [
		rate(
			"Customer -> Contact",
			n,
			lambda i: contact_payload(
				{"customer_name": f"Customer {i}", "name": f"CUST-{i}"},
				is_customer=True,
				is_supplier=False,
				contact_number=f"CUST-{i}",
				email=f"c{i}@example.com",
			),
		),
		rate(
			"Sales Invoice -> Invoice (+hash)",
			n,
			lambda i: content_hash(map_invoice(invoices[i], CTX, contact_id="c", tax_rates=RATES).payload),
		),
		rate(
			"Payment Entry -> Payment",
			n,
			lambda i: payment_payloads(
				payment(i, invoices[i]["grand_total"]),
				CTX,
				xero_ids={("Sales Invoice", f"SINV-{i:06d}"): "x"},
			),
		),
	]
	print("| mapping | documents | seconds | per second |")
	print("|---|---|---|---|")
	for row in rows:
		print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
	main()
