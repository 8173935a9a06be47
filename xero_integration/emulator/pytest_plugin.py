"""pytest fixtures for tests that talk to the Xero emulator.

Use from any test package with `from xero_integration.emulator.pytest_plugin import *` in its conftest.py.
The `emulator` fixture fails the test at teardown if a request broke Xero's spec or the emulator erred.
"""

import pytest

from .identity import DEFAULT_SCOPES
from .sdk import SdkClient, sdk_client
from .server import XeroEmulator

CLIENT_ID = "emulator-test-app"
CLIENT_SECRET = "emulator-test-secret"


@pytest.fixture
def emulator_factory():
	"""Start emulators with custom settings (limits, time scale); each is stopped and checked for violations."""
	started = []

	def start(**settings) -> XeroEmulator:
		emu = XeroEmulator(**settings)
		emu.start()
		emu.register_client(CLIENT_ID, CLIENT_SECRET)
		started.append(emu)
		return emu

	yield start
	for emu in started:
		emu.stop()
	for emu in started:
		emu.assert_no_violations()


@pytest.fixture
def emulator(emulator_factory) -> XeroEmulator:
	# 60x: an emulated minute passes in a real second, so waits for Xero's windows stay short.
	return emulator_factory(time_scale=60, seed=0)


@pytest.fixture
def tenant_id(emulator) -> str:
	return emulator.add_organisation()


def connect(emu: XeroEmulator, tenant_id: str | None = None, scopes: str = DEFAULT_SCOPES):
	"""(SDK client, tenant id): a fresh consent of the test app to tenant_id (a new organisation if None)."""
	tenant_id = tenant_id or emu.add_organisation()
	token = emu.issue_tokens(CLIENT_ID, [tenant_id], scopes)
	return sdk_client(emu.base_url, CLIENT_ID, CLIENT_SECRET, token), tenant_id


@pytest.fixture
def xero(emulator, tenant_id) -> SdkClient:
	"""The real xero-python SDK, connected to the emulator's organisation with the app's scopes."""
	return connect(emulator, tenant_id)[0]


__all__ = ["CLIENT_ID", "CLIENT_SECRET", "connect", "emulator", "emulator_factory", "tenant_id", "xero"]
