"""The composition root: one dishka container for the HTTP app, the CLI and the worker.

Providers are grouped by layer/area (``core`` for settings, clock and persistence, then one module
per area). Which adapter serves a port is decided here from ``Settings`` and nowhere else.
"""

from __future__ import annotations

from dishka import AsyncContainer, Provider, make_async_container

from entrypoints.settings import Settings


def all_providers() -> list[Provider]:
    # imported here so that the area modules can import this package without a cycle
    from entrypoints.di.core import CoreProvider, PersistenceProvider

    providers: list[Provider] = [CoreProvider(), PersistenceProvider()]
    from entrypoints.di import areas

    providers.extend(areas.area_providers())
    return providers


def build_container(
    settings: Settings, *extra: Provider, context: dict[object, object] | None = None
) -> AsyncContainer:
    ctx: dict[object, object] = {Settings: settings}
    if context:
        ctx.update(context)
    return make_async_container(*all_providers(), *extra, context=ctx)
