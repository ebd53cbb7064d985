"""``RedisRateLimiter``: the same GCRA as ``InMemoryRateLimiter``, shared by every API process.

The read-decide-write runs as one Lua script, which Redis executes atomically, so concurrent
hits from several processes can never both take the last slot. The time comes from the Redis
server (``TIME``), not from each process, so machines with skewed clocks still share one limit.
Each key expires once its TAT has passed, so idle keys cost nothing.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from adapters.ratelimit.memory_limiter import validate
from application.errors import ServiceUnavailable
from application.identity.ports import RateDecision

# Times are microseconds since 2023-11-14 (an offset keeps them small, so doubles stay precise).
# The slack of one microsecond per hit matches EPSILON_PER_HIT_SECONDS of the in-memory limiter.
_GCRA = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2]) * 1000000
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1700000000) * 1000000 + tonumber(t[2])
local interval = window / limit
local epsilon = limit
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then tat = math.max(tonumber(stored), now) end
local new_tat = tat + interval
local allow_at = new_tat - window
if allow_at - now > epsilon then
  return {0, 0, math.ceil((allow_at - now) / 1000000)}
end
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at + epsilon) / interval), 0}
"""


class RedisRateLimiter:
    def __init__(self, client: aioredis.Redis, *, key_prefix: str = "canon:ratelimit:") -> None:
        self._client = client
        self._prefix = key_prefix
        self._script = client.register_script(_GCRA)
        self._owns_client = False

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "canon:ratelimit:") -> RedisRateLimiter:
        limiter = cls(aioredis.Redis.from_url(url), key_prefix=key_prefix)
        limiter._owns_client = True
        return limiter

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        validate(limit, window_seconds)
        try:
            result: Any = await self._script(keys=[self._prefix + key], args=[limit, window_seconds])
        except RedisError as error:
            raise ServiceUnavailable(
                f"the rate limiter's Redis is unavailable: {error}", code="rate-limiter-unavailable"
            ) from error
        allowed, remaining, retry_after = (int(value) for value in result)
        return RateDecision(
            allowed=bool(allowed),
            remaining=max(0, remaining),
            retry_after_seconds=0 if allowed else max(1, retry_after),
        )
