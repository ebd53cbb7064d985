"""BM25 corpus statistics for a Pinecone sparse index, kept in the index itself.

Pinecone scores a sparse query by a plain dot product; it has no IDF. BM25 needs IDF, so this
keeps document frequencies in a side namespace of the same sparse index: one record per term
(``df:<index>``, metadata ``{"df": n}``) and one for the corpus size (``df:__n__``). Writers
apply deltas (a chunk gaining or losing a term); a search fetches the records of its own terms
(a query has a handful) and weights them with the same `idf` Qdrant uses.

Keeping them in Pinecone (not in process memory or a local file) means every process and
machine ranks the same. The limit, said plainly: the counters are read-modify-write. Writes in
one process are serialised by a lock, but two processes ingesting at the same instant can lose
an increment. That skews a term's weight slightly (IDF is a logarithm of a ratio) and never
hides a chunk; if it matters, run ingestion from one worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from pinecone import AsyncIndex

_BATCH = 100  # ids per fetch (they travel in the query string) and records per upsert
CORPUS_KEY = "df:__n__"


def term_key(term: int) -> str:
    return f"df:{term}"


class PineconeTermStatistics:
    def __init__(self, index: AsyncIndex, namespace: str) -> None:
        self._index = index
        self._namespace = namespace
        self.lock = asyncio.Lock()

    async def frequencies(self, terms: Iterable[int]) -> tuple[dict[int, int], int]:
        """Document frequency of each of `terms` (0 if unseen) and the corpus size."""
        wanted = sorted(set(terms))
        stored = await self._fetch([term_key(t) for t in wanted] + [CORPUS_KEY])
        return {t: stored.get(term_key(t), 0) for t in wanted}, stored.get(CORPUS_KEY, 0)

    async def apply(self, term_deltas: Mapping[int, int], corpus_delta: int) -> None:
        """Add the deltas to the stored counts. Call with `lock` held."""
        deltas = {term_key(t): d for t, d in term_deltas.items() if d != 0}
        if corpus_delta:
            deltas[CORPUS_KEY] = corpus_delta
        if not deltas:
            return
        current = await self._fetch(list(deltas))
        records: list[dict[str, object]] = []
        emptied: list[str] = []
        for key, delta in deltas.items():
            value = current.get(key, 0) + delta
            if value <= 0:
                emptied.append(key)
                continue
            term = 0 if key == CORPUS_KEY else int(key.removeprefix("df:"))
            # A sparse index stores nothing without a sparse vector; this one is never searched.
            records.append(
                {"id": key, "sparse_values": {"indices": [term], "values": [1.0]}, "metadata": {"df": value}}
            )
        for start in range(0, len(records), _BATCH):
            await self._index.upsert(vectors=records[start : start + _BATCH], namespace=self._namespace)
        gone = [key for key in emptied if key in current]
        for start in range(0, len(gone), _BATCH):
            await self._index.delete(ids=gone[start : start + _BATCH], namespace=self._namespace)

    async def _fetch(self, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(keys), _BATCH):
            response = await self._index.fetch(ids=keys[start : start + _BATCH], namespace=self._namespace)
            for key, vector in response.vectors.items():
                found[key] = int((vector.metadata or {}).get("df", 0))
        return found
