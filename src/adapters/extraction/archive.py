"""Zip containers (EPUB, DOCX) checked before any parser opens them.

ebooklib and python-docx read every member of the archive into memory, so a zip bomb (a small
file that inflates to gigabytes) must be refused from the central directory alone: its total
declared size, its compression ratio and its number of members. The declared sizes can be
trusted as a bound because CPython's ``zipfile`` stops decompressing a member at its declared
size (and fails its CRC check if the data disagree). Only the methods these formats use, stored
and deflate, are allowed: a bzip2 or LZMA member is decompressed in one unbounded step.
"""

from __future__ import annotations

import io
import zipfile

from application.ingestion.ports import ExtractionError, ExtractionFailure, ExtractionLimits

_ALLOWED_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_ENCRYPTED_FLAG = 0x1


def check_archive(data: bytes, limits: ExtractionLimits, *, kind: str) -> list[zipfile.ZipInfo]:
    """The members of a zip that is safe to open; raises ``archive-corrupt``, ``archive-bomb``
    or ``archive-encrypted`` otherwise. ``kind`` names the format in messages ("EPUB")."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ExtractionError(
            ExtractionFailure.ARCHIVE_CORRUPT, f"The {kind} file is damaged ({exc}): export it again."
        ) from exc
    if len(members) > limits.max_archive_members:
        raise ExtractionError(
            ExtractionFailure.ARCHIVE_BOMB,
            f"The {kind} file holds {len(members):,} entries, "
            f"more than the {limits.max_archive_members:,} allowed.",
        )
    total = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members)
    if total > limits.max_uncompressed_bytes:
        raise ExtractionError(
            ExtractionFailure.ARCHIVE_BOMB,
            f"The {kind} file would expand to {total:,} bytes, more than the "
            f"{limits.max_uncompressed_bytes:,} allowed.",
        )
    for member in [*members, None]:
        size, compressed = (total, packed) if member is None else (member.file_size, member.compress_size)
        if size > limits.ratio_floor_bytes and size > limits.max_compression_ratio * max(compressed, 1):
            raise ExtractionError(
                ExtractionFailure.ARCHIVE_BOMB,
                f"The {kind} file expands {size / max(compressed, 1):,.0f} times its size "
                f"(at most {limits.max_compression_ratio:,.0f} is allowed): it looks like a zip bomb.",
            )
    for member in members:
        if member.flag_bits & _ENCRYPTED_FLAG:
            raise ExtractionError(
                ExtractionFailure.ARCHIVE_ENCRYPTED,
                f"The {kind} file is password-protected: upload an unprotected copy.",
            )
        if member.compress_type not in _ALLOWED_METHODS:
            raise ExtractionError(
                ExtractionFailure.ARCHIVE_CORRUPT,
                f"The {kind} file uses a compression method {kind} readers do not support: export it again.",
            )
    return members


def read_member(data: bytes, name: str, *, kind: str) -> bytes | None:
    """One member of an archive already passed by ``check_archive`` (None if absent)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            try:
                return archive.read(name)
            except KeyError:
                return None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ExtractionError(
            ExtractionFailure.ARCHIVE_CORRUPT, f"The {kind} file is damaged ({exc}): export it again."
        ) from exc
