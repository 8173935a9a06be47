"""Emulated Xero time: real elapsed time multiplied by a time scale, plus manual advances."""

import threading
import time
from datetime import datetime, timezone


class Clock:
	"""Emulated time = start + real elapsed * time_scale + advanced offset.

	A time_scale of 60 makes one real second an emulated minute, so rate-limit windows, token lifetimes and
	the idempotency window bind in tests and benchmarks without waiting for them.
	"""

	def __init__(self, time_scale: float = 1.0, start: float | None = None):
		if time_scale <= 0:
			raise ValueError("time_scale must be positive")
		self.time_scale = float(time_scale)
		self._start = time.time() if start is None else start
		self._real_start = time.monotonic()
		self._offset = 0.0
		self._lock = threading.Lock()

	def now(self) -> float:
		"""Emulated POSIX timestamp in seconds."""
		with self._lock:
			return self._start + (time.monotonic() - self._real_start) * self.time_scale + self._offset

	def utcnow(self) -> datetime:
		return datetime.fromtimestamp(self.now(), tz=timezone.utc)

	def advance(self, seconds: float) -> None:
		if seconds < 0:
			raise ValueError("the clock only moves forward")
		with self._lock:
			self._offset += seconds
