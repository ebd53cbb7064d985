"""The chunk payload as stored beside a vector, shared by the adapters that store JSON-ish
metadata (Qdrant payloads, Pinecone metadata). Absent fields are left out rather than stored as
null, because Pinecone metadata cannot hold null."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from application.retrieval.ports import ChunkPayload, IndexedChunk, SearchHit

_OPTIONAL_INT = ("page",)
_OPTIONAL_STR = ("section", "chapter")
_OPTIONAL_FLOAT = ("start_seconds", "end_seconds")


def to_payload(chunk: ChunkPayload) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "chunk_id": chunk.chunk_id,
        "source_id": chunk.source_id,
        "file_id": chunk.file_id,
        "text": chunk.text,
        "token_count": chunk.token_count,
    }
    for name in (*_OPTIONAL_INT, *_OPTIONAL_STR, *_OPTIONAL_FLOAT):
        value = getattr(chunk, name)
        if value is not None:
            payload[name] = value
    return payload


def to_hit(payload: Mapping[str, Any], score: float) -> SearchHit:
    # Numbers may come back as floats (Pinecone stores every number as a double).
    page = payload.get("page")
    start = payload.get("start_seconds")
    end = payload.get("end_seconds")
    return SearchHit(
        chunk_id=str(payload["chunk_id"]),
        source_id=str(payload["source_id"]),
        file_id=str(payload["file_id"]),
        text=str(payload.get("text", "")),
        token_count=int(payload["token_count"]),
        page=int(page) if page is not None else None,
        section=_opt_str(payload.get("section")),
        chapter=_opt_str(payload.get("chapter")),
        start_seconds=float(start) if start is not None else None,
        end_seconds=float(end) if end is not None else None,
        score=float(score),
    )


def as_hit(chunk: ChunkPayload, score: float) -> SearchHit:
    return SearchHit(
        chunk_id=chunk.chunk_id,
        source_id=chunk.source_id,
        file_id=chunk.file_id,
        text=chunk.text,
        token_count=chunk.token_count,
        page=chunk.page,
        section=chunk.section,
        chapter=chunk.chapter,
        start_seconds=chunk.start_seconds,
        end_seconds=chunk.end_seconds,
        score=score,
    )


def last_write_wins(chunks: Sequence[IndexedChunk]) -> list[IndexedChunk]:
    """One chunk per id, the last given, in first-seen order: a batch repeating an id behaves
    as if the writes happened one after another."""
    latest: dict[str, IndexedChunk] = {}
    for chunk in chunks:
        latest[chunk.chunk_id] = chunk
    return list(latest.values())


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
