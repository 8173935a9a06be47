"""pytest fixtures for tests that talk to the Xero emulator.

Use from any test package with `from xero_integration.emulator.pytest_plugin import *` in its conftest.py.
The `emulator` fixture fails the test at teardown if a request broke Xero's spec or the emulator erred.
"""

import pytest

from .sdk import SdkClient, sdk_client
from .server import XeroEmulator

CLIENT_ID = "emulator-test-app"
CLIENT_SECRET = "emulator-test-secret"


@pytest.fixture
def emulator():
	# 60x: an emulated minute passes in a real second, so rate-limit windows can be crossed quickly.
	emu = XeroEmulator(time_scale=60, seed=0)
	emu.start()
	emu.register_client(CLIENT_ID, CLIENT_SECRET)
	try:
		yield emu
	finally:
		emu.stop()
	emu.assert_no_violations()


@pytest.fixture
def tenant_id(emulator) -> str:
	return emulator.add_organisation()


@pytest.fixture
def xero(emulator, tenant_id) -> SdkClient:
	"""The real xero-python SDK, connected to the emulator's organisation with the app's scopes."""
	return sdk_client(
		emulator.base_url, CLIENT_ID, CLIENT_SECRET, emulator.issue_tokens(CLIENT_ID, [tenant_id])
	)


__all__ = ["CLIENT_ID", "CLIENT_SECRET", "emulator", "tenant_id", "xero"]
