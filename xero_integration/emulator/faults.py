"""Faults on demand: server errors, throttling, latency, hung requests and lost answers, seeded so a run repeats."""

import random
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Faults:
	"""Rates are probabilities per API call; draws come from random.Random(seed) in call order.

	timeout holds the request open for timeout_seconds (real seconds) and then drops the connection;
	commit_then_drop performs the write and closes the socket without an answer.
	only_paths limits faults to API paths starting with one of these prefixes (e.g. "/Invoices").
	"""

	http_500: float = 0.0
	http_503: float = 0.0
	http_429: float = 0.0
	timeout: float = 0.0
	commit_then_drop: float = 0.0
	latency_ms: int = 0
	seed: int = 1
	only_paths: tuple[str, ...] | None = None
	timeout_seconds: float = 30.0

	def applies_to(self, resource_path: str) -> bool:
		if self.only_paths is None:
			return True
		lowered = resource_path.lower()
		return any(lowered.startswith(prefix.lower()) for prefix in self.only_paths)


FAULT_KINDS = ("http_500", "http_503", "http_429", "timeout", "commit_then_drop")


class FaultInjector:
	def __init__(self, faults: Faults | None = None):
		self._lock = threading.Lock()
		self.configure(faults or Faults())

	def configure(self, faults: Faults) -> None:
		with self._lock:
			self.faults = faults
			self._rng = random.Random(faults.seed)

	def draw(self, resource_path: str) -> str | None:
		"""The fault for this call, or None. One draw per call that the faults apply to."""
		with self._lock:
			faults = self.faults
			if not faults.applies_to(resource_path) or not any(getattr(faults, k) for k in FAULT_KINDS):
				return None
			roll = self._rng.random()
		for kind in FAULT_KINDS:
			rate = getattr(faults, kind)
			if roll < rate:
				return kind
			roll -= rate
		return None
