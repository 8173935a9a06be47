"""Webhook intake: signed Xero event deliveries posted concurrently to the real endpoint, served by
gunicorn (as in production) on loopback. Xero wants every delivery acknowledged within 5 seconds.

	cd /root/frappe-bench/sites && ../env/bin/python <repo>/benchmarks/webhook_intake.py --site perf.localhost \
		--events 1000

Each delivery is one signed batch holding one event; the endpoint verifies, stores and enqueues, and
answers 200 with an empty body. No worker runs: this measures the intake alone.
"""

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from common import connect, machine, percentile, print_table, site_argument_parser

XERO_ACK_SECONDS = 5.0


def main():
	parser = site_argument_parser(__doc__)
	parser.add_argument("--events", type=int, default=1000)
	parser.add_argument("--concurrency", type=int, default=50)
	parser.add_argument("--gunicorn-workers", type=int, default=4)
	parser.add_argument("--port", type=int, default=8016)
	args = parser.parse_args()
	frappe = connect(args.site)
	from frappe.utils.password import set_encrypted_password

	from xero_integration.core.webhook import sign
	from xero_integration.testing import EmulatedXero, ensure_company

	ensure_company()
	xero = EmulatedXero(time_scale=60).start()
	xero.connect()
	tenant = xero.tenants[0]
	key = xero.emulator.webhook_key
	set_encrypted_password("Xero Settings", "Xero Settings", key, "webhook_key")
	frappe.db.commit()
	server = subprocess.Popen(
		[
			os.path.join(os.path.dirname(sys.executable), "gunicorn"),
			"--bind",
			f"127.0.0.1:{args.port}",
			"--workers",
			str(args.gunicorn_workers),
			"--preload",
			"frappe.app:application",
		],
		cwd=os.getcwd(),
		stdout=subprocess.DEVNULL,
		stderr=subprocess.DEVNULL,
	)
	url = f"http://127.0.0.1:{args.port}/api/method/xero_integration.api.webhook"
	headers = {"Host": args.site}
	try:
		wait_until_up(f"http://127.0.0.1:{args.port}/api/method/ping", headers)
		bodies = [delivery(tenant, n) for n in range(args.events)]
		session_pool = ThreadPoolExecutor(max_workers=args.concurrency)

		def post(body: bytes):
			started = time.perf_counter()
			response = requests.post(
				url, data=body, headers={**headers, "x-xero-signature": sign(body, key)}, timeout=30
			)
			return response.status_code, response.content, time.perf_counter() - started

		started = time.perf_counter()
		results = list(session_pool.map(post, bodies))
		elapsed = time.perf_counter() - started
	finally:
		server.terminate()
		server.wait(timeout=10)
	frappe.db.commit()
	stored = frappe.db.count("Xero Webhook Event", {"organisation": tenant})
	xero.stop()
	seconds = [r[2] for r in results]
	ok = sum(1 for status, body, _ in results if status == 200 and body == b"")
	print(f"Machine: {machine()}")
	print_table(
		f"{args.events} signed deliveries, {args.concurrency} at a time, gunicorn with {args.gunicorn_workers} workers",
		[
			"acknowledged 200 (empty body)",
			"p50 ms",
			"p99 ms",
			"max ms",
			"within 5 s",
			"events stored",
			"deliveries/s",
		],
		[
			[
				ok,
				f"{percentile(seconds, 0.5) * 1000:.0f}",
				f"{percentile(seconds, 0.99) * 1000:.0f}",
				f"{max(seconds) * 1000:.0f}",
				sum(1 for s in seconds if s <= XERO_ACK_SECONDS),
				stored,
				f"{len(results) / elapsed:.0f}",
			]
		],
	)


def delivery(tenant: str, n: int) -> bytes:
	event = {
		"resourceUrl": f"https://api.xero.com/api.xro/2.0/Contacts/{uuid.uuid4()}",
		"resourceId": str(uuid.uuid4()),
		"eventDateUtc": "2026-11-22T04:00:00.000",
		"eventType": "UPDATE",
		"eventCategory": "CONTACT",
		"tenantId": tenant,
		"tenantType": "ORGANISATION",
	}
	return json.dumps(
		{
			"events": [event],
			"firstEventSequence": n + 1,
			"lastEventSequence": n + 1,
			"entropy": uuid.uuid4().hex,
		}
	).encode()


def wait_until_up(url: str, headers: dict) -> None:
	for _attempt in range(150):
		try:
			requests.get(url, headers=headers, timeout=1)
			return
		except requests.ConnectionError:
			time.sleep(0.2)
	raise RuntimeError("gunicorn did not start")


if __name__ == "__main__":
	main()
