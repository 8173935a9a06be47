from urllib.parse import parse_qs, urlparse

from xero_integration.core import oauth


def test_pkce_challenge_matches_rfc7636_example():
	# RFC 7636, appendix B.
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	assert oauth.pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_new_pkce_pair_is_fresh_and_within_rfc_lengths():
	first, second = oauth.new_pkce_pair(), oauth.new_pkce_pair()
	assert first != second
	verifier, challenge = first
	assert 43 <= len(verifier) <= 128
	assert challenge == oauth.pkce_challenge(verifier)


def test_authorization_url_carries_state_pkce_and_granular_scopes():
	url = oauth.authorization_url(
		"http://127.0.0.1:9/", "client", "http://127.0.0.1/cb", oauth.DEFAULT_SCOPES, "st", "ch"
	)
	parsed = urlparse(url)
	query = parse_qs(parsed.query)
	assert parsed.path == "/identity/connect/authorize"
	assert query["state"] == ["st"]
	assert query["code_challenge"] == ["ch"]
	assert query["code_challenge_method"] == ["S256"]
	assert "accounting.invoices" in query["scope"][0].split()
	assert "accounting.transactions" not in query["scope"][0]


def test_token_set_refreshes_before_expiry_and_hides_tokens_in_repr():
	tokens = oauth.TokenSet.from_response(
		{"access_token": "secret-access", "refresh_token": "secret-refresh", "expires_in": 1800}, now=1000.0
	)
	assert tokens.expires_at == 2800.0
	assert not tokens.needs_refresh(now=2000.0)
	assert tokens.needs_refresh(now=2700.0)
	assert "secret" not in repr(tokens)
