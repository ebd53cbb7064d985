"""The RateLimiter contract, run against every adapter (in-memory and Redis).

Redis is the server at CANON_TEST_REDIS_URL (default 127.0.0.1:6379, db 0) under a key prefix
unique to this test run, deleted afterwards. If Redis is down these tests FAIL: a limiter that
several API processes share must not silently go untested.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from adapters.ratelimit.memory_limiter import InMemoryRateLimiter
from adapters.ratelimit.redis_limiter import RedisRateLimiter
from application.identity.ports import RateLimiter

REDIS_URL = os.environ.get("CANON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class RateLimiterContract:
    """Subclass once per adapter and provide the ``limiter`` fixture (a fresh, empty limiter)."""

    async def test_starts_clean_the_first_hit_is_allowed_with_the_rest_remaining(
        self, limiter: RateLimiter
    ) -> None:
        decision = await limiter.hit("login:203.0.113.7", limit=5, window_seconds=60)
        assert decision.allowed
        assert decision.remaining == 4
        assert decision.retry_after_seconds == 0

    async def test_a_burst_of_limit_is_allowed_then_refused(self, limiter: RateLimiter) -> None:
        decisions = [await limiter.hit("burst", limit=3, window_seconds=60) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
        refused = decisions[-1]
        assert refused.retry_after_seconds in range(1, 21)  # one slot frees every 60/3 seconds

    async def test_refused_hits_are_not_counted(self, limiter: RateLimiter) -> None:
        for _ in range(3):
            await limiter.hit("hammer", limit=3, window_seconds=60)
        retries = [await limiter.hit("hammer", limit=3, window_seconds=60) for _ in range(10)]
        assert not any(d.allowed for d in retries)
        # hammering did not push the next slot further away
        assert max(d.retry_after_seconds for d in retries) <= 20

    async def test_keys_are_independent(self, limiter: RateLimiter) -> None:
        assert (await limiter.hit("a", limit=1, window_seconds=60)).allowed
        assert not (await limiter.hit("a", limit=1, window_seconds=60)).allowed
        assert (await limiter.hit("b", limit=1, window_seconds=60)).allowed

    async def test_a_slot_frees_after_one_interval(self, limiter: RateLimiter) -> None:
        # limit 4 per 1 s: one slot every 0.25 s
        for _ in range(4):
            assert (await limiter.hit("steady", limit=4, window_seconds=1)).allowed
        assert not (await limiter.hit("steady", limit=4, window_seconds=1)).allowed
        await asyncio.sleep(0.3)
        assert (await limiter.hit("steady", limit=4, window_seconds=1)).allowed
        assert not (await limiter.hit("steady", limit=4, window_seconds=1)).allowed

    async def test_the_whole_burst_is_back_after_a_window(self, limiter: RateLimiter) -> None:
        for _ in range(2):
            await limiter.hit("idle", limit=2, window_seconds=1)
        await asyncio.sleep(1.05)
        decision = await limiter.hit("idle", limit=2, window_seconds=1)
        assert decision.allowed
        assert decision.remaining == 1

    async def test_concurrent_hits_never_exceed_the_limit(self, limiter: RateLimiter) -> None:
        decisions = await asyncio.gather(
            *(limiter.hit("race", limit=10, window_seconds=60) for _ in range(60))
        )
        assert sum(d.allowed for d in decisions) == 10
        assert sorted(d.remaining for d in decisions if d.allowed) == list(range(10))

    async def test_large_limits_allow_exactly_limit(self, limiter: RateLimiter) -> None:
        decisions = [await limiter.hit("big", limit=500, window_seconds=3600) for _ in range(501)]
        assert sum(d.allowed for d in decisions) == 500
        assert not decisions[-1].allowed

    @pytest.mark.parametrize(("limit", "window"), [(0, 60), (-1, 60), (5, 0), (5, -10)])
    async def test_a_limit_or_window_below_one_is_refused(
        self, limiter: RateLimiter, limit: int, window: int
    ) -> None:
        with pytest.raises(ValueError, match="limit"):
            await limiter.hit("bad", limit=limit, window_seconds=window)


class TestInMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture
    def limiter(self) -> RateLimiter:
        return InMemoryRateLimiter()


@pytest.mark.redis
class TestRedisRateLimiter(RateLimiterContract):
    @pytest.fixture
    async def limiter(self) -> AsyncIterator[RateLimiter]:
        client = aioredis.Redis.from_url(REDIS_URL)
        await client.ping()  # Redis down: the test fails here, it is never skipped
        prefix = f"canon-test:ratelimit:{uuid.uuid4().hex}:"
        assert [key async for key in client.scan_iter(match=prefix + "*")] == []
        try:
            yield RedisRateLimiter(client, key_prefix=prefix)
        finally:
            keys = [key async for key in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
