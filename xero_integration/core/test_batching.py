import pytest

from xero_integration.core import batching


def test_chunks_hold_at_most_fifty_elements_and_keep_order():
	groups = list(batching.chunks([{"Name": str(i)} for i in range(120)]))
	assert [len(g) for g in groups] == [50, 50, 20]
	assert [i for g in groups for i in g] == list(range(120))


def test_chunks_split_on_body_size_before_element_count(monkeypatch):
	monkeypatch.setattr(batching, "MAX_BODY_BYTES", 100)
	groups = list(batching.chunks([{"Description": "x" * 40} for _ in range(5)]))
	assert all(len(g) <= 2 for g in groups)
	assert sum(len(g) for g in groups) == 5


def test_split_results_gives_each_document_its_own_outcome():
	sent = [{"InvoiceNumber": "A"}, {"InvoiceNumber": "B"}]
	body = {
		"Invoices": [
			{"InvoiceID": "id-a", "StatusAttributeString": "OK"},
			{
				"InvoiceID": "00000000-0000-0000-0000-000000000000",
				"StatusAttributeString": "ERROR",
				"HasErrors": True,
				"ValidationErrors": [{"Message": "Invoice # must be unique."}],
			},
		]
	}
	ok, failed = batching.split_results("Invoice", sent, body)
	assert ok.ok and ok.xero_id == "id-a"
	assert not failed.ok and failed.xero_id is None
	assert failed.errors == ["Invoice # must be unique."]


def test_split_results_refuses_a_response_that_does_not_line_up():
	with pytest.raises(ValueError):
		batching.split_results("Contact", [{}, {}], {"Contacts": [{"ContactID": "x"}]})


def test_idempotency_key_is_stable_per_batch_and_within_xeros_limit():
	key = batching.idempotency_key("tenant", "Invoice-upsert", ["OUT-1:abc", "OUT-2:def"])
	assert key == batching.idempotency_key("tenant", "Invoice-upsert", ["OUT-1:abc", "OUT-2:def"])
	assert key != batching.idempotency_key("tenant", "Invoice-upsert", ["OUT-1:abc"])
	assert len(key) <= 128
