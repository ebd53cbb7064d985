"""Route handlers of every area, collected in one list the app factory registers.

Each area adds one import and one entry; handlers are thin (see docs/architecture.md)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler


def route_handlers() -> list[ControllerRouterHandler]:
    from entrypoints.http.routes import identity, system

    handlers: list[ControllerRouterHandler] = [*system.HANDLERS, *identity.HANDLERS]
    from entrypoints.http.routes import chatbots

    handlers += chatbots.all_handlers()
    from entrypoints.http.routes import catalogue

    handlers += catalogue.HANDLERS
    from entrypoints.http.routes import conversations

    handlers += conversations.HANDLERS
    from entrypoints.http.routes import money

    handlers += money.all_handlers()
    return handlers
