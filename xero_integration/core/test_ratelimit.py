import uuid

import pytest
import redis

from xero_integration.core.ratelimit import Limits, RateLimitWait, TenantRateLimiter


class FakeClock:
	def __init__(self):
		self.now = 1_000_000.0

	def __call__(self):
		return self.now

	def sleep(self, seconds):
		self.now += seconds


@pytest.fixture
def redis_client():
	client = redis.Redis(host="127.0.0.1", port=6379)
	client.ping()
	return client


@pytest.fixture
def make_limiter(redis_client):
	namespace = f"test-{uuid.uuid4().hex}"
	clock = FakeClock()

	def make(tenant="tenant-a", **limits):
		return TenantRateLimiter(
			redis_client, tenant, Limits(**limits), namespace=namespace, clock=clock, sleep=clock.sleep
		)

	yield make, clock
	for key in redis_client.scan_iter(f"{namespace}:*"):
		redis_client.delete(key)


def test_sixty_calls_a_minute_then_wait_for_the_window(make_limiter):
	make, clock = make_limiter
	limiter = make()
	for _ in range(60):
		limiter.acquire(max_wait=0).release()
	permit, reason, wait = limiter.try_acquire()
	assert permit is None and reason == "minute"
	# Xero's minute, plus the small margin that absorbs network jitter.
	assert 60.0 < wait == pytest.approx(limiter.limits.window_seconds(60))
	with pytest.raises(RateLimitWait):
		limiter.acquire(max_wait=10)
	# Waiting is allowed: the limiter sleeps until the oldest call leaves the window.
	limiter.acquire(max_wait=62).release()
	assert clock.now >= 1_000_060.0


def test_workers_share_one_budget_per_tenant_and_tenants_are_independent(make_limiter):
	make, _ = make_limiter
	worker_one, worker_two = make(per_minute=4), make(per_minute=4)
	for limiter in (worker_one, worker_two):
		limiter.acquire(max_wait=0).release()
		limiter.acquire(max_wait=0).release()
	assert worker_one.try_acquire()[1] == "minute"
	assert make("tenant-b", per_minute=4).try_acquire()[1] == "ok"


def test_concurrency_slots_are_returned_on_release_and_expire_for_dead_workers(make_limiter):
	make, clock = make_limiter
	limiter = make(concurrent=2)
	first = limiter.acquire(max_wait=0)
	limiter.acquire(max_wait=0)  # never released: a worker killed mid-call
	assert limiter.try_acquire()[1] == "concurrent"
	first.release()
	assert limiter.try_acquire()[1] == "ok"
	clock.now += 121
	assert limiter.status()["in_flight"] == 0


def test_retry_after_blocks_every_worker_and_is_scaled(make_limiter):
	make, clock = make_limiter
	limiter = make(time_scale=60)
	limiter.observe(429, {"Retry-After": "30", "X-Rate-Limit-Problem": "minute"})
	permit, reason, wait = make(time_scale=60).try_acquire()
	assert permit is None and reason == "minute"
	assert wait == pytest.approx(0.5)
	clock.now += 0.6
	assert limiter.try_acquire()[1] == "ok"


def test_xero_remaining_headers_correct_our_count(make_limiter):
	make, _ = make_limiter
	limiter = make(per_minute=60, per_day=5000)
	limiter.observe(200, {"X-MinLimit-Remaining": "2", "X-DayLimit-Remaining": "100"})
	status = limiter.status()
	assert status["minute_remaining"] == 2
	assert status["day_remaining"] == 100
	limiter.acquire(max_wait=0).release()
	limiter.acquire(max_wait=0).release()
	assert limiter.try_acquire()[1] == "minute"


def test_daily_budget_pauses_with_a_clear_reason(make_limiter):
	make, _ = make_limiter
	limiter = make(per_day=3)
	for _ in range(3):
		limiter.acquire(max_wait=0).release()
	with pytest.raises(RateLimitWait) as caught:
		limiter.acquire(max_wait=60)
	assert caught.value.reason == "day"
	assert caught.value.wait_seconds > 80000
