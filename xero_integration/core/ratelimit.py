"""One rate limiter per Xero organisation, shared by every worker through Redis. Frappe-free.

Xero allows, per organisation, 5 calls in flight, 60 a minute and 5,000 a day, and 10,000 a minute
across all organisations of one app. Every worker asks the same Redis keys before it calls, so the
limits hold however many workers run. A Lua script makes check-and-take atomic.

`time_scale` is Xero seconds per real second: 1 in production; the emulator's benchmarks run at 60
(a Xero minute in one real second), and the limiter must scale its windows the same way.
"""

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

XERO_MINUTE = 60.0
XERO_DAY = 86400.0
# Real seconds added to every window, for jitter between our clock and Xero's arrival times: a busy
# worker's thread can be descheduled for tens of milliseconds between taking a place and sending.
WINDOW_MARGIN_SECONDS = 0.1
# A slot held by a worker that died is given back after this many Xero seconds.
LEASE_XERO_SECONDS = 120.0

_ACQUIRE = """
local now = tonumber(ARGV[1])
local minute, per_minute = tonumber(ARGV[2]), tonumber(ARGV[3])
local day, per_day = tonumber(ARGV[4]), tonumber(ARGV[5])
local concurrent, lease = tonumber(ARGV[6]), tonumber(ARGV[7])
local app_per_minute = tonumber(ARGV[8])
local member = ARGV[9]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - minute)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - day)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - minute)
local blocked = tonumber(redis.call('GET', KEYS[4]) or '0')
if blocked > now then
	return {redis.call('GET', KEYS[6]) or 'retry-after', tostring(blocked - now)}
end
local function wait_for_oldest(key, window)
	local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
	return tostring(tonumber(oldest[2]) + window - now)
end
if redis.call('ZCARD', KEYS[2]) >= per_day then return {'day', wait_for_oldest(KEYS[2], day)} end
if redis.call('ZCARD', KEYS[1]) >= per_minute then return {'minute', wait_for_oldest(KEYS[1], minute)} end
if redis.call('ZCARD', KEYS[5]) >= app_per_minute then return {'appminute', wait_for_oldest(KEYS[5], minute)} end
if redis.call('ZCARD', KEYS[3]) >= concurrent then return {'concurrent', tostring(minute / 600)} end
redis.call('ZADD', KEYS[1], now, member)
redis.call('ZADD', KEYS[2], now, member)
redis.call('ZADD', KEYS[3], now + lease, member)
redis.call('ZADD', KEYS[5], now, member)
redis.call('PEXPIRE', KEYS[1], math.ceil(minute * 1000))
redis.call('PEXPIRE', KEYS[2], math.ceil(day * 1000))
redis.call('PEXPIRE', KEYS[5], math.ceil(minute * 1000))
return {'ok', '0'}
"""

# Xero's own counters win over ours: another process of the same app (or an earlier run) may have
# spent calls we never saw. Pad our logs so that our remaining equals Xero's.
_SYNC_REMAINING = """
local now = tonumber(ARGV[1])
local function pad(key, used, window)
	redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
	local missing = used - redis.call('ZCARD', key)
	for i = 1, missing do redis.call('ZADD', key, now, 'xero:' .. now .. ':' .. i) end
	if missing > 0 then redis.call('PEXPIRE', key, math.ceil(window * 1000)) end
end
if ARGV[2] ~= '' then pad(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3])) end
if ARGV[4] ~= '' then pad(KEYS[2], tonumber(ARGV[4]), tonumber(ARGV[5])) end
return 1
"""


@dataclass(frozen=True)
class Limits:
	per_minute: int = 60
	per_day: int = 5000
	concurrent: int = 5
	app_per_minute: int = 10000
	time_scale: float = 1.0

	def real_seconds(self, xero_seconds: float) -> float:
		return xero_seconds / self.time_scale

	def window_seconds(self, xero_seconds: float) -> float:
		"""A window a little longer than Xero's: our calls start before Xero counts them, and requests
		overtake each other on the way, so an exact window would now and then earn a 429."""
		return self.real_seconds(xero_seconds) * 1.01 + WINDOW_MARGIN_SECONDS


class RateLimitWait(Exception):
	"""Permission would take longer than the caller may wait; `reason` is minute, day, concurrent, ..."""

	def __init__(self, reason: str, wait_seconds: float):
		self.reason = reason
		self.wait_seconds = wait_seconds
		super().__init__(f"Xero rate limit ({reason}): next call possible in {wait_seconds:.1f} s")


class Permit:
	"""One call's place in the limits; release it as soon as the HTTP response is in."""

	def __init__(self, limiter: "TenantRateLimiter", member: str):
		self._limiter = limiter
		self.member = member

	def release(self) -> None:
		self._limiter.redis.zrem(self._limiter.keys[2], self.member)

	def __enter__(self) -> "Permit":
		return self

	def __exit__(self, *exc) -> None:
		self.release()


class TenantRateLimiter:
	def __init__(
		self,
		redis,
		tenant_id: str,
		limits: Limits | None = None,
		*,
		namespace: str = "xero_integration",
		clock: Callable[[], float] = time.time,
		sleep: Callable[[float], None] = time.sleep,
	):
		self.redis = redis
		self.tenant_id = tenant_id
		self.limits = limits or Limits()
		self.clock = clock
		self.sleep = sleep
		base = f"{namespace}:ratelimit:{tenant_id}"
		self.keys = [
			f"{base}:minute",
			f"{base}:day",
			f"{base}:inflight",
			f"{base}:blocked_until",
			f"{namespace}:ratelimit:app:minute",
			f"{base}:blocked_reason",
		]
		self._acquire = redis.register_script(_ACQUIRE)
		self._sync = redis.register_script(_SYNC_REMAINING)

	def try_acquire(self) -> tuple[Permit | None, str, float]:
		"""Take a place now if the limits allow: (permit, "ok", 0) or (None, reason, seconds to wait)."""
		limits = self.limits
		member = uuid.uuid4().hex
		reason, wait = self._acquire(
			keys=self.keys,
			args=[
				repr(self.clock()),
				limits.window_seconds(XERO_MINUTE),
				limits.per_minute,
				limits.window_seconds(XERO_DAY),
				limits.per_day,
				limits.concurrent,
				limits.real_seconds(LEASE_XERO_SECONDS),
				limits.app_per_minute,
				member,
			],
		)
		reason = reason.decode() if isinstance(reason, bytes) else reason
		if reason == "ok":
			return Permit(self, member), reason, 0.0
		return None, reason, max(float(wait), 0.0)

	def acquire(self, max_wait: float = 60.0) -> Permit:
		"""Wait for a place; raise RateLimitWait at once when the wait would exceed `max_wait` seconds."""
		deadline = self.clock() + max_wait
		while True:
			permit, reason, wait = self.try_acquire()
			if permit:
				return permit
			# The daily budget never comes back within a job's patience: pause the work instead.
			if reason == "day" or self.clock() + wait > deadline:
				raise RateLimitWait(reason, wait)
			self.sleep(min(wait, max(deadline - self.clock(), 0.0)) + 0.001)

	def observe(self, status: int, headers: Mapping[str, str]) -> None:
		"""Learn from a response: Xero's remaining counts, and Retry-After on a 429."""
		headers = {k.lower(): v for k, v in headers.items()}
		limits = self.limits
		minute_left = _int_or_none(headers.get("x-minlimit-remaining"))
		day_left = _int_or_none(headers.get("x-daylimit-remaining"))
		if minute_left is not None or day_left is not None:
			self._sync(
				keys=self.keys[:2],
				args=[
					repr(self.clock()),
					"" if minute_left is None else limits.per_minute - minute_left,
					limits.window_seconds(XERO_MINUTE),
					"" if day_left is None else limits.per_day - day_left,
					limits.window_seconds(XERO_DAY),
				],
			)
		if status == 429:
			retry_after = _int_or_none(headers.get("retry-after")) or 1
			self.block_for(
				limits.real_seconds(retry_after), headers.get("x-rate-limit-problem", "retry-after")
			)

	def block_for(self, seconds: float, reason: str) -> None:
		until = self.clock() + seconds
		ttl_ms = max(int(seconds * 1000) + 1, 1)
		self.redis.set(self.keys[3], repr(until), px=ttl_ms)
		self.redis.set(self.keys[5], reason, px=ttl_ms)

	def status(self) -> dict:
		"""Where the budget stands, for a Desk indicator or a bench command."""
		now = self.clock()
		limits = self.limits
		pipe = self.redis.pipeline()
		pipe.zcount(self.keys[0], now - limits.window_seconds(XERO_MINUTE), "+inf")
		pipe.zcount(self.keys[1], now - limits.window_seconds(XERO_DAY), "+inf")
		pipe.zcount(self.keys[2], now, "+inf")
		pipe.get(self.keys[3])
		pipe.get(self.keys[5])
		minute_used, day_used, in_flight, blocked_until, reason = pipe.execute()
		blocked_for = max(float(blocked_until or 0) - now, 0.0)
		return {
			"minute_remaining": max(limits.per_minute - minute_used, 0),
			"day_remaining": max(limits.per_day - day_used, 0),
			"in_flight": in_flight,
			"blocked_for_seconds": blocked_for,
			"blocked_reason": (reason.decode() if isinstance(reason, bytes) else reason)
			if blocked_for
			else None,
		}


def _int_or_none(value) -> int | None:
	try:
		return int(value)
	except (TypeError, ValueError):
		return None
