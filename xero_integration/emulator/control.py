"""/_emulator/ endpoints: drive and inspect an emulator running in another process (see README).
Not rate-limited, not spec-validated, no token needed: they are not part of Xero. The server answers with
what `handle` returns; nothing here imports the server."""

from dataclasses import asdict

from werkzeug.wrappers import Request

from .faults import Faults
from .xerojson import loads


def handle(emu, request: Request) -> tuple[int, object]:
	"""(HTTP status, JSON body) for a request below /_emulator/."""
	parts = request.path.strip("/").split("/")[1:]
	endpoint = _ROUTES.get((request.method, parts[0] if parts else ""))
	if endpoint is None:
		return 404, {"error": f"unknown control endpoint {request.method} {request.path}"}
	try:
		body = loads(request.get_data()) if request.get_data() else {}
		return 200, endpoint(emu, body, parts[1:], request)
	except KeyError as error:
		return 404, {"error": f"unknown or missing {error}"}
	except (TypeError, ValueError) as error:
		return 400, {"error": str(error)}


def _info(emu, body, rest, request):
	return {
		"base_url": emu.base_url,
		"time_scale": emu.clock.time_scale,
		"tenants": {t: o.organisation["Name"] for t, o in emu.organisations.items()},
		"clients": sorted(emu.identity.clients),
		"webhook_key": emu.webhook_key,
		"now": emu.clock.now(),
	}


def _add_organisation(emu, body, rest, request):
	kwargs = {k: body[k] for k in ("name", "base_currency") if k in body}
	if "currencies" in body:
		kwargs["currencies"] = tuple(body["currencies"])
	return {"tenant_id": emu.add_organisation(**kwargs)}


def _register_client(emu, body, rest, request):
	emu.register_client(
		body["client_id"],
		body["client_secret"],
		body.get("redirect_uris"),
		body.get("custom_connection_tenant"),
	)
	return {"client_id": body["client_id"]}


def _issue_tokens(emu, body, rest, request):
	scopes = {"scopes": body["scopes"]} if "scopes" in body else {}
	return emu.issue_tokens(body["client_id"], body["tenant_ids"], **scopes)


def _consent(emu, body, rest, request):
	emu.consent_tenants = body.get("tenant_ids")
	return {"consent_tenants": emu.consent_tenants}


def _faults(emu, body, rest, request):
	if "only_paths" in body and body["only_paths"] is not None:
		body["only_paths"] = tuple(body["only_paths"])
	emu.faults = Faults(**body)
	return asdict(emu.faults)


def _outage(emu, body, rest, request):
	emu.outage(bool(body.get("down", True)))
	return {"down": bool(body.get("down", True))}


def _advance(emu, body, rest, request):
	emu.clock.advance(float(body["seconds"]))
	return {"now": emu.clock.now()}


def _state(emu, body, rest, request):
	org = emu.org(rest[0])
	return {
		"Organisation": org.organisation,
		**{name: list(getattr(org, name).values()) for name in org.collections},
	}


def _calls(emu, body, rest, request):
	return [asdict(call) for call in emu.calls]


def _violations(emu, body, rest, request):
	return {
		"violations": [asdict(v) for v in emu.violations],
		"emulator_errors": emu.emulator_errors,
		"rate_limited": dict(emu.rate_limited_count),
	}


def _events(emu, body, rest, request):
	return emu.pending_events(rest[0] if rest else None)


def _deliver(emu, body, rest, request):
	status, answer = emu.deliver_webhook(
		body["url"],
		body.get("events"),
		tenant_id=body.get("tenant_id"),
		sign_correctly=body.get("sign_correctly", True),
	)
	return {"status": status, "body": answer.decode(errors="replace")}


def _intent(emu, body, rest, request):
	probes = emu.send_intent_to_receive(body["url"])
	return {
		"passed": emu.intent_to_receive_passed(probes),
		"probes": [
			{
				"signed_correctly": p.signed_correctly,
				"status": p.status,
				"body": p.body.decode(errors="replace"),
			}
			for p in probes
		],
	}


_ROUTES = {
	("GET", "info"): _info,
	("POST", "organisations"): _add_organisation,
	("POST", "clients"): _register_client,
	("POST", "tokens"): _issue_tokens,
	("POST", "consent"): _consent,
	("POST", "faults"): _faults,
	("POST", "outage"): _outage,
	("POST", "advance"): _advance,
	("GET", "state"): _state,
	("GET", "calls"): _calls,
	("GET", "violations"): _violations,
	("GET", "events"): _events,
	("POST", "deliver"): _deliver,
	("POST", "intent"): _intent,
}
