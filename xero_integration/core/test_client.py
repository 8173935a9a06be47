"""The one Xero client wrapper, driven through xero-python against the emulator over loopback HTTP."""

import uuid
from decimal import Decimal

import pytest
import redis

from xero_integration.core import client, oauth
from xero_integration.core.batching import idempotency_key, split_results
from xero_integration.core.client import XeroClient
from xero_integration.core.errors import XeroRateLimited, XeroUnavailable, XeroValidationError
from xero_integration.core.ratelimit import Limits, TenantRateLimiter
from xero_integration.emulator import Faults
from xero_integration.emulator import Limits as XeroLimits
from xero_integration.emulator.pytest_plugin import CLIENT_ID, CLIENT_SECRET


class Tokens:
	"""Stands in for sync/connection.py: hands out the stored token, refreshes when told it was refused."""

	def __init__(self, emulator, tenant_id):
		self.emulator = emulator
		self.tokens = emulator.issue_tokens(CLIENT_ID, [tenant_id])
		self.refreshes = 0

	def __call__(self, rejected_token):
		if rejected_token is not None and rejected_token == self.tokens["access_token"]:
			refreshed = oauth.refresh(
				self.emulator.base_url, CLIENT_ID, CLIENT_SECRET, self.tokens["refresh_token"]
			)
			self.tokens = {"access_token": refreshed.access_token, "refresh_token": refreshed.refresh_token}
			self.refreshes += 1
		return self.tokens["access_token"]


@pytest.fixture
def limiter_for():
	client = redis.Redis(host="127.0.0.1", port=6379)
	namespace = f"test-client-{uuid.uuid4().hex}"

	def make(tenant_id, **limits):
		return TenantRateLimiter(client, tenant_id, Limits(**limits), namespace=namespace)

	yield make
	for key in client.scan_iter(f"{namespace}:*"):
		client.delete(key)


def make_client(emulator, tenant_id, limiter=None, **kwargs) -> tuple[XeroClient, Tokens]:
	tokens = Tokens(emulator, tenant_id)
	return XeroClient(tenant_id, tokens, api_url=emulator.base_url, limiter=limiter, **kwargs), tokens


def contacts(*names):
	return {"Contacts": [{"Name": name} for name in names]}


def test_a_batch_comes_back_per_element_with_exact_amounts(emulator, tenant_id):
	client, _ = make_client(emulator, tenant_id)
	sent = [{"Name": "Alpha Ltd"}, {"Name": "Alpha Ltd"}]
	response = client.call("update_or_create_contacts", {"Contacts": sent}, summarize_errors=False)
	ok, clash = split_results("Contact", sent, response.body)
	assert ok.ok and ok.xero_id in emulator.org(tenant_id).contacts
	assert not clash.ok and "already assigned to another contact" in clash.errors[0]
	invoice = {
		"Type": "ACCREC",
		"Contact": {"ContactID": ok.xero_id},
		"LineItems": [
			{"Description": "x", "Quantity": 3, "UnitAmount": Decimal("0.3333"), "AccountCode": "200"}
		],
	}
	body = client.call("create_invoices", {"Invoices": [invoice]}, unitdp=4).body
	assert str(body["Invoices"][0]["SubTotal"]) == "1.00"


def test_validation_refusal_of_a_whole_request_is_typed(emulator, tenant_id):
	client, _ = make_client(emulator, tenant_id)
	client.call("create_contacts", contacts("Beta Ltd"))
	with pytest.raises(XeroValidationError) as refused:
		client.call("create_contacts", contacts("Beta Ltd"))
	assert "already assigned" in refused.value.messages[0]


def test_expired_token_is_refreshed_once_and_the_call_goes_through(emulator, tenant_id):
	client, tokens = make_client(emulator, tenant_id)
	emulator.clock.advance(1801)
	assert client.call("get_organisations").body["Organisations"][0]["OrganisationID"] == tenant_id
	assert tokens.refreshes == 1


def test_server_errors_and_dropped_answers_are_retryable_and_flag_uncertain_writes(emulator, tenant_id):
	client, _ = make_client(emulator, tenant_id, timeout=(2, 2))
	emulator.faults = Faults(http_503=1.0, seed=1)
	with pytest.raises(XeroUnavailable) as unavailable:
		client.call("get_organisations")
	assert unavailable.value.retryable and not unavailable.value.uncertain
	emulator.faults = Faults(commit_then_drop=1.0, seed=1)
	key = idempotency_key(tenant_id, "Contact-upsert", ["row-1"])
	with pytest.raises(XeroUnavailable) as dropped:
		client.call("create_contacts", contacts("Gamma Ltd"), idempotency_key=key)
	assert dropped.value.uncertain
	emulator.faults = Faults()
	# The resend with the same key is Xero's replay, not a second contact.
	again = client.call("create_contacts", contacts("Gamma Ltd"), idempotency_key=key)
	assert again.body["Contacts"][0]["Name"] == "Gamma Ltd"
	assert [c["Name"] for c in emulator.org(tenant_id).contacts.values()].count("Gamma Ltd") == 1


def test_shared_limiter_keeps_the_client_under_xeros_minute_limit(emulator_factory, limiter_for):
	emulator = emulator_factory(time_scale=60, limits=XeroLimits(per_minute=10, per_day=1000))
	tenant_id = emulator.add_organisation()
	limiter = limiter_for(tenant_id, per_minute=10, time_scale=60)
	client, _ = make_client(emulator, tenant_id, limiter=limiter)
	for _ in range(25):
		client.call("get_organisations")
	assert sum(emulator.rate_limited_count.values()) == 0
	assert emulator.call_count("GET", "/api.xro/2.0/Organisation") == 25


def test_a_429_from_xero_blocks_the_limiter_and_the_call_is_retried(emulator, tenant_id, limiter_for):
	limiter = limiter_for(tenant_id, time_scale=60)
	client, _ = make_client(emulator, tenant_id, limiter=limiter)
	emulator.faults = Faults(http_429=1.0, seed=3, only_paths=None)
	with pytest.raises(XeroRateLimited):
		client.call("get_organisations")
	assert limiter.status()["blocked_for_seconds"] > 0
	emulator.faults = Faults()
	assert client.call("get_organisations").status == 200


def test_daily_budget_is_reported_not_waited_for(emulator_factory, limiter_for):
	emulator = emulator_factory(time_scale=60, limits=XeroLimits(per_day=3))
	tenant_id = emulator.add_organisation()
	client, _ = make_client(
		emulator, tenant_id, limiter=limiter_for(tenant_id, per_day=3, time_scale=60), max_wait=1
	)
	for _ in range(3):
		client.call("get_organisations")
	with pytest.raises(XeroRateLimited) as paused:
		client.call("get_organisations")
	assert paused.value.problem == "day"
	assert emulator.call_count("GET", "/api.xro/2.0/Organisation") == 3


def test_a_hook_runs_before_every_request_and_can_stop_it(emulator, tenant_id):
	client, _tokens = make_client(emulator, tenant_id)
	seen = []
	client.before_request = lambda: seen.append(emulator.call_count(path_prefix="/api.xro/"))
	client.call("get_organisations")
	client.call("get_contacts")
	assert seen == [0, 1]

	class Stop(Exception):
		pass

	def stop():
		raise Stop

	client.before_request = stop
	with pytest.raises(Stop):
		client.call("update_or_create_contacts", contacts("Never Sent"), summarize_errors=False)
	assert not emulator.org(tenant_id).contacts


def test_id_chunks_stay_under_fifty_and_drop_repeats():
	ids = [f"id-{n}" for n in range(95)] + ["id-3", "", None]
	chunks = client.id_chunks(ids)
	assert [len(c) for c in chunks] == [40, 40, 15]
	assert [i for chunk in chunks for i in chunk] == [f"id-{n}" for n in range(95)]


def test_paging_stops_at_the_page_count_or_a_short_page():
	assert client.is_last_page(1000, 5, {"pageCount": 5})
	assert not client.is_last_page(1000, 4, {"pageCount": 5})
	assert client.is_last_page(999, 1, None)
	assert not client.is_last_page(1000, 1, None)


def test_objects_are_read_by_the_catalogue_page_by_page_and_by_ids(emulator, tenant_id):
	xero, _tokens = make_client(emulator, tenant_id)
	sent = xero.send("Contact", [{"Name": f"Paged {n}", "ContactNumber": f"P{n}"} for n in range(5)])
	assert all(result.ok for result in sent)
	pages = list(xero.pages("Contact", page_size=2, order="Name ASC"))
	assert [len(records) for records, _pagination in pages] == [2, 2, 1]
	wanted = [sent[1].xero_id, sent[3].xero_id.upper(), "00000000-0000-0000-0000-000000000001"]
	assert sorted(r["Name"] for r in xero.by_ids("Contact", wanted).values()) == ["Paged 1", "Paged 3"]
	assert xero.get("Contact", sent[4].xero_id)["Name"] == "Paged 4"
	assert xero.get("Contact", "00000000-0000-0000-0000-000000000001") is None
	currencies = xero.list_all("Currency")  # an unpaged list
	assert currencies and all("Code" in c for c in currencies)
