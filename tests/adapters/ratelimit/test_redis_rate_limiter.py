"""RedisRateLimiter beyond the contract: one limit shared by several processes, keys expire."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from adapters.ratelimit.redis_limiter import RedisRateLimiter
from application.errors import ServiceUnavailable

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("CANON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    value = f"canon-test:ratelimit:{uuid.uuid4().hex}:"
    yield value
    client = aioredis.Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=value + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_two_processes_share_one_limit(prefix: str) -> None:
    first = RedisRateLimiter.from_url(REDIS_URL, key_prefix=prefix)
    second = RedisRateLimiter.from_url(REDIS_URL, key_prefix=prefix)
    try:
        allowed = [
            (await limiter.hit("shared", limit=4, window_seconds=60)).allowed
            for limiter in [first, second] * 3
        ]
        assert allowed == [True, True, True, True, False, False]
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_key_expires_once_its_slot_is_free(prefix: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        limiter = RedisRateLimiter(client, key_prefix=prefix)
        await limiter.hit("visitor", limit=10, window_seconds=60)
        ttl_ms = await client.pttl(prefix + "visitor")
        assert 5_000 <= ttl_ms <= 6_000  # one interval: 60 s / 10
        await limiter.hit("visitor", limit=10, window_seconds=60)
        assert 11_000 <= await client.pttl(prefix + "visitor") <= 12_000
    finally:
        await client.aclose()


async def test_an_unreachable_redis_is_service_unavailable(prefix: str) -> None:
    limiter = RedisRateLimiter.from_url("redis://127.0.0.1:1/0", key_prefix=prefix)
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            await limiter.hit("k", limit=1, window_seconds=1)
        assert caught.value.code == "rate-limiter-unavailable"
    finally:
        await limiter.aclose()
