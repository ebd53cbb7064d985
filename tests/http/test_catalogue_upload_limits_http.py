"""The upload route streams past the API's general request-body limit (1 MiB by default) up to
the upload limit, and no further."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_upload_bytes": 3 * 1024 * 1024, "max_request_body_bytes": 1024 * 1024}


async def test_uploads_are_bounded_by_the_upload_limit_not_the_body_limit(
    client: Client, sign_in: Any
) -> None:
    owner = await sign_in("big@example.com")
    creator = (await client.post("/v1/creators", json={"name": "Big Books"}, headers=owner)).json()["id"]
    source = (
        await client.post(
            f"/v1/creators/{creator}/sources", json={"title": "Tome", "type": "BOOK"}, headers=owner
        )
    ).json()["id"]
    line = b"A long line of a long book, repeated to make it bigger than a megabyte.\n"
    two_mb = line * (2 * 1024 * 1024 // len(line))
    r = await client.post(
        f"/v1/sources/{source}/files",
        params={"file_name": "tome.txt"},
        content=two_mb,
        headers={**owner, "content-type": "text/plain"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["size_bytes"] == len(two_mb)
    too_big = await client.post(
        f"/v1/sources/{source}/files",
        params={"file_name": "tome.txt"},
        content=two_mb * 2,
        headers={**owner, "content-type": "text/plain"},
    )
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "file-too-large"
    r = await client.post("/v1/creators", json={"name": "x" * 2_000_000}, headers=owner)
    assert r.status_code == 413  # every other route keeps the general limit
