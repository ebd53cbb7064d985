from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """A unit of background work: a registered job name and JSON-serialisable arguments.

    ``key`` makes enqueueing idempotent: a queue drops a job whose key it already holds
    (pending or done), so a retried request or a replayed outbox row never runs work twice.
    """

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    key: str | None = None
    max_attempts: int = 5


JobHandler = Callable[[Mapping[str, Any]], Awaitable[None]]


class JobQueue(Protocol):
    """Where background work goes. The embedded default runs jobs in-process; a deployment
    uses a distributed broker behind the same port (see ``docs/architecture.md``)."""

    async def enqueue(self, job: Job) -> None: ...
