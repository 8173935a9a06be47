"""python -m xero_integration.emulator: serve an emulator until killed; prints one JSON line to stdout with
the base URL, the organisations and the registered client."""

import argparse
import json
import signal
import sys
import threading

from .limits import Limits
from .server import XeroEmulator


def main(argv=None) -> int:
	parser = argparse.ArgumentParser(prog="python -m xero_integration.emulator", description=__doc__)
	parser.add_argument("--host", default="127.0.0.1", help="loopback only")
	parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
	parser.add_argument("--time-scale", type=float, default=1.0, help="emulated seconds per real second")
	parser.add_argument("--seed", type=int, default=0)
	parser.add_argument("--client-id")
	parser.add_argument("--client-secret")
	parser.add_argument("--org", action="append", default=[], help="organisation name (repeatable)")
	parser.add_argument("--base-currency", default="NZD")
	parser.add_argument("--per-minute", type=int, default=Limits.per_minute)
	parser.add_argument("--per-day", type=int, default=Limits.per_day)
	parser.add_argument("--concurrent", type=int, default=Limits.concurrent)
	parser.add_argument("--app-per-minute", type=int, default=Limits.app_per_minute)
	args = parser.parse_args(argv)
	if bool(args.client_id) != bool(args.client_secret):
		parser.error("--client-id and --client-secret go together")
	limits = Limits(args.per_minute, args.per_day, args.concurrent, args.app_per_minute)
	try:
		emu = XeroEmulator(args.time_scale, limits, args.seed, args.host, args.port)
	except ValueError as error:
		parser.error(str(error))
	tenants = {
		emu.add_organisation(name, args.base_currency): name for name in args.org or ["Demo Company (NZ)"]
	}
	if args.client_id:
		emu.register_client(args.client_id, args.client_secret)
	base_url = emu.start()
	print(
		json.dumps(
			{
				"base_url": base_url,
				"tenants": tenants,
				"client_id": args.client_id,
				"time_scale": args.time_scale,
			}
		),
		flush=True,
	)
	stopped = threading.Event()
	signal.signal(signal.SIGTERM, lambda *_: stopped.set())
	try:
		stopped.wait()
	except KeyboardInterrupt:
		pass
	emu.stop()
	return 0


if __name__ == "__main__":
	sys.exit(main())
