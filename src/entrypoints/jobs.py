"""Job handlers by name. Each opens a REQUEST scope of the container (its own session and unit
of work, exactly like an HTTP request) and calls one use case; areas add their jobs here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from dishka import AsyncContainer

Handler = Callable[[Mapping[str, Any]], Awaitable[None]]
JobFactory = Callable[[AsyncContainer], Handler]

_FACTORIES: dict[str, JobFactory] = {}


def job(name: str) -> Callable[[JobFactory], JobFactory]:
    def register(factory: JobFactory) -> JobFactory:
        if name in _FACTORIES:
            raise ValueError(f"job {name!r} is registered twice")
        _FACTORIES[name] = factory
        return factory

    return register


def handlers(container: AsyncContainer) -> dict[str, Handler]:
    from entrypoints import job_handlers  # noqa: F401  (registers the areas' jobs)

    return {name: factory(container) for name, factory in _FACTORIES.items()}
