"""Xero's rate limits per organisation (concurrent, minute, day) and per app (minute), in emulated time."""

import math
import threading
from collections import defaultdict, deque
from dataclasses import dataclass

from .clock import Clock

MINUTE = 60
DAY = 86400


@dataclass(frozen=True)
class Limits:
	per_minute: int = 60
	per_day: int = 5000
	concurrent: int = 5
	app_per_minute: int = 10000


@dataclass(frozen=True)
class Admission:
	"""The limiter's answer for one call: allowed, or the problem and how long to wait (emulated seconds)."""

	problem: str | None
	retry_after: int
	headers: dict[str, str]


class RateLimiter:
	def __init__(self, limits: Limits, clock: Clock):
		self.limits = limits
		self.clock = clock
		self._lock = threading.Lock()
		self._in_flight: dict[str, int] = defaultdict(int)
		self._minute: dict[str, deque] = defaultdict(deque)
		self._day: dict[str, deque] = defaultdict(deque)
		self._app_minute: dict[str, deque] = defaultdict(deque)

	def admit(self, tenant_id: str, app_id: str) -> Admission:
		"""Count the call if every limit allows it; a refused call is not counted (as in Xero)."""
		with self._lock:
			now = self.clock.now()
			minute = self._prune(self._minute[tenant_id], now - MINUTE)
			day = self._prune(self._day[tenant_id], now - DAY)
			app_minute = self._prune(self._app_minute[app_id], now - MINUTE)
			problem, retry_after = None, 0
			if self._in_flight[tenant_id] >= self.limits.concurrent:
				problem, retry_after = "concurrent", 1
			elif len(minute) >= self.limits.per_minute:
				problem, retry_after = "minute", self._wait(minute, now, MINUTE)
			elif len(day) >= self.limits.per_day:
				problem, retry_after = "day", self._wait(day, now, DAY)
			elif len(app_minute) >= self.limits.app_per_minute:
				problem, retry_after = "appminute", self._wait(app_minute, now, MINUTE)
			else:
				self._in_flight[tenant_id] += 1
				for window in (minute, day, app_minute):
					window.append(now)
			headers = {
				"X-MinLimit-Remaining": str(max(self.limits.per_minute - len(minute), 0)),
				"X-DayLimit-Remaining": str(max(self.limits.per_day - len(day), 0)),
				"X-AppMinLimit-Remaining": str(max(self.limits.app_per_minute - len(app_minute), 0)),
			}
			return Admission(problem, retry_after, headers)

	def release(self, tenant_id: str) -> None:
		with self._lock:
			self._in_flight[tenant_id] -= 1

	@staticmethod
	def _prune(window: deque, since: float) -> deque:
		while window and window[0] <= since:
			window.popleft()
		return window

	@staticmethod
	def _wait(window: deque, now: float, length: int) -> int:
		return max(1, math.ceil(window[0] + length - now))
