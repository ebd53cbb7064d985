"""A property-based fuzz of the whole OpenAPI document: every operation, generated inputs, a
seeded database and a signed-in caller; no 5xx and no response that breaks its own schema.

The app runs for real (uvicorn on a free loopback port, in-process job runner) on its own
SQLite database; schemathesis reads the live /schema/openapi.json, so every operation any area
adds is fuzzed without a change here.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from adapters.identity.local_issuer import LocalTokenIssuer
from adapters.persistence.migrate import upgrade
from entrypoints.runtime import build_http_app
from entrypoints.settings import load_settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite+aiosqlite:///{data_dir / 'fuzz.db'}"
    asyncio.run(upgrade(url))
    port = _free_port()
    app_settings = load_settings(
        {},
        database_url=url,
        data_dir=data_dir,
        vector_backend="memory",
        port=port,
        rate_limit_per_minute=100_000,
    )
    server = uvicorn.Server(
        uvicorn.Config(build_http_app(app_settings), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    token = LocalTokenIssuer.from_data_dir(data_dir).issue(
        "user_fuzzer", "fuzzer@example.com", timedelta(hours=2)
    )
    try:
        yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_no_operation_fails_or_breaks_its_schema(live_app: tuple[str, dict[str, str]]) -> None:
    base_url, headers = live_app
    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json")
    failures: list[str] = []
    tested = 0
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        tested += 1

        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(
                base_url=base_url, headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )

        try:
            run()
        except Exception as exc:  # collect every operation's failure, not only the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert tested >= 5, "the OpenAPI document lost its operations"
    assert calls >= tested, "every operation was called at least once"
    assert not failures, "\n\n".join(failures)
