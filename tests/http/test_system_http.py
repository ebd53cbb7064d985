"""Health, readiness, metrics, request ids, the OpenAPI document and its offline docs page."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from entrypoints.runtime import build_http_app
from entrypoints.settings import Settings, load_settings

Client = AsyncTestClient[Litestar]


async def test_health_and_readiness(client: Client) -> None:
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    r = await client.get("/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


async def test_readiness_fails_on_an_unmigrated_database(tmp_path: Path) -> None:
    settings = load_settings(
        {}, database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", data_dir=tmp_path
    )
    async with AsyncTestClient(build_http_app(settings)) as c:
        r = await c.get("/ready")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["checks"]["migrations"].startswith("pending")


async def test_request_ids_are_kept_when_well_formed_and_replaced_otherwise(client: Client) -> None:
    r = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert re.fullmatch(r"[0-9a-f-]{36}", r.headers["x-request-id"])
    r = await client.get("/no-such-page")
    assert r.status_code == 404
    assert r.json()["request_id"] == r.headers["x-request-id"]


async def test_access_log_is_one_line_per_request_without_secrets(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="canon.access"):
        await client.get("/v1/me?token=secret-in-query", headers={"Authorization": "Bearer secret-token"})
    lines = [r for r in caplog.records if r.name == "canon.access"]
    assert len(lines) == 1
    record = lines[0]
    assert (record.method, record.path, record.status) == ("GET", "/v1/me", 401)  # type: ignore[attr-defined]
    assert "secret" not in repr(record.__dict__)


async def test_metrics_are_exposed_for_prometheus(client: Client) -> None:
    await client.get("/health")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert "canon_requests_total" in r.text


async def test_openapi_document_and_offline_docs_page(client: Client) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    assert doc["info"]["title"] == "Canon API"
    assert "/v1/me" in doc["paths"]
    page = (await client.get("/schema/swagger")).text
    assert "https://" not in page, "the docs page must not load anything from the network"
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        assert (await client.get(asset)).status_code == 200


async def test_concurrent_requests_share_one_container(client: Client) -> None:
    results = await asyncio.gather(*(client.get("/ready") for _ in range(20)))
    assert {r.status_code for r in results} == {200}


async def test_the_runtime_job_runner_relays_committed_outbox_rows(http_settings: Settings) -> None:
    """The runner `canon serve` and `canon worker` build moves committed jobs out of the outbox."""
    from collections.abc import Mapping
    from typing import Any

    from sqlalchemy.ext.asyncio import AsyncSession

    from adapters.clock import SystemClock
    from adapters.jobs.outbox import OutboxJobQueue
    from application.ports.jobs import Job
    from entrypoints.di import build_container
    from entrypoints.runtime import make_job_runner

    container = build_container(http_settings)
    try:
        runner = await make_job_runner(container, http_settings)
        seen: list[Mapping[str, Any]] = []

        async def probe(args: Mapping[str, Any]) -> None:
            seen.append(args)

        runner._handlers["probe"] = probe
        async with container() as request:
            session = await request.get(AsyncSession)
            await OutboxJobQueue(session, SystemClock()).enqueue(Job(name="probe", args={"x": 1}))
            await session.commit()
        assert await runner.run_until_idle() == 1
        assert seen == [{"x": 1}]
    finally:
        await container.close()
