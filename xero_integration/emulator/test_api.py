"""Spec validation, bad input, list features, faults, and the command-line emulator."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import urllib3
from xero_python.accounting import Contact, Contacts, Invoice, Invoices, LineItem
from xero_python.exceptions import HTTPStatusException, NotFoundException

from ..core.where import equals
from . import spec
from .faults import Faults
from .objects import contacts
from .sdk import sdk_client

REPO = Path(__file__).resolve().parents[2]


def raw(emulator, xero, tenant_id, method, path, **kwargs) -> requests.Response:
	headers = {
		"Authorization": f"Bearer {xero.token['access_token']}",
		"xero-tenant-id": tenant_id,
		**kwargs.pop("headers", {}),
	}
	return requests.request(method, f"{emulator.base_url}/api.xro/2.0{path}", headers=headers, **kwargs)


def test_xeros_spec_ships_in_the_package(monkeypatch):
	monkeypatch.delenv("XERO_OPENAPI_DIR", raising=False)
	folder = spec.spec_dir()
	assert folder == Path(spec.__file__).resolve().parent / "openapi"
	shipped = {path.name for path in folder.iterdir()}
	assert {"xero_accounting.yaml", "xero-identity.yaml", "LICENSE", "README.md"} <= shipped


def test_spec_invalid_body_is_a_400_and_recorded(emulator, xero, tenant_id):
	answer = raw(emulator, xero, tenant_id, "PUT", "/Invoices", json={"Invoices": [{"Type": "SALE"}]})
	assert answer.status_code == 400
	assert answer.json()["Type"] == "PostDataInvalidException"
	assert [(v.method, v.path) for v in emulator.violations] == [("PUT", "/api.xro/2.0/Invoices")]
	assert "'SALE' is not one of" in emulator.violations[0].message
	with pytest.raises(AssertionError, match="SALE"):
		emulator.assert_no_violations()
	assert not emulator.org(tenant_id).invoices
	emulator.violations.clear()  # seen; the fixture would otherwise fail this test


def test_malformed_json_and_wrong_content_type_are_400_not_crashes(emulator, xero, tenant_id):
	not_json = raw(
		emulator,
		xero,
		tenant_id,
		"POST",
		"/Contacts",
		data="{oops",
		headers={"Content-Type": "application/json"},
	)
	as_text = raw(
		emulator, xero, tenant_id, "POST", "/Contacts", data="Name=x", headers={"Content-Type": "text/plain"}
	)
	assert (not_json.status_code, as_text.status_code) == (400, 400)
	assert len(emulator.violations) == 2
	assert emulator.emulator_errors == []
	emulator.violations.clear()


def test_unknown_ids_are_404(xero, tenant_id):
	for lookup in (xero.accounting.get_invoice, xero.accounting.get_contact, xero.accounting.get_payment):
		with pytest.raises(NotFoundException):
			lookup(tenant_id, "00000000-0000-0000-0000-000000000001")


def test_pages_filters_and_if_modified_since(emulator, xero, tenant_id):
	names = [f"Customer {n}" for n in range(5)]
	created = xero.accounting.create_contacts(
		tenant_id, Contacts(contacts=[Contact(name=n, contact_number=f"C{i}") for i, n in enumerate(names)])
	).contacts
	page = xero.accounting.get_contacts(tenant_id, page=2, page_size=2, order="Name DESC")
	assert [c.name for c in page.contacts] == ["Customer 2", "Customer 1"]
	assert (page.pagination.page_count, page.pagination.item_count) == (3, 5)

	assert [
		c.name for c in xero.accounting.get_contacts(tenant_id, where='ContactNumber=="C3"').contacts
	] == ["Customer 3"]
	by_ids = xero.accounting.get_contacts(tenant_id, i_ds=[created[0].contact_id, created[4].contact_id])
	assert sorted(c.name for c in by_ids.contacts) == ["Customer 0", "Customer 4"]

	emulator.clock.advance(10)
	since = emulator.clock.utcnow().replace(tzinfo=None)  # xero-python sends a naive datetime without offset
	emulator.clock.advance(10)
	xero.accounting.update_contact(
		tenant_id,
		created[1].contact_id,
		Contacts(contacts=[Contact(contact_id=created[1].contact_id, email_address="new@example.com")]),
	)
	changed = xero.accounting.get_contacts(tenant_id, if_modified_since=since)
	assert [c.name for c in changed.contacts] == ["Customer 1"]


def test_where_reads_quotes_written_twice_and_joiners_inside_text(emulator, xero, tenant_id):
	odd = ['Shop "North"', "Smith && Sons", "Plain"]
	xero.accounting.create_contacts(
		tenant_id, Contacts(contacts=[Contact(name=n, contact_number=f"Q{i}") for i, n in enumerate(odd)])
	)
	for name in odd:
		where = equals("Name", name)
		assert [c.name for c in xero.accounting.get_contacts(tenant_id, where=where).contacts] == [name]
	found = xero.accounting.get_contacts(tenant_id, where=f'{equals("Name", odd[1])} AND ContactNumber=="Q1"')
	assert [c.name for c in found.contacts] == [odd[1]]
	# Unescaped, the quote ends the literal early: Xero refuses the request.
	refused = raw(emulator, xero, tenant_id, "GET", "/Contacts", params={"where": 'Name=="Shop "North""'})
	assert refused.status_code == 400


def test_invoice_filters_and_unpaged_lists_without_line_items(xero, tenant_id):
	contact = xero.accounting.create_contacts(
		tenant_id, Contacts(contacts=[Contact(name="Acme Ltd")])
	).contacts[0]

	def invoice(status, type_="ACCREC"):
		line = LineItem(description="Work", quantity=1, unit_amount=10, account_code="200")
		return Invoice(
			type=type_, contact=Contact(contact_id=contact.contact_id), status=status, line_items=[line]
		)

	batch = [invoice("DRAFT"), invoice("AUTHORISED"), invoice("AUTHORISED", "ACCPAY")]
	xero.accounting.create_invoices(tenant_id, Invoices(invoices=batch))
	authorised = xero.accounting.get_invoices(tenant_id, statuses=["AUTHORISED"])
	assert sorted(i.type for i in authorised.invoices) == ["ACCPAY", "ACCREC"]
	assert all(not i.line_items for i in authorised.invoices)
	sales = xero.accounting.get_invoices(tenant_id, where='Type=="ACCREC" AND Status=="AUTHORISED"', page=1)
	assert [(i.type, i.status) for i in sales.invoices] == [("ACCREC", "AUTHORISED")]
	assert sales.invoices[0].line_items[0].line_amount == 10


def test_outage_answers_503(emulator, xero, tenant_id):
	emulator.outage(True)
	with pytest.raises(HTTPStatusException) as down:
		xero.accounting.get_organisations(tenant_id)
	assert down.value.status == 503
	emulator.outage(False)
	assert xero.accounting.get_organisations(tenant_id).organisations


def test_faults_are_seeded_and_repeatable(emulator, xero, tenant_id):
	def run():
		emulator.faults = Faults(http_500=0.3, http_503=0.2, seed=7)
		outcomes = []
		for _ in range(12):
			try:
				xero.accounting.get_organisations(tenant_id)
				outcomes.append(200)
			except HTTPStatusException as error:
				outcomes.append(error.status)
		return outcomes

	first = run()
	assert first == run()
	assert {200, 500, 503} <= set(first)


def test_commit_then_drop_writes_without_answering(emulator, xero, tenant_id):
	emulator.faults = Faults(commit_then_drop=1.0, only_paths=("/Contacts",))
	with pytest.raises(urllib3.exceptions.HTTPError):
		xero.accounting.update_or_create_contacts(
			tenant_id, Contacts(contacts=[Contact(name="Lost Answer Ltd")])
		)
	assert [c["Name"] for c in emulator.org(tenant_id).contacts.values()] == ["Lost Answer Ltd"]
	assert xero.accounting.get_organisations(tenant_id).organisations  # other paths are unaffected


def test_timeout_fault_holds_then_drops_without_writing(emulator, xero, tenant_id):
	emulator.faults = Faults(timeout=1.0, timeout_seconds=0.2)
	with pytest.raises(urllib3.exceptions.HTTPError):
		xero.accounting.update_or_create_contacts(tenant_id, Contacts(contacts=[Contact(name="Never Ltd")]))
	assert not emulator.org(tenant_id).contacts


def test_command_line_emulator_is_driven_through_control_endpoints():
	command = [sys.executable, "-m", "xero_integration.emulator", "--time-scale", "60", "--org", "Cli Ltd"]
	command += ["--client-id", "cli-app", "--client-secret", "cli-secret"]
	process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
	try:
		started = json.loads(process.stdout.readline())
		base_url, (tenant_id,) = started["base_url"], started["tenants"]
		assert base_url.startswith("http://127.0.0.1:")
		token = requests.post(
			f"{base_url}/_emulator/tokens", json={"client_id": "cli-app", "tenant_ids": [tenant_id]}
		).json()
		client = sdk_client(base_url, "cli-app", "cli-secret", token)
		client.accounting.create_contacts(tenant_id, Contacts(contacts=[Contact(name="Remote Ltd")]))
		state = requests.get(f"{base_url}/_emulator/state/{tenant_id}").json()
		assert [c["Name"] for c in state["contacts"]] == ["Remote Ltd"]
		calls = requests.get(f"{base_url}/_emulator/calls").json()
		assert {"tenant": tenant_id, "method": "PUT", "path": "/api.xro/2.0/Contacts", "status": 200} in calls
		assert requests.get(f"{base_url}/_emulator/violations").json()["violations"] == []
	finally:
		process.terminate()
		process.wait(timeout=10)


def test_an_emulator_bug_is_a_500_and_fails_the_violation_check(emulator, xero, tenant_id, monkeypatch):
	def broken(*args, **kwargs):
		raise RuntimeError("boom")

	monkeypatch.setattr(contacts, "save", broken)
	with pytest.raises(HTTPStatusException) as failed:
		xero.accounting.create_contacts(tenant_id, Contacts(contacts=[Contact(name="Acme Ltd")]))
	assert failed.value.status == 500
	with pytest.raises(AssertionError, match="RuntimeError: boom"):
		emulator.assert_no_violations()
	emulator.emulator_errors.clear()
