"""Tier 2 resilience suite: faults, a killed worker, an outage, the daily limit, a token race and bad
input. Deterministic seeds; every test ends by checking that each document is in Xero exactly once."""

import contextlib
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
	amend,
	bench_command,
	clerk,
	expense_account,
	make_customer,
	make_payment,
	make_sales_invoice,
	receivable_account,
	sites_path,
	xero_manager,
)


def drop_stale_drains(tenant: str):
	"""Drain jobs this site queued for organisations of earlier tests (their emulators are gone) would
	stand before ours in the shared queue; drop them all, then queue ours again."""
	from frappe.utils.background_jobs import get_queue

	queue = get_queue("short")
	for job in queue.jobs:
		if job.id.startswith(f"{frappe.local.site}::xero_integration:"):
			job.delete()
	# Their "a drain waits" flag goes with them, or ours would not be queued.
	outbox.drain_started(tenant)
	outbox.schedule_drain(tenant)
	frappe.db.commit()


class ResilienceTestCase(XeroTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")
		self.emulator.on_request.clear()
		super().tearDown()

	def work_off(self, *, due_now: bool = True):
		"""What production does: the queued drain runs in a real `bench worker`. due_now: as if the
		retries' backoff had passed (the scheduler would drain them then)."""
		user = frappe.session.user
		frappe.set_user("Administrator")
		if due_now:
			frappe.db.sql("update `tabXero Outbox` set next_attempt_at=null where status='Pending'")
		drop_stale_drains(self.tenant)
		subprocess.run(
			bench_command("worker", "--burst", "--queue", "short"), cwd=sites_path(), check=True, timeout=600
		)
		frappe.db.commit()  # a fresh snapshot: see what the worker wrote
		frappe.set_user(user)

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
			filters={"attempts": (">", 0), "status": "Done"},
			fields=["name", "attempts", "reference_name"],
		)
		self.assertTrue(retried, "the faults caused no retry at all")
		for row in retried:
			logged = frappe.db.count(
				"Xero Sync Log", {"reference_name": row.reference_name, "status": "Retrying"}
			)
			self.assertGreaterEqual(logged, row.attempts, row.reference_name)


def descendants(pid: int) -> list[int]:
	"""Every process below pid, read from /proc (children first found, then theirs)."""
	found, frontier = [], [pid]
	while frontier:
		parent = frontier.pop()
		for entry in os.listdir("/proc"):
			if not entry.isdigit():
				continue
			try:
				with open(f"/proc/{entry}/stat") as stat:
					ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
			except (OSError, ValueError, IndexError):
				continue
			if ppid == parent:
				found.append(int(entry))
				frontier.append(int(entry))
	return found


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
		# rq's work-horse may leave the worker's process group (setsid): kill it by parentage as well.
		for pid in (*descendants(worker.pid), worker.pid):
			with contextlib.suppress(ProcessLookupError):
				os.kill(pid, signal.SIGKILL)
		with contextlib.suppress(ProcessLookupError):
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


class TestCancelledWhileRetrying(ResilienceTestCase):
	"""A clerk cancels and amends while the document's send waits for a retry: Xero never ends up with
	the cancelled document live."""

	def live_in_xero(self, number: str) -> list[dict]:
		return [
			i
			for i in self.org().invoices.values()
			if i.get("InvoiceNumber") == number and i["Status"] not in ("VOIDED", "DELETED")
		]

	def test_an_invoice_cancelled_and_amended_while_xero_was_down_is_never_live_there(self):
		customer = make_customer("Backoff Customer")
		make_sales_invoice(customer, lines=((1, 10),))  # the customer is in Xero already
		frappe.db.commit()
		self.work_off()
		self.emulator.outage(True)
		frappe.set_user(clerk())
		invoice = make_sales_invoice(customer, lines=((1, 200),))
		frappe.db.commit()
		self.work_off(due_now=False)  # Xero answers 503: the send waits in backoff
		self.assertEqual(
			frappe.db.get_value("Xero Outbox", {"reference_name": invoice.name}, "status"), "Pending"
		)
		invoice.reload().cancel()
		amended = amend(invoice)
		frappe.db.commit()
		self.emulator.outage(False)
		self.work_off(due_now=False)  # what is due now
		self.work_off()  # five minutes later: every retry is due
		self.work_off()
		self.assertEqual(self.live_in_xero(invoice.name), [])
		self.assertEqual(self.xero_invoice(amended.name)["Status"], "AUTHORISED")
		self.assertEqual(self.open_rows(), 0)

	def test_a_payment_cancelled_after_its_create_went_unanswered_is_removed_from_xero(self):
		customer = make_customer("Unanswered Payment Customer")
		invoice = make_sales_invoice(customer, lines=((1, 90),))
		frappe.db.commit()
		self.work_off()
		frappe.set_user(clerk())
		payment = make_payment(invoice, 90)
		frappe.db.commit()
		# Xero books the payment, but its answer never arrives.
		self.emulator.faults = Faults(commit_then_drop=1.0, only_paths=("/Payments",))
		self.work_off(due_now=False)
		self.emulator.faults = Faults()
		invoice_id = self.xero_invoice(invoice.name)["InvoiceID"]
		self.assertEqual(len(self.live_payments(invoice_id)), 1)  # Xero has it; we don't know yet
		payment.reload().cancel()
		frappe.db.commit()
		self.work_off(due_now=False)
		self.work_off()
		self.assertEqual(self.live_payments(invoice_id), [])
		self.assertEqual(self.xero_invoice(invoice.name)["AmountDue"], 90)
		self.assertEqual(self.open_rows(), 0)

	def test_retry_pressed_on_a_cancelled_invoice_does_not_send_it(self):
		customer = make_customer("Retry Cancelled Customer")
		levy = tax_account("Xero Test Levy")
		frappe.db.commit()
		frappe.set_user(clerk())
		invoice = make_sales_invoice(
			customer,
			lines=((1, 50),),
			taxes=[
				{
					"charge_type": "On Net Total",
					"account_head": levy,
					"description": "Levy",
					"rate": 15,
					"cost_center": f"Main - {ABBR}",
				}
			],
		)
		frappe.db.commit()
		self.work_off()
		upsert = {"reference_name": invoice.name, "operation": "upsert"}
		self.assertEqual(frappe.db.get_value("Xero Outbox", upsert, "status"), outbox.NEEDS_ATTENTION)
		self.assertIn(levy, frappe.db.get_value("Xero Outbox", upsert, "last_error"))
		invoice.reload().cancel()
		frappe.db.commit()
		self.work_off()
		# The bookkeeper maps the levy and presses Retry on the invoice's log row.
		frappe.set_user("Administrator")
		organisation = frappe.get_doc("Xero Organisation", self.tenant)
		organisation.append(
			"tax_mappings", {"erpnext_tax_type": "Account", "erpnext_tax": levy, "xero_tax_type": "OUTPUT2"}
		)
		organisation.save(ignore_permissions=True)
		log = frappe.get_all(
			"Xero Sync Log",
			filters={"reference_name": invoice.name, "status": "Needs Attention"},
			pluck="name",
			limit=1,
		)
		frappe.set_user(xero_manager())
		from xero_integration import api

		api.retry_logs([log[0]])
		frappe.db.commit()
		self.work_off()
		self.assertEqual(self.live_in_xero(invoice.name), [])
		self.assertEqual(self.open_rows(), 0)

	def live_payments(self, invoice_id: str) -> list[dict]:
		return [
			p
			for p in self.org().payments.values()
			if p["Invoice"]["InvoiceID"] == invoice_id and p["Status"] != "DELETED"
		]


class TestPoisonRows(ResilienceTestCase):
	def test_a_payment_xero_cannot_take_is_parked_and_later_payments_still_reach_xero(self):
		customer = make_customer("Poison Payment Customer")
		invoice = make_sales_invoice(customer, lines=((1, 100),))
		other = make_sales_invoice(customer, lines=((1, 60),))
		# An expense account Xero takes no payment from (it falls back to the organisation's 400).
		unpayable = expense_account("Xero Unpayable Deduction")
		frappe.db.commit()
		self.work_off()
		frappe.set_user(clerk())
		poison = make_payment(invoice, 50, submit=False)
		poison.paid_amount = poison.received_amount = 45
		poison.append("deductions", {"account": unpayable, "cost_center": f"Main - {ABBR}", "amount": 5})
		poison.save()
		poison.submit()
		frappe.db.commit()
		self.work_off()
		ordinary = make_payment(other, 60)  # submitted right after, as in the field
		frappe.db.commit()
		self.work_off()
		self.work_off()
		self.assertEqual(self.xero_invoice(other.name)["Status"], "PAID")
		row = frappe.db.get_value(
			"Xero Outbox", {"reference_name": poison.name}, ["status", "last_error"], as_dict=True
		)
		self.assertEqual(row.status, outbox.NEEDS_ATTENTION)
		self.assertIn("payments to it are not enabled", row.last_error)  # Xero's words
		self.assertTrue(
			frappe.db.exists("Xero Sync Log", {"reference_name": poison.name, "status": "Needs Attention"})
		)
		self.assertEqual(
			frappe.db.get_value("Xero Outbox", {"reference_name": ordinary.name}, "status"), "Done"
		)


class TestDrainLock(ResilienceTestCase):
	"""The drain lock lives as long as the drain does, and a drain that lost it stops without settling."""

	def lock_lifetime(self, seconds: int) -> None:
		"""Site config read by every drain, the workers' included."""
		from frappe.installer import update_site_config

		update_site_config("xero_drain_lock_seconds", seconds)
		frappe.local.conf.xero_drain_lock_seconds = seconds

	def tearDown(self):
		from frappe.installer import update_site_config

		update_site_config("xero_drain_lock_seconds", None, validate=False)
		frappe.local.conf.pop("xero_drain_lock_seconds", None)
		super().tearDown()

	def lock_key(self) -> str:
		return outbox.DrainLock(self.tenant).key

	def redis(self):
		import redis

		return redis.Redis.from_url(frappe.conf.redis_cache)

	def test_the_lock_is_renewed_while_a_slow_batch_runs(self):
		self.lock_lifetime(2)
		customer = make_customer("Slow Batch Customer")
		invoices = [make_sales_invoice(customer, lines=((1, 20 + i),)) for i in range(3)]
		frappe.db.commit()
		key, redis_client, seen = self.lock_key(), self.redis(), []
		self.emulator.on_request.append(lambda method, path: seen.append(redis_client.pttl(key)))
		self.emulator.faults = Faults(latency_ms=1500)
		self.work_off()
		self.emulator.faults = Faults()
		self.assertGreaterEqual(len(seen), 3)
		# Each request starts with the lock freshly renewed, however long the ones before it took.
		self.assertTrue(all(ttl > 1000 for ttl in seen), seen)
		self.assert_exactly_once(invoices)

	def test_a_drain_that_lost_its_lock_stops_without_settling_and_is_recovered_later(self):
		self.lock_lifetime(10)
		customer = make_customer("Lost Lock Customer")
		invoices = [make_sales_invoice(customer, lines=((1, 30 + i),)) for i in range(5)]
		frappe.db.commit()
		key, redis_client = self.lock_key(), self.redis()

		def take_the_lock(method, path):
			if method in ("PUT", "POST") and path == "/Invoices":
				# Another drain took over (the lock expired under a stall): from now on, it is theirs.
				redis_client.set(key, "elsewhere:1:other-drain", px=60_000)

		self.emulator.on_request.append(take_the_lock)
		self.work_off()
		self.emulator.on_request.clear()
		self.assertEqual(
			set(self.invoice_rows(invoices)), {outbox.PROCESSING}
		)  # nothing settled by the drain that lost it
		self.assertFalse(
			frappe.db.exists("Xero Sync Log", {"reference_name": invoices[0].name, "status": "Success"})
		)
		# The next drain finds them claimed moments ago: the other drain's, not abandoned.
		redis_client.delete(key)
		push.drain(self.tenant)
		self.assertEqual(set(self.invoice_rows(invoices)), {outbox.PROCESSING})
		# Claimed longer ago than the lock lives: abandoned, looked up in Xero, settled once.
		frappe.db.sql(
			"update `tabXero Outbox` set claimed_at = claimed_at - interval 11 second where status=%s",
			outbox.PROCESSING,
		)
		frappe.db.commit()
		self.work_off()
		self.assertEqual(self.open_rows(), 0)
		self.assert_exactly_once(invoices)

	def invoice_rows(self, invoices) -> list[str]:
		return frappe.get_all(
			"Xero Outbox",
			filters={"reference_name": ("in", [i.name for i in invoices]), "object_type": "Invoice"},
			pluck="status",
		)


def tax_account(name: str) -> str:
	account = f"{name} - {ABBR}"
	if not frappe.db.exists("Account", account):
		frappe.get_doc(
			{
				"doctype": "Account",
				"account_name": name,
				"parent_account": f"Duties and Taxes - {ABBR}",
				"company": COMPANY,
				"account_type": "Tax",
				"tax_rate": 15,
			}
		).insert(ignore_permissions=True)
	return account
