"""InMemoryRateLimiter's GCRA arithmetic, on a clock the test moves."""

from __future__ import annotations

import pytest

from adapters.ratelimit.memory_limiter import InMemoryRateLimiter, gcra


class Ticker:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


async def test_one_slot_frees_every_window_over_limit(ticker: Ticker) -> None:
    limiter = InMemoryRateLimiter(monotonic=ticker)
    for _ in range(6):
        assert (await limiter.hit("k", limit=6, window_seconds=60)).allowed
    refused = await limiter.hit("k", limit=6, window_seconds=60)
    assert not refused.allowed
    assert refused.retry_after_seconds == 10
    ticker.now += 9.9
    assert not (await limiter.hit("k", limit=6, window_seconds=60)).allowed
    ticker.now += 0.1
    decision = await limiter.hit("k", limit=6, window_seconds=60)
    assert decision.allowed
    assert decision.remaining == 0


async def test_retry_after_counts_down_and_rounds_up(ticker: Ticker) -> None:
    limiter = InMemoryRateLimiter(monotonic=ticker)
    await limiter.hit("k", limit=1, window_seconds=30)
    ticker.now += 12.5
    assert (await limiter.hit("k", limit=1, window_seconds=30)).retry_after_seconds == 18
    ticker.now += 17.4
    assert (await limiter.hit("k", limit=1, window_seconds=30)).retry_after_seconds == 1
    ticker.now += 0.1
    assert (await limiter.hit("k", limit=1, window_seconds=30)).allowed


async def test_remaining_refills_with_time(ticker: Ticker) -> None:
    limiter = InMemoryRateLimiter(monotonic=ticker)
    for _ in range(4):
        await limiter.hit("k", limit=4, window_seconds=40)
    ticker.now += 25  # two and a half intervals: two slots back
    assert (await limiter.hit("k", limit=4, window_seconds=40)).remaining == 1


async def test_idle_keys_are_swept(ticker: Ticker) -> None:
    limiter = InMemoryRateLimiter(monotonic=ticker, sweep_interval_seconds=30)
    for n in range(9):
        await limiter.hit(f"visitor-{n}", limit=5, window_seconds=10)
    ticker.now += 20
    await limiter.hit("active", limit=5, window_seconds=10)
    assert len(limiter) == 10  # idle, but not swept before the sweep interval
    ticker.now += 10
    await limiter.hit("late", limit=5, window_seconds=10)
    assert len(limiter) == 1  # every idle key is gone; only the one just hit remains
    assert (await limiter.hit("late", limit=5, window_seconds=10)).remaining == 3


def test_gcra_denial_leaves_the_state_unchanged() -> None:
    decision, tat = gcra(tat=160.0, now=100.0, limit=3, window_seconds=60)
    assert not decision.allowed
    assert tat == 160.0
    assert decision.retry_after_seconds == 20
