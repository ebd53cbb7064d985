"""Creators, sources and file ingestion over HTTP, end to end: the real app and container, the
in-process job runner, the embedded blob store and the real extractors (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.clock import SystemClock
from adapters.jobs.outbox import OutboxRelay
from adapters.persistence.models import AuditLog, Chunk

Client = AsyncTestClient[Litestar]
DOC = (
    "# Purple Cow\n\n"
    + "\n\n".join(
        f"Paragraph {i}. Being remarkable is the only way to be seen in field {i}." for i in range(80)
    )
).encode()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_upload_bytes": 64_000}


async def drain(client: Client) -> None:
    """Runs the queued jobs in the app's own event loop (the test client serves the app from a
    portal thread). The outbox rows are relayed here because the app's in-process runner is built
    without its outbox relay (reported to the lead); the background runner may pick a job up
    too, which is why callers wait for the file to settle."""
    app = client.app

    async def run() -> None:
        factory = await app.state.dishka_container.get(async_sessionmaker[AsyncSession])
        await OutboxRelay(factory, SystemClock()).relay_once()
        await app.state.job_runner.run_until_idle()

    client.blocking_portal.call(run)


async def settled(client: Client, headers: dict[str, str], source_id: str, file_id: str) -> dict[str, Any]:
    await drain(client)
    for _ in range(100):
        body: dict[str, Any] = (
            await client.get(f"/v1/sources/{source_id}/files/{file_id}", headers=headers)
        ).json()
        if body["status"] in ("READY", "FAILED"):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"file {file_id} never settled: {body}")


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["code"] == code
    return body


async def _creator_and_source(client: Client, headers: dict[str, str]) -> tuple[str, str]:
    r = await client.post("/v1/creators", json={"name": "Seth Godin", "bio": "Marketer."}, headers=headers)
    assert r.status_code == 201, r.text
    creator_id = r.json()["id"]
    r = await client.post(
        f"/v1/creators/{creator_id}/sources",
        json={"title": "Purple Cow", "type": "BOOK", "isbn": "978-0-306-40615-7"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return creator_id, r.json()["id"]


async def _upload(
    client: Client, headers: dict[str, str], source_id: str, data: bytes, name: str, ctype: str
):
    return await client.post(
        f"/v1/sources/{source_id}/files",
        params={"file_name": name},
        content=data,
        headers={**headers, "content-type": ctype},
    )


async def test_create_upload_ingest_and_replace(
    client: Client, app: Litestar, sign_in: Any, engine: AsyncEngine
) -> None:
    owner = await sign_in("seth@example.com")
    _, source_id = await _creator_and_source(client, owner)
    r = await _upload(client, owner, source_id, DOC, "cow.md", "text/markdown")
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["status"] == "PENDING"
    assert first["size_bytes"] == len(DOC)
    assert len(first["checksum_sha256"]) == 64
    ready = await settled(client, owner, source_id, first["id"])
    assert ready["status"] == "READY", ready
    assert ready["chunk_count"] > 1
    assert ready["token_count"] > 100
    async with engine.connect() as conn:
        stored = (await conn.execute(select(Chunk.id).where(Chunk.file_id == first["id"]))).all()
    assert len(stored) == ready["chunk_count"]

    r = await _upload(
        client, owner, source_id, DOC.replace(b"Purple", b"Violet"), "cow-v2.md", "text/markdown"
    )
    second = r.json()
    await settled(client, owner, source_id, second["id"])
    details = (await client.get(f"/v1/sources/{source_id}", headers=owner)).json()
    by_id = {f["id"]: f for f in details["files"]}
    assert by_id[second["id"]]["status"] == "READY"
    assert by_id[second["id"]]["is_active"] is True
    assert by_id[first["id"]]["is_active"] is False
    assert by_id[first["id"]]["replaced_by_file_id"] == second["id"]
    assert details["source"]["isbn"] == "9780306406157"
    assert (await client.get("/v1/me/creators", headers=owner)).json()[0]["my_role"] == "OWNER"


async def test_bad_uploads(client: Client, app: Litestar, sign_in: Any, engine: AsyncEngine) -> None:
    owner = await sign_in("seth@example.com")
    _, source_id = await _creator_and_source(client, owner)
    problem(
        await _upload(client, owner, source_id, b"x" * 70_000, "big.txt", "text/plain"), 413, "file-too-large"
    )
    r = await _upload(client, owner, source_id, DOC, "cow.pdf", "application/pdf")
    assert r.status_code == 201
    assert r.json()["status"] == "FAILED"
    assert "declared as application/pdf" in r.json()["failure_reason"]
    r = await _upload(
        client, owner, source_id, b"%PDF-1.7 this is not really a pdf", "broken.pdf", "application/pdf"
    )
    broken = r.json()
    assert broken["status"] == "PENDING"
    after = await settled(client, owner, source_id, broken["id"])
    assert after["status"] == "FAILED"
    assert after["failure_reason"]
    assert after["chunk_count"] == 0
    r = await client.post(f"/v1/sources/{source_id}/files/{broken['id']}/retry", headers=owner)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "PENDING"
    assert (await settled(client, owner, source_id, broken["id"]))["status"] == "FAILED"
    r = await client.post(
        f"/v1/sources/{source_id}/files",
        params={"file_name": ""},
        content=b"x",
        headers=owner,
    )
    problem(r, 422, "invalid-input")
    r = await client.post(
        f"/v1/sources/{source_id}/files",
        content=b"plain words",
        headers={
            **owner,
            "content-type": "text/plain",
            "content-disposition": 'attachment; filename="notes.txt"',
        },
    )
    assert r.json()["file_name"] == "notes.txt"
    problem(await _upload(client, owner, "nope", DOC, "a.md", "text/markdown"), 404, "not-found")


async def test_a_form_upload_streams_its_file_part(client: Client, sign_in: Any, engine: AsyncEngine) -> None:
    """What a browser form or ``curl -F file=@cow.md`` sends: the file part is the file."""
    owner = await sign_in("seth@example.com")
    _, source_id = await _creator_and_source(client, owner)
    url = f"/v1/sources/{source_id}/files"
    r = await client.post(
        url, data={"note": "first edition"}, files={"file": ("cow.md", DOC, "text/markdown")}, headers=owner
    )
    assert r.status_code == 201, r.text
    uploaded = r.json()
    assert (uploaded["file_name"], uploaded["size_bytes"]) == ("cow.md", len(DOC))
    ready = await settled(client, owner, source_id, uploaded["id"])
    assert ready["status"] == "READY", ready
    assert ready["chunk_count"] > 1

    too_big = {"file": ("big.txt", b"x" * 70_000, "text/plain")}
    problem(await client.post(url, files=too_big, headers=owner), 413, "file-too-large")
    no_file = await client.post(
        url,
        content=b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--b--\r\n',
        headers={**owner, "content-type": "multipart/form-data; boundary=b"},
    )
    assert "file part" in problem(no_file, 422, "invalid-multipart")["detail"]
    async with engine.connect() as conn:  # the refused ones left nothing behind
        files = (await conn.execute(select(Chunk.file_id).distinct())).scalars().all()
    assert set(files) == {uploaded["id"]}


async def test_members_and_shares_are_audited(client: Client, sign_in: Any, engine: AsyncEngine) -> None:
    owner = await sign_in("seth@example.com")
    helper = await sign_in("helper@example.com")
    creator_id, source_id = await _creator_and_source(client, owner)
    r = await client.post(
        f"/v1/creators/{creator_id}/members",
        json={"user_id": helper["x-test-user-id"], "role": "ADMIN"},
        headers=owner,
    )
    assert r.status_code == 201, r.text
    r = await client.patch(f"/v1/creators/{creator_id}", json={"bio": "Author of Purple Cow"}, headers=helper)
    assert r.json()["bio"] == "Author of Purple Cow"
    co = (await client.post("/v1/creators", json={"name": "Co Author"}, headers=helper)).json()["id"]
    problem(
        await client.put(
            f"/v1/sources/{source_id}/shares", json={"shares": {creator_id: "0.5", co: "0.5"}}, headers=helper
        ),
        403,
        "permission-denied",
    )
    r = await client.put(
        f"/v1/sources/{source_id}/shares", json={"shares": {creator_id: "0.7", co: "0.3"}}, headers=owner
    )
    assert r.status_code == 200, r.text
    assert [v["shares"] for v in r.json()] == [{creator_id: "1.0000"}, {creator_id: "0.7000", co: "0.3000"}]
    problem(
        await client.put(
            f"/v1/sources/{source_id}/shares", json={"shares": {creator_id: "0.7", co: "0.2"}}, headers=owner
        ),
        422,
        "shares-must-sum-to-one",
    )
    problem(
        await client.put(
            f"/v1/sources/{source_id}/shares", json={"shares": {creator_id: "0.33333"}}, headers=owner
        ),
        422,
        "invalid-input",
    )
    problem(
        await client.patch(
            f"/v1/creators/{creator_id}/members/{owner['x-test-user-id']}",
            json={"role": "ADMIN"},
            headers=owner,
        ),
        422,
        "last-creator-owner",
    )
    async with engine.connect() as conn:
        actions = set((await conn.execute(select(AuditLog.action))).scalars())
    assert {"creator.created", "creator.member-added", "source.shares-changed"} <= actions


async def test_listing_sources_is_paginated(client: Client, sign_in: Any) -> None:
    owner = await sign_in("seth@example.com")
    creator_id, first = await _creator_and_source(client, owner)
    for n in range(2):
        r = await client.post(
            f"/v1/creators/{creator_id}/sources",
            json={"title": f"Episode {n}", "type": "PODCAST"},
            headers=owner,
        )
        assert r.status_code == 201
    page = (await client.get(f"/v1/creators/{creator_id}/sources", params={"limit": 2}, headers=owner)).json()
    assert len(page["items"]) == 2
    assert page["items"][0]["id"] == first
    rest = (
        await client.get(
            f"/v1/creators/{creator_id}/sources",
            params={"limit": 2, "cursor": page["next_cursor"]},
            headers=owner,
        )
    ).json()
    assert [s["title"] for s in rest["items"]] == ["Episode 1"]
    assert rest["next_cursor"] is None
    problem(
        await client.get(f"/v1/creators/{creator_id}/sources", params={"limit": 0}, headers=owner),
        422,
        "invalid-input",
    )
