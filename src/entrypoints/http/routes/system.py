"""Health, readiness and the root document."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, get
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from entrypoints.http.problems import PROBLEM_JSON


def canon_version() -> str:
    try:
        return version("canon")
    except PackageNotFoundError:
        return "0+unknown"


class Health(msgspec.Struct):
    status: str
    version: str


class Readiness(msgspec.Struct):
    status: str
    checks: dict[str, str]


@get("/health", tags=["system"], summary="Liveness: the process is up", sync_to_thread=False)
def health() -> Health:
    return Health(status="ok", version=canon_version())


@get(
    "/ready",
    tags=["system"],
    summary="Readiness: the database answers and its schema is at the newest migration",
    responses={},
)
@inject
async def ready(engine: FromDishka[AsyncEngine]) -> Response[Any]:
    checks: dict[str, str] = {}
    ok = True
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness must report, not raise
        ok = False
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if ok:
        from adapters.persistence.migrate import schema_is_current

        try:
            current = await schema_is_current(engine)
            checks["migrations"] = "ok" if current else "pending: run `canon db upgrade`"
            ok = ok and current
        except Exception as exc:
            ok = False
            checks["migrations"] = f"unknown: {type(exc).__name__}"
    body = Readiness(status="ok" if ok else "unavailable", checks=checks)
    if ok:
        return Response(body)
    return Response(
        {
            "type": "/problems/not-ready",
            "code": "not-ready",
            "title": "Not ready",
            "status": 503,
            "detail": "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok"),
            "checks": checks,
        },
        status_code=503,
        media_type=PROBLEM_JSON,
    )


@get("/", tags=["system"], summary="Where to go from here", sync_to_thread=False)
def root() -> dict[str, str]:
    return {
        "name": "Canon",
        "version": canon_version(),
        "docs": "/schema/swagger",
        "openapi": "/schema/openapi.json",
        "health": "/health",
        "ready": "/ready",
        "metrics": "/metrics",
    }


HANDLERS = [health, ready, root]
