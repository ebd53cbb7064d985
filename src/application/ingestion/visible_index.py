"""The vector index as readers must see it: only chunks of files that are active and READY.

Why a wrapper: the index briefly holds vectors that must not answer: those of a file still being
ingested (written before the file may become READY) and those of a file just replaced (deleted
right after the commit that retired it). The database decides what is visible, in one commit
(see ``application.ingestion.store``), so every search is filtered by it; in steady state nothing
is filtered and the cost is one indexed query per search.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from application.ingestion.store import IngestionStore
from application.retrieval.ports import (
    MAX_TOP_K,
    Embedding,
    IndexedChunk,
    SearchHit,
    VectorIndex,
    VectorLayout,
    check_top_k,
    search_scope,
)


class SearchableFilesIndex:
    """``VectorIndex`` over another one; searches drop hits of files readers may not see.

    A search asks the inner index for twice ``top_k`` (at most ``MAX_TOP_K``) so that while a
    source has two versions indexed, the visible one still fills the result. Writes, deletes and
    counts pass through unchanged (ingestion needs the raw index).
    """

    def __init__(self, inner: VectorIndex, records: IngestionStore) -> None:
        self._inner = inner
        self._records = records

    async def ensure_collection(self, layout: VectorLayout) -> None:
        await self._inner.ensure_collection(layout)

    async def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        await self._inner.upsert(chunks)

    async def search(self, query: Embedding, *, source_ids: Collection[str], top_k: int) -> list[SearchHit]:
        check_top_k(top_k)
        scope = search_scope(source_ids)
        if not scope:
            return []
        hits = await self._inner.search(query, source_ids=scope, top_k=min(MAX_TOP_K, top_k * 2))
        if not hits:
            return []
        visible = await self._records.searchable_file_ids(scope)
        return [hit for hit in hits if hit.file_id in visible][:top_k]

    async def delete_file(self, file_id: str) -> None:
        await self._inner.delete_file(file_id)

    async def count(self, *, file_id: str | None = None, source_id: str | None = None) -> int:
        return await self._inner.count(file_id=file_id, source_id=source_id)
