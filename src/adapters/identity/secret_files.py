"""Secrets of the embedded default, generated once into the data directory.

A secret file is created with mode 0600 inside a 0700 directory, written completely to a
temporary name and then hard-linked into place: linking never replaces an existing file, so two
processes starting at the same time agree on one secret and nobody ever reads a half-written one.
A secret file that others may read is refused (like ssh does), rather than silently trusted.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from application.errors import ServiceUnavailable

_POSIX = os.name == "posix"


def read_secret_file(path: Path) -> bytes:
    """The contents of an existing secret file; refuses a group/world-accessible or empty one."""
    info = path.stat()
    if _POSIX and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ServiceUnavailable(
            f"secret file {path} is accessible to other users (mode {stat.filemode(info.st_mode)}); "
            "run: chmod 600 on it",
            code="secret-file-insecure",
        )
    data = path.read_bytes()
    if not data.strip():
        raise ServiceUnavailable(f"secret file {path} is empty", code="secret-file-invalid")
    return data


def read_or_create_secret_file(path: Path, generate: Callable[[], bytes]) -> bytes:
    """The secret at ``path``, first creating it from ``generate()`` if it does not exist."""
    try:
        return read_secret_file(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    _write_private(tmp, generate())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won the race: use its secret
    except OSError:
        # a filesystem without hard links: exclusive create is the next best no-clobber write
        with contextlib.suppress(FileExistsError):
            _write_private(path, tmp.read_bytes())
    finally:
        tmp.unlink(missing_ok=True)
    return read_secret_file(path)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
