"""A durable vector index with an in-memory mirror that serves the searches.

Why: the embedded default keeps its vectors in Qdrant's embedded mode on disk, which is durable
and the same client a Qdrant server uses, but its local search loops over every point in Python:
about 0.5 s at 5k chunks and 1.5 s at 20k (``benchmarks/retrieval.py``), far over a chat turn's
budget. The in-memory index answers the same queries with the same ranking (the contract suite
and the ranking-agreement tests hold both to it) in milliseconds. So writes go to the durable
index first and then to the mirror; searches and counts are answered by the mirror; at start-up
the mirror is filled from the durable index (``warm``).

A write that fails on the durable side never reaches the mirror, so the mirror never shows what
a restart would lose. One process owns an embedded index at a time (Qdrant's lock), so the mirror
cannot go stale behind another writer; deployments with several processes use a Qdrant server or
Pinecone directly, without a mirror.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from typing import Protocol

from adapters.vectors.memory_index import InMemoryVectorIndex
from application.retrieval.ports import Embedding, IndexedChunk, SearchHit, VectorIndex, VectorLayout


class ScannableIndex(VectorIndex, Protocol):
    def scan(self, *, batch_size: int = 1000) -> AsyncIterator[list[IndexedChunk]]: ...


class MirroredVectorIndex:
    def __init__(self, durable: ScannableIndex, mirror: InMemoryVectorIndex | None = None) -> None:
        self._durable = durable
        self._mirror = mirror or InMemoryVectorIndex()
        self._warm = False

    async def ensure_collection(self, layout: VectorLayout) -> None:
        await self._durable.ensure_collection(layout)
        await self._mirror.ensure_collection(layout)
        if not self._warm:
            async for batch in self._durable.scan():
                await self._mirror.upsert(batch)
            self._warm = True

    async def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        await self._durable.upsert(chunks)
        await self._mirror.upsert(chunks)

    async def search(self, query: Embedding, *, source_ids: Collection[str], top_k: int) -> list[SearchHit]:
        return await self._mirror.search(query, source_ids=source_ids, top_k=top_k)

    async def delete_file(self, file_id: str) -> None:
        await self._durable.delete_file(file_id)
        await self._mirror.delete_file(file_id)

    async def count(self, *, file_id: str | None = None, source_id: str | None = None) -> int:
        return await self._mirror.count(file_id=file_id, source_id=source_id)

    async def close(self) -> None:
        close = getattr(self._durable, "close", None)
        if close is not None:
            await close()
