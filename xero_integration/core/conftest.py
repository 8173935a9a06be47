# The emulator's fixtures (each started emulator fails its test on any spec violation).
from xero_integration.emulator.pytest_plugin import emulator, emulator_factory, tenant_id
