"""Wire the real xero-python SDK to an emulator (tests and benchmarks)."""

import functools
from dataclasses import dataclass

from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.identity import IdentityApi

from xero_integration.core.client import sdk_configuration


@dataclass
class SdkClient:
	api_client: ApiClient
	accounting: AccountingApi
	identity: IdentityApi
	token: dict  # the current token set; the SDK's saver replaces it after a refresh


def point_token_api_at(base_url: str) -> None:
	"""TokenApi keeps Xero's identity URLs in class attributes: this redirects every client in the process."""
	TokenApi.refresh_token_url = f"{base_url}/connect/token"
	TokenApi.client_credentials_token_url = f"{base_url}/connect/token"
	TokenApi.revoke_token_url = f"{base_url}/connect/revocation"


def sdk_client(
	base_url: str, client_id: str, client_secret: str, token: dict, retries: bool = False
) -> SdkClient:
	"""retries=False turns off urllib3's hidden retries: by default xero-python (urllib3 2.x) repeats GET, PUT
	and DELETE up to 3 times after a connection error, or after a 429/503 carrying Retry-After, sleeping
	Retry-After real seconds. Tests need to see every answer."""
	point_token_api_at(base_url)
	api_client = ApiClient(
		sdk_configuration(OAuth2Token(client_id=client_id, client_secret=client_secret)),
		pool_threads=1,
	)
	if not retries:
		pool = api_client.rest_client.pool_manager
		pool.request = functools.partial(pool.request, retries=False)
	client = SdkClient(
		api_client,
		AccountingApi(api_client, base_url=f"{base_url}/api.xro/2.0"),
		IdentityApi(api_client, base_url=base_url),
		dict(token),
	)
	api_client.oauth2_token_getter(lambda: client.token)
	api_client.oauth2_token_saver(lambda new_token: setattr(client, "token", new_token))
	return client
