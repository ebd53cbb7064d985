"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from dishka import AsyncContainer
from dishka.integrations.litestar import setup_dishka
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router

from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.ratelimit import RateLimitMiddleware
from entrypoints.http.routes import route_handlers
from entrypoints.http.routes.system import canon_version
from entrypoints.observability import RequestContextMiddleware
from entrypoints.settings import Settings

_SWAGGER = Path(__file__).parent / "vendor" / "swagger-ui"

DESCRIPTION = """Canon turns a creator's body of work into paid, cited AI chatbots and pays every
creator by how much of their work actually answered.

Errors are RFC 9457 problem details (`application/problem+json`) whose `type` is stable per error.
"""


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def create_app(
    container: AsyncContainer,
    settings: Settings,
    *,
    lifespan: Sequence[Callable[[Litestar], AbstractAsyncContextManager[None]]] = (),
) -> Litestar:
    prometheus = PrometheusConfig(app_name="canon", prefix="canon", group_path=True, exclude=["/metrics"])
    openapi = OpenAPIConfig(
        title="Canon API",
        version=canon_version(),
        description=DESCRIPTION,
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                path="/swagger",
                js_url="/static/swagger-ui/swagger-ui-bundle.js",
                css_url="/static/swagger-ui/swagger-ui.css",
                standalone_preset_js_url="/static/swagger-ui/swagger-ui-standalone-preset.js",
                favicon="",
            ),
            JsonRenderPlugin(path="/openapi.json"),
        ],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
            }
        ),
        tags=[
            Tag(name="system", description="Health, readiness and metadata"),
            Tag(name="identity", description="Anonymous ids, the signed-in user, API keys"),
        ],
    )
    static = create_static_files_router(
        path="/static/swagger-ui", directories=[_SWAGGER], include_in_schema=False, name="swagger-assets"
    )

    async def close_container() -> None:
        await container.close()

    app = Litestar(
        route_handlers=[*route_handlers(), static, MetricsController],
        openapi_config=openapi,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[prometheus.middleware],
        request_max_body_size=settings.max_request_body_bytes,
        on_shutdown=[close_container],
        lifespan=list(lifespan),
        debug=False,
        logging_config=None,  # logging is ours (entrypoints/observability.py): one JSON line per event
    )
    setup_dishka(container, app)
    # Outermost, so that even responses the router makes itself (404, 405) carry a request id and
    # are logged; Litestar's own middleware only wraps matched routes.
    app.asgi_handler = RequestContextMiddleware(
        RateLimitMiddleware(app.asgi_handler, container, per_minute=settings.rate_limit_per_minute)
    )
    app.state.settings = settings
    return app
