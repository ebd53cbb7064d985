"""Blobs as files under one root directory (the embedded default: ``<data_dir>/blobs``).

A write goes to a temporary file beside its target and is renamed into place only once the
stream has ended, so a reader never sees half a blob and a failed upload leaves nothing.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterable
from pathlib import Path
from typing import BinaryIO

from application.catalogue.blobs import check_key
from application.errors import NotFound


class LocalBlobStore:
    def __init__(self, root: str | Path) -> None:
        self._root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self._root / check_key(key)).resolve()
        if self._root not in path.parents:
            raise NotFound(f"no blob {key!r}", code="blob-not-found")
        return path

    async def put(self, key: str, stream: AsyncIterable[bytes]) -> int:
        target = self._path(key)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        fd, tmp_name = await asyncio.to_thread(tempfile.mkstemp, dir=target.parent, prefix=".upload-")
        handle: BinaryIO = os.fdopen(fd, "wb")
        written = 0
        try:
            async for chunk in stream:
                if chunk:
                    await asyncio.to_thread(handle.write, chunk)
                    written += len(chunk)
            await asyncio.to_thread(handle.flush)
            await asyncio.to_thread(os.fsync, handle.fileno())
            handle.close()
            await asyncio.to_thread(os.replace, tmp_name, target)
        except BaseException:
            handle.close()
            await asyncio.to_thread(Path(tmp_name).unlink, missing_ok=True)
            raise
        return written

    async def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(f"no blob {key!r}", code="blob-not-found") from None

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)
