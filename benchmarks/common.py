"""Shared by the benchmarks that run inside a bench: site connection, documents, tables.

Run every benchmark with the bench's Python from the bench's sites folder, on a site of its own, e.g.
	cd /root/frappe-bench/sites && ../env/bin/python /path/to/repo/benchmarks/push_throughput.py --site perf.localhost
"""

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

BENCH_TAG = "xero-bench"


def site_argument_parser(description: str) -> argparse.ArgumentParser:
	parser = argparse.ArgumentParser(description=description)
	parser.add_argument(
		"--site",
		required=True,
		help="a site of its own: the benchmark resets its Xero Settings and outbox and adds documents",
	)
	return parser


def connect(site: str):
	import frappe

	frappe.init(site=site, sites_path=os.getcwd())
	frappe.connect()
	frappe.set_user("Administrator")
	frappe.flags.mute_emails = True
	warn_of_other_workers()
	return frappe


def warn_of_other_workers() -> None:
	"""rq workers already listening on this bench's queues take the benchmark's jobs and share its cores:
	the figures are then not the app's alone."""
	from frappe.utils.background_jobs import get_queue_list, get_workers

	queues = set(get_queue_list(build_queue_name=True))
	others = [worker for worker in get_workers() if queues.intersection(worker.queue_names())]
	if others:
		pids = ", ".join(sorted(f"pid {worker.pid} on {worker.hostname}" for worker in others))
		print(
			f"WARNING: {len(others)} rq worker(s) already consume this bench's queues ({pids}): they "
			"take the benchmark's jobs and skew its figures. Stop them (bench worker, supervisor) first.",
			file=sys.stderr,
		)


def machine() -> str:
	cpu = platform.processor() or platform.machine()
	with open("/proc/meminfo") as meminfo:
		memory_kb = int(meminfo.readline().split()[1])
	return f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1024 / 1024:.0f} GiB, Python {platform.python_version()}"


def run_workers(site: str, count: int = 1) -> float:
	"""Run `count` burst workers on the short queue in parallel; returns their peak RSS in MiB."""
	command = [
		sys.executable,
		"-m",
		"frappe.utils.bench_helper",
		"frappe",
		"--site",
		site,
		"worker",
		"--burst",
	]
	workers = [
		subprocess.Popen([*command, "--queue", "short"], stdout=subprocess.DEVNULL) for _ in range(count)
	]
	for worker in workers:
		worker.wait()
	return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def percentile(values, fraction: float) -> float:
	ordered = sorted(values)
	return ordered[min(round(fraction * (len(ordered) - 1)), len(ordered) - 1)]


def print_table(title: str, headers: list[str], rows: list[list]) -> None:
	cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
	widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
	print(f"\n{title}")
	print("| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)) + " |")
	print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
	for row in cells[1:]:
		print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def median(values) -> float:
	return statistics.median(values)


def now() -> float:
	return time.perf_counter()
