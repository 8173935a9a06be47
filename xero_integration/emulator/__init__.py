"""A local stand-in for Xero (identity + Accounting API) that behaves like Xero. See README.md."""

from .clock import Clock
from .faults import Faults
from .limits import Limits
from .server import CallRecord, Violation, XeroEmulator
from .webhooks import IntentProbe, signature

__all__ = ["CallRecord", "Clock", "Faults", "IntentProbe", "Limits", "Violation", "XeroEmulator", "signature"]
