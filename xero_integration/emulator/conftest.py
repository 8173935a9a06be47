# Re-export the fixtures for the tests beside this file.
from xero_integration.emulator.pytest_plugin import emulator, emulator_factory, tenant_id, xero
