"""Rate limits and idempotency, as a client of Xero would meet them."""

import threading

import pytest
from xero_python.accounting import Contact, Contacts
from xero_python.exceptions import AccountingBadRequestException, RateLimitException

from .faults import Faults
from .limits import Limits
from .pytest_plugin import connect


def get_organisation(client, tenant_id):
	return client.accounting.get_organisations(tenant_id, _return_http_data_only=False)


def test_61st_call_in_a_minute_is_refused_with_retry_after(emulator_factory):
	emu = emulator_factory(time_scale=1)
	client, tenant_id = connect(emu)
	for _ in range(60):
		_, _, headers = get_organisation(client, tenant_id)
	assert headers["X-MinLimit-Remaining"] == "0"
	assert headers["X-DayLimit-Remaining"] == "4940"

	with pytest.raises(RateLimitException) as throttled:
		get_organisation(client, tenant_id)
	assert throttled.value.rate_limit == "minute"
	assert 1 <= int(throttled.value.headers["Retry-After"]) <= 60
	assert emu.rate_limited_count["minute"] == 1

	emu.clock.advance(60)
	_, status, _ = get_organisation(client, tenant_id)
	assert status == 200


def test_retry_after_is_in_emulated_seconds_with_the_time_scale_alongside(emulator_factory):
	emu = emulator_factory(time_scale=600, limits=Limits(per_minute=2))
	client, tenant_id = connect(emu)
	emu.clock.advance(1)
	get_organisation(client, tenant_id)
	get_organisation(client, tenant_id)
	with pytest.raises(RateLimitException) as throttled:
		get_organisation(client, tenant_id)
	assert float(throttled.value.headers["X-Emulator-Time-Scale"]) == 600
	assert int(throttled.value.headers["Retry-After"]) > 1


def test_daily_limit(emulator_factory):
	emu = emulator_factory(time_scale=1, limits=Limits(per_day=3))
	client, tenant_id = connect(emu)
	for _ in range(3):
		emu.clock.advance(61)  # stay clear of the minute window
		get_organisation(client, tenant_id)
	with pytest.raises(RateLimitException) as throttled:
		get_organisation(client, tenant_id)
	assert throttled.value.rate_limit == "day"
	assert int(throttled.value.headers["Retry-After"]) > 80000
	emu.clock.advance(86400)
	client, _ = connect(emu, tenant_id)  # the old access token expired during that day
	assert get_organisation(client, tenant_id)[1] == 200


def test_app_wide_minute_limit_spans_organisations(emulator_factory):
	emu = emulator_factory(time_scale=1, limits=Limits(app_per_minute=3))
	first, first_tenant = connect(emu)
	second, second_tenant = connect(emu)
	for client, tenant_id in ((first, first_tenant), (second, second_tenant), (first, first_tenant)):
		get_organisation(client, tenant_id)
	with pytest.raises(RateLimitException) as throttled:
		get_organisation(second, second_tenant)
	assert throttled.value.rate_limit == "appminute"


def test_more_than_the_concurrent_limit_in_flight_is_refused(emulator_factory):
	emu = emulator_factory(time_scale=1, limits=Limits(concurrent=2))
	client, tenant_id = connect(emu)
	clients = [client, *(connect(emu, tenant_id=tenant_id)[0] for _ in range(3))]
	emu.faults = Faults(latency_ms=400)  # each call stays in flight while the others arrive
	start = threading.Barrier(len(clients))
	outcomes = []

	def call(sdk):
		start.wait()
		try:
			get_organisation(sdk, tenant_id)
			outcomes.append("ok")
		except RateLimitException as error:
			outcomes.append(error.rate_limit)

	threads = [threading.Thread(target=call, args=(sdk,)) for sdk in clients]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join()
	assert sorted(outcomes) == ["concurrent", "concurrent", "ok", "ok"]


def test_idempotent_replay_writes_once_and_a_changed_body_is_refused(emulator, xero, tenant_id):
	def create(name):
		contacts = Contacts(contacts=[Contact(name=name)])
		return xero.accounting.create_contacts(tenant_id, contacts, idempotency_key="sync-42").contacts[0]

	first = create("Acme Ltd")
	replay = create("Acme Ltd")
	assert replay.contact_id == first.contact_id
	assert len(emulator.org(tenant_id).contacts) == 1
	assert emulator.idempotent_replays == 1

	with pytest.raises(AccountingBadRequestException):
		create("Another Ltd")

	emulator.clock.advance(6 * 60 + 1)  # the key is forgotten after six minutes
	assert create("Another Ltd").contact_id != first.contact_id
	assert len(emulator.org(tenant_id).contacts) == 2
	assert emulator.call_count("PUT", "/api.xro/2.0/Contacts", tenant=tenant_id) == 4
