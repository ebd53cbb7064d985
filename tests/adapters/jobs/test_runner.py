"""The job runner against an in-memory store: retries, backoff, failure, graceful stop."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from adapters.clock import FakeClock
from adapters.jobs.runner import ClaimedJob, JobRunner, backoff


@dataclass
class Row:
    id: str
    name: str
    args: Mapping[str, Any]
    max_attempts: int = 3
    attempts: int = 0
    available_at: datetime | None = None
    locked_until: datetime | None = None
    status: str = "pending"
    errors: list[str] = field(default_factory=list)


class MemoryStore:
    def __init__(self, rows: list[Row]) -> None:
        self.rows = {r.id: r for r in rows}

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[ClaimedJob]:
        out = []
        for r in self.rows.values():
            if len(out) >= limit:
                break
            due = r.available_at is None or r.available_at <= now
            free = r.locked_until is None or r.locked_until <= now
            if r.status == "pending" and due and free:
                r.attempts += 1
                r.locked_until = now + lease
                out.append(ClaimedJob(r.id, r.name, r.args, r.attempts, r.max_attempts))
        return out

    async def complete(self, job_id: str, now: datetime) -> None:
        self.rows[job_id].status = "done"

    async def retry(self, job_id: str, error: str, available_at: datetime) -> None:
        r = self.rows[job_id]
        r.errors.append(error)
        r.available_at = available_at
        r.locked_until = None

    async def fail(self, job_id: str, error: str, now: datetime) -> None:
        r = self.rows[job_id]
        r.errors.append(error)
        r.status = "failed"


async def test_a_failing_job_is_retried_with_backoff_then_succeeds() -> None:
    clock = FakeClock()
    calls: list[int] = []

    async def flaky(args: Mapping[str, Any]) -> None:
        calls.append(args["n"])
        if len(calls) < 3:
            raise RuntimeError("transient")

    store = MemoryStore([Row("j1", "flaky", {"n": 7}, max_attempts=5)])
    runner = JobRunner(store, {"flaky": flaky}, clock)
    assert await runner.run_until_idle() == 1
    assert store.rows["j1"].status == "pending"
    assert store.rows["j1"].available_at is not None
    assert store.rows["j1"].available_at > clock.now()
    # not due yet: nothing runs
    assert await runner.run_until_idle() == 0
    clock.advance(timedelta(minutes=10))
    await runner.run_until_idle()
    clock.advance(timedelta(minutes=10))
    await runner.run_until_idle()
    assert calls == [7, 7, 7]
    assert store.rows["j1"].status == "done"
    assert store.rows["j1"].errors == ["RuntimeError: transient", "RuntimeError: transient"]


async def test_a_job_that_keeps_failing_ends_failed_with_its_last_error() -> None:
    clock = FakeClock()

    async def broken(args: Mapping[str, Any]) -> None:
        raise ValueError("bad data")

    store = MemoryStore([Row("j1", "broken", {}, max_attempts=2)])
    runner = JobRunner(store, {"broken": broken}, clock)
    await runner.run_until_idle()
    clock.advance(timedelta(hours=1))
    await runner.run_until_idle()
    assert store.rows["j1"].status == "failed"
    assert store.rows["j1"].attempts == 2


class Stubborn:
    """A handler that always fails and wants to know when its job is given up on."""

    def __init__(self, *, give_up_fails: bool = False) -> None:
        self.calls = 0
        self.given_up: list[tuple[Mapping[str, Any], str]] = []
        self._give_up_fails = give_up_fails

    async def __call__(self, args: Mapping[str, Any]) -> None:
        self.calls += 1
        raise ConnectionError("index unreachable")

    async def give_up(self, args: Mapping[str, Any], error: str) -> None:
        self.given_up.append((args, error))
        if self._give_up_fails:
            raise RuntimeError("database down too")


async def test_a_handler_hears_once_that_its_job_was_given_up_on() -> None:
    clock = FakeClock()
    handler = Stubborn()
    store = MemoryStore([Row("j1", "ingest", {"file_id": "f1"}, max_attempts=3)])
    runner = JobRunner(store, {"ingest": handler}, clock)
    for _ in range(2):
        await runner.run_until_idle()
        assert handler.given_up == []  # a retry is still coming
        clock.advance(timedelta(hours=1))
    await runner.run_until_idle()
    assert (handler.calls, store.rows["j1"].status) == (3, "failed")
    assert handler.given_up == [({"file_id": "f1"}, "ConnectionError: index unreachable")]


async def test_a_failing_give_up_is_logged_and_the_job_stays_failed(caplog: Any) -> None:
    handler = Stubborn(give_up_fails=True)
    store = MemoryStore([Row("j1", "ingest", {}, max_attempts=1)])
    await JobRunner(store, {"ingest": handler}, FakeClock()).run_until_idle()
    assert store.rows["j1"].status == "failed"
    assert len(handler.given_up) == 1
    assert "giving up on a failed job failed" in caplog.text


async def test_an_unknown_job_fails_at_once() -> None:
    store = MemoryStore([Row("j1", "nobody-handles-this", {}, max_attempts=5)])
    await JobRunner(store, {}, FakeClock()).run_until_idle()
    assert store.rows["j1"].status == "failed"
    assert "no handler registered" in store.rows["j1"].errors[0]


async def test_stop_lets_in_flight_jobs_finish() -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def slow(args: Mapping[str, Any]) -> None:
        started.set()
        await asyncio.sleep(0.05)
        finished.append("slow")

    store = MemoryStore([Row("j1", "slow", {})])
    runner = JobRunner(store, {"slow": slow}, FakeClock(), poll_interval=0.01)
    runner.start()
    await asyncio.wait_for(started.wait(), 2)
    await runner.stop(deadline_seconds=2)
    assert finished == ["slow"]
    assert store.rows["j1"].status == "done"


def test_backoff_grows_and_is_capped() -> None:
    import random

    rng = random.Random(1)
    delays = [backoff(a, base=1.0, cap=30.0, rng=rng) for a in range(1, 10)]
    assert 0.5 <= delays[0] <= 1.0
    assert 4.0 <= delays[3] <= 8.0
    assert all(15.0 <= d <= 30.0 for d in delays[5:])
