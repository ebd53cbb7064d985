"""``InMemoryRateLimiter``: GCRA (the generic cell rate algorithm) in one process.

GCRA keeps one number per key, the "theoretical arrival time" (TAT) of the next hit; a hit is
allowed while TAT, pushed one interval (``window / limit``) further, stays within one window of
now. That gives a burst of ``limit`` and then a steady ``limit`` per window, with no per-request
log to store and no boundary effect of fixed windows. ``RedisRateLimiter`` runs the same
arithmetic, so both behave identically (one contract suite proves it).

The state is updated without awaiting, so it is atomic within an event loop; a lock also makes
it safe across threads. Keys whose TAT has passed hold no information and are swept.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from application.identity.ports import RateDecision

# The limit-th hit of a burst lands exactly on the window edge, after `limit` floating point
# additions: allow one microsecond of rounding per hit (the Redis script uses the same slack).
EPSILON_PER_HIT_SECONDS = 1e-6


def validate(limit: int, window_seconds: int) -> None:
    if limit < 1 or window_seconds < 1:
        raise ValueError("a rate limit needs limit >= 1 and window_seconds >= 1")


def gcra(tat: float, now: float, limit: int, window_seconds: int) -> tuple[RateDecision, float]:
    """One hit at ``now`` against a key whose TAT is ``tat``: the decision and the new TAT."""
    interval = window_seconds / limit
    epsilon = EPSILON_PER_HIT_SECONDS * limit
    new_tat = max(tat, now) + interval
    allow_at = new_tat - window_seconds
    if allow_at - now > epsilon:
        retry_after = max(1, math.ceil(allow_at - now))
        return RateDecision(allowed=False, remaining=0, retry_after_seconds=retry_after), tat
    remaining = math.floor((now - allow_at + epsilon) / interval)
    return RateDecision(allowed=True, remaining=max(0, remaining), retry_after_seconds=0), new_tat


class InMemoryRateLimiter:
    def __init__(
        self, *, monotonic: Callable[[], float] = time.monotonic, sweep_interval_seconds: float = 10.0
    ) -> None:
        self._monotonic = monotonic
        self._tats: dict[str, float] = {}
        self._lock = threading.Lock()
        # sweeping is O(keys): doing it on a timer, not every N hits, bounds its cost even when
        # a flood of distinct keys arrives
        self._sweep_interval = sweep_interval_seconds
        self._swept_at = monotonic()

    def __len__(self) -> int:
        return len(self._tats)

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        validate(limit, window_seconds)
        with self._lock:
            now = self._monotonic()
            decision, new_tat = gcra(self._tats.get(key, now), now, limit, window_seconds)
            self._tats[key] = new_tat
            if now - self._swept_at >= self._sweep_interval:
                self._sweep(now)
                self._swept_at = now
        return decision

    def _sweep(self, now: float) -> None:
        expired = [key for key, tat in self._tats.items() if tat <= now]
        for key in expired:
            del self._tats[key]
