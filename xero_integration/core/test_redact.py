from decimal import Decimal

from xero_integration.core.redact import MASK, redact, to_log_json


def test_tokens_and_secrets_are_masked_at_any_depth():
	body = {
		"access_token": "eyJ-secret",
		"nested": [{"Refresh-Token": "rt-secret", "Name": "Acme"}],
		"headers": {"Authorization": "Bearer eyJ-secret"},
	}
	masked = redact(body)
	assert masked["access_token"] == MASK
	assert masked["nested"][0] == {"Refresh-Token": MASK, "Name": "Acme"}
	assert masked["headers"]["Authorization"] == MASK
	assert "secret" not in to_log_json(body)


def test_account_codes_stay_readable_for_bookkeepers():
	payment = {"Account": {"Code": "090"}, "Amount": Decimal("10.00"), "code_verifier": "v" * 43}
	assert redact(payment) == {"Account": {"Code": "090"}, "Amount": Decimal("10.00"), "code_verifier": MASK}


def test_log_json_keeps_amounts_exact():
	text = to_log_json(b'{"Total": 1234.10, "client_secret": "s"}')
	assert '"1234.10"' in text
	assert '"s"' not in text
	assert to_log_json({"Amount": Decimal("0.30")}).count("0.30") == 1
