"""Blobs in a dict: the fake the use-case tests run on (passes the blob store contract)."""

from __future__ import annotations

from collections.abc import AsyncIterable

from application.catalogue.blobs import check_key
from application.errors import NotFound


class InMemoryBlobStore:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    async def put(self, key: str, stream: AsyncIterable[bytes]) -> int:
        check_key(key)
        parts = [chunk async for chunk in stream]  # raises before anything is stored
        self.blobs[key] = b"".join(parts)
        return len(self.blobs[key])

    async def read(self, key: str) -> bytes:
        try:
            return self.blobs[check_key(key)]
        except KeyError:
            raise NotFound(f"no blob {key!r}", code="blob-not-found") from None

    async def exists(self, key: str) -> bool:
        return check_key(key) in self.blobs

    async def delete(self, key: str) -> None:
        self.blobs.pop(check_key(key), None)
