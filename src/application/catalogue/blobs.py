"""The blob store port: where uploaded files' bytes live (a local directory by default, an
S3-compatible bucket in a deployment). The database keeps only the key, size and checksum.

Keys are chosen by the application (``files/<creator>/<file id>``) and never contain ``..``; a
store writes a key completely or not at all: a write that fails (or whose stream raises, say
because the upload went over its size limit) leaves nothing under the key.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Protocol


class BlobStore(Protocol):
    async def put(self, key: str, stream: AsyncIterable[bytes]) -> int:
        """Stores everything ``stream`` yields under ``key`` (replacing what was there) and
        returns the number of bytes written. If ``stream`` raises, nothing is left under the key
        and the error propagates."""
        ...

    async def read(self, key: str) -> bytes:
        """The whole blob; ``NotFound`` (code ``blob-not-found``) if there is none."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Removes the blob; deleting a missing key is not an error."""
        ...


def check_key(key: str) -> str:
    """Keys are relative, slash-separated, without empty, ``.`` or ``..`` parts, so no store can
    be led outside its root."""
    from application.errors import InvalidInput

    parts = key.split("/") if isinstance(key, str) else []
    if not parts or any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts) or len(key) > 1024:
        raise InvalidInput(
            f"{key!r} is not a valid blob key", errors={"key": "invalid"}, code="invalid-blob-key"
        )
    return key
