"""Tier 2 resilience suite: faults, a killed worker, an outage, the daily limit, a token race and bad
input. Deterministic seeds; every test ends by checking that each document is in Xero exactly once."""

import os
import signal
import subprocess
import time

import frappe

from xero_integration.emulator import Faults, Limits
from xero_integration.sync import outbox, push
from xero_integration.testing import (
	ABBR,
	COMPANY,
	XeroTestCase,
	bench_command,
	make_customer,
	make_payment,
	make_sales_invoice,
	receivable_account,
	sites_path,
)


def drop_stale_drains(tenant: str):
	"""Drain jobs this site queued for organisations of earlier tests (their emulators are gone) would
	stand before ours in the shared queue; drop them all, then queue ours again."""
	from frappe.utils.background_jobs import get_queue

	queue = get_queue("short")
	for job in queue.jobs:
		if job.id.startswith(f"{frappe.local.site}::xero_integration:"):
			job.delete()
	outbox.schedule_drain(tenant)
	frappe.db.commit()


class ResilienceTestCase(XeroTestCase):
	def assert_exactly_once(self, invoices):
		for invoice in invoices:
			self.assert_same_total(invoice)

	def assert_payments_once(self, payments):
		for payment in payments:
			invoice_id = frappe.db.get_value("Sales Invoice", payment.references[0].reference_name, "xero_id")
			found = [
				p
				for p in self.org().payments.values()
				if p["Invoice"]["InvoiceID"] == invoice_id and p["Status"] != "DELETED"
			]
			self.assertEqual(len(found), 1, f"{payment.name} is in Xero {len(found)} times")


class TestFaults(ResilienceTestCase):
	def test_mixed_run_under_faults_ends_with_everything_once_and_every_retry_logged(self):
		customers = [make_customer(f"Faulty Customer {i}") for i in range(6)]
		invoices = [
			make_sales_invoice(customers[i % 6], lines=((1, 30 + i),), tax_rate=15) for i in range(60)
		]
		payments = [make_payment(invoice, 7) for invoice in invoices[:20]]
		self.emulator.faults = Faults(
			http_500=0.06,
			http_503=0.04,
			http_429=0.05,
			commit_then_drop=0.03,
			timeout=0.02,
			timeout_seconds=1,
			seed=11,
		)
		self.drain_until_empty()
		self.emulator.faults = Faults()
		self.assert_exactly_once(invoices)
		self.assert_payments_once(payments)
		self.assertGreater(self.emulator.call_count(), 0)
		retried = frappe.get_all(
			"Xero Outbox",
			filters={"attempts": (">", 1), "status": "Done"},
			fields=["name", "attempts", "reference_name"],
		)
		self.assertTrue(retried, "the faults caused no retry at all")
		for row in retried:
			logged = frappe.db.count(
				"Xero Sync Log", {"reference_name": row.reference_name, "status": "Retrying"}
			)
			self.assertGreaterEqual(logged, row.attempts - 1, row.reference_name)


class TestKilledWorker(ResilienceTestCase):
	# A real `bench worker` in its own process group, killed with SIGKILL (work-horse included) while a
	# batch is in flight: its rows stay Processing, and the next drain looks them up before resending.
	def test_worker_killed_mid_batch_loses_and_duplicates_nothing(self):
		customer = make_customer("Killed Worker Customer")
		invoices = [make_sales_invoice(customer, lines=((1, 5 + i),)) for i in range(150)]
		frappe.db.commit()
		# Slow answers keep the worker inside a batch long enough to be killed there.
		self.emulator.faults = Faults(latency_ms=700, seed=1)
		drop_stale_drains(self.tenant)
		# Its own process group: SIGKILL must reach rq's work-horse (the child doing the work) too.
		worker = subprocess.Popen(
			bench_command("worker", "--queue", "short"), cwd=sites_path(), start_new_session=True
		)
		deadline = time.monotonic() + 300
		while time.monotonic() < deadline and not self.org().invoices:
			time.sleep(0.2)
		os.killpg(worker.pid, signal.SIGKILL)
		worker.wait()
		self.emulator.faults = Faults()
		frappe.db.commit()
		self.assertTrue(self.org().invoices, "the worker never reached Xero")
		self.assertTrue(self.open_rows(), "the worker finished before it could be killed")
		subprocess.run(
			bench_command("worker", "--burst", "--queue", "short"), cwd=sites_path(), check=True, timeout=600
		)
		self.drain_until_empty()
		self.assert_exactly_once(invoices)


class TestOutage(ResilienceTestCase):
	time_scale = 3600  # a Xero hour in a real second

	def test_xero_down_for_an_hour_while_users_submit_loses_nothing(self):
		self.emulator.outage(True)
		customer = make_customer("Outage Customer")
		invoices, payments = [], []
		for i in range(10):
			invoice = make_sales_invoice(customer, lines=((1, 40 + i),), tax_rate=15)
			invoices.append(invoice)
			payments.append(make_payment(invoice, 10))
			frappe.db.commit()
			push.drain(self.tenant)  # users keep working; every send fails and is rescheduled
		self.assertFalse(self.org().invoices)
		self.assertEqual(frappe.db.count("Xero Outbox", {"status": outbox.NEEDS_ATTENTION}), 0)
		time.sleep(1.2)
		self.emulator.outage(False)
		first_write = len(self.emulator.calls)
		self.drain_until_empty()
		writes = [c.path for c in self.emulator.calls[first_write:] if c.method in ("POST", "PUT")]
		self.assertLess(writes.index("/api.xro/2.0/Contacts"), writes.index("/api.xro/2.0/Invoices"))
		self.assertLess(writes.index("/api.xro/2.0/Invoices"), writes.index("/api.xro/2.0/Payments"))
		self.assert_exactly_once(invoices)
		self.assert_payments_once(payments)


class TestDailyLimit(ResilienceTestCase):
	time_scale = 7200  # a Xero day in 12 real seconds (and a token still lives a quarter of a second)
	limits = Limits(per_day=6)

	def test_daily_limit_pauses_with_a_clear_status_then_resumes(self):
		customer = make_customer("Budget Customer")
		invoices = [make_sales_invoice(customer, lines=((1, 3 + i),)) for i in range(120)]
		frappe.db.commit()
		push.drain(self.tenant)
		self.assertTrue(self.open_rows())
		paused = frappe.get_all("Xero Sync Log", filters={"operation": "Paused"}, pluck="message")
		self.assertTrue(paused and "daily API limit" in paused[0], paused)
		waiting = frappe.get_all(
			"Xero Outbox", filters={"status": "Pending"}, fields=["last_error", "attempts"]
		)
		self.assertTrue(all("daily API limit" in row.last_error for row in waiting if row.last_error))
		self.assertEqual(self.emulator.rate_limited_count["day"], 0)
		# The budget comes back with the next (scaled) day; scheduled drains pick the work up again.
		deadline = time.monotonic() + 60
		while self.open_rows() and time.monotonic() < deadline:
			time.sleep(0.5)
			frappe.db.sql("update `tabXero Outbox` set next_attempt_at=null where status='Pending'")
			frappe.db.commit()
			push.drain(self.tenant)
		self.assertEqual(self.open_rows(), 0)
		self.assert_exactly_once(invoices)
		self.assertEqual(self.emulator.rate_limited_count["day"], 0)


class TestTokenRace(ResilienceTestCase):
	def test_sixteen_jobs_on_two_workers_refresh_the_expired_token_once(self):
		frappe.db.set_single_value("Xero Settings", "token_expires_at", time.time() - 5)
		for _ in range(16):
			frappe.enqueue("xero_integration.testing.read_organisation", queue="short", tenant_id=self.tenant)
		frappe.db.commit()
		token_calls = self.emulator.call_count("POST", "/connect/token")
		reads = self.emulator.call_count("GET", "/api.xro/2.0/Organisation", tenant=self.tenant)
		workers = [
			subprocess.Popen(bench_command("worker", "--burst", "--queue", "short"), cwd=sites_path())
			for _ in range(2)
		]
		for worker in workers:
			self.assertEqual(worker.wait(timeout=300), 0)
		self.assertEqual(self.emulator.call_count("POST", "/connect/token") - token_calls, 1)
		# Every job's call went through first time: nobody used a token that had been rotated away.
		self.assertEqual(
			self.emulator.call_count("GET", "/api.xro/2.0/Organisation", tenant=self.tenant) - reads, 16
		)
		self.assertEqual(frappe.db.get_single_value("Xero Settings", "connection_status"), "Connected")


class TestBadInput(ResilienceTestCase):
	def test_invalid_documents_get_a_readable_reason_while_valid_ones_go_through(self):
		if not frappe.db.get_value("Currency", "GBP", "enabled"):
			frappe.db.set_value("Currency", "GBP", "enabled", 1)
		valid, invalid = [], {}
		good_customer = make_customer("Ünïcødé Kūnde 株式会社 ✓")
		long_tax_id = make_customer("Long Tax Id Customer", tax_id="TX" * 40)
		pound_customer = make_customer(
			"Pound Bad Input Customer",
			default_currency="GBP",
			accounts=[{"company": COMPANY, "account": receivable_account("GBP")}],
		)
		for i in range(200):
			kind = i % 4
			if kind == 0:
				valid.append(make_sales_invoice(good_customer, lines=((1, 10 + i),), tax_rate=15))
			elif kind == 1:
				invalid[make_sales_invoice(long_tax_id, lines=((1, 5),)).name] = "Tax ID"
			elif kind == 2:
				doc = make_sales_invoice(
					pound_customer,
					lines=((1, 7),),
					currency="GBP",
					conversion_rate=1.25,
					debit_to=receivable_account("GBP"),
				)
				invalid[doc.name] = "GBP"
			else:
				doc = make_sales_invoice(
					good_customer,
					lines=((1, 9),),
					taxes=[
						{
							"charge_type": "Actual",
							"account_head": f"Input Tax - {ABBR}",
							"description": "Unmapped levy",
							"tax_amount": 1,
							"cost_center": f"Main - {ABBR}",
						}
					],
				)
				invalid[doc.name] = f"Input Tax - {ABBR}"
		self.drain_until_empty()
		self.assert_exactly_once(valid)
		for name, reason in invalid.items():
			row = frappe.db.get_value(
				"Xero Outbox",
				{"reference_name": name, "object_type": "Invoice"},
				["status", "last_error"],
				as_dict=True,
			)
			self.assertEqual(row.status, "Needs Attention", name)
			if reason != "Tax ID":
				self.assertIn(reason, row.last_error, name)
			else:
				# The invoice waits on its customer, whose own row says what is wrong.
				self.assertIn(long_tax_id, row.last_error, name)
		customer_row = frappe.db.get_value(
			"Xero Outbox",
			{"reference_name": long_tax_id, "object_type": "Contact"},
			["status", "last_error"],
			as_dict=True,
		)
		self.assertEqual(customer_row.status, "Needs Attention")
		self.assertIn("Tax ID", customer_row.last_error)
		self.assertFalse([i for i in self.org().invoices.values() if i["InvoiceNumber"] in invalid])
