"""The in-memory vector index: the fake every use-case test runs on, and a usable backend for
small corpora. Exact brute force: NumPy cosine over dense vectors, BM25 over sparse ones through
an inverted index, with IDF computed here by the same formula Qdrant applies."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import numpy.typing as npt

from adapters.vectors._payload import as_hit, last_write_wins
from application.errors import Conflict, ServiceUnavailable
from application.retrieval.fusion import candidate_pool, reciprocal_rank_fusion
from application.retrieval.lexical import idf
from application.retrieval.ports import (
    ChunkPayload,
    Embedding,
    IndexedChunk,
    SearchHit,
    SparseVector,
    VectorLayout,
    check_top_k,
    search_scope,
    searchable,
)

FloatArray = npt.NDArray[np.float32]


class InMemoryVectorIndex:
    """Everything in process memory; lost when the process ends. Every method finishes without
    awaiting, so concurrent callers never see half a write."""

    def __init__(self) -> None:
        self._layout: VectorLayout | None = None
        self._chunks: dict[str, ChunkPayload] = {}
        self._dense: dict[str, FloatArray] = {}
        self._sparse: dict[str, dict[int, float]] = {}
        self._postings: dict[int, set[str]] = {}

    async def ensure_collection(self, layout: VectorLayout) -> None:
        if self._layout is not None and self._layout != layout:
            raise Conflict(
                f"The index holds {self._layout}, not {layout}: re-embed into a new collection.",
                code="vector-layout-mismatch",
            )
        self._layout = layout

    async def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        layout = self._require_layout()
        for chunk in chunks:
            layout.check_document(chunk.chunk_id, chunk.embedding)
        for chunk in last_write_wins(chunks):
            self._remove(chunk.chunk_id)
            self._chunks[chunk.chunk_id] = chunk.payload()
            if chunk.embedding.dense is not None:
                self._dense[chunk.chunk_id] = _unit(chunk.embedding.dense)
            if chunk.embedding.sparse is not None:
                terms = dict(zip(chunk.embedding.sparse.indices, chunk.embedding.sparse.values, strict=True))
                self._sparse[chunk.chunk_id] = terms
                for term in terms:
                    self._postings.setdefault(term, set()).add(chunk.chunk_id)

    async def search(self, query: Embedding, *, source_ids: Collection[str], top_k: int) -> list[SearchHit]:
        check_top_k(top_k)
        allowed = search_scope(source_ids)
        layout = self._require_layout()
        layout.check_query(query)
        usable = searchable(query)
        if not allowed or usable is None:
            return []
        query = usable
        rankings: list[list[tuple[str, float]]] = []
        fusing = query.dense is not None and query.sparse is not None
        depth = candidate_pool(top_k) if fusing else top_k
        if query.dense is not None:
            rankings.append(self._dense_ranking(query.dense, allowed, depth))
        if query.sparse is not None:
            rankings.append(self._sparse_ranking(query.sparse, allowed, depth))
        if len(rankings) == 1:
            ranked = rankings[0][:top_k]
        else:
            ranked = reciprocal_rank_fusion([[cid for cid, _ in r] for r in rankings], limit=top_k)
        return [as_hit(self._chunks[cid], score) for cid, score in ranked]

    async def delete_file(self, file_id: str) -> None:
        for chunk_id in [cid for cid, c in self._chunks.items() if c.file_id == file_id]:
            self._remove(chunk_id)

    async def count(self, *, file_id: str | None = None, source_id: str | None = None) -> int:
        return sum(
            1
            for c in self._chunks.values()
            if (file_id is None or c.file_id == file_id) and (source_id is None or c.source_id == source_id)
        )

    def _require_layout(self) -> VectorLayout:
        if self._layout is None:
            raise ServiceUnavailable(
                "The vector collection does not exist yet (ensure_collection was not called).",
                code="vector-collection-missing",
            )
        return self._layout

    def _remove(self, chunk_id: str) -> None:
        self._chunks.pop(chunk_id, None)
        self._dense.pop(chunk_id, None)
        for term in self._sparse.pop(chunk_id, {}):
            holders = self._postings[term]
            holders.discard(chunk_id)
            if not holders:
                del self._postings[term]

    def _dense_ranking(
        self, vector: list[float], allowed: frozenset[str], depth: int
    ) -> list[tuple[str, float]]:
        ids = [cid for cid in self._dense if self._chunks[cid].source_id in allowed]
        if not ids:
            return []
        matrix = np.stack([self._dense[cid] for cid in ids])
        scores = matrix @ _unit(vector)
        return _top([(cid, float(s)) for cid, s in zip(ids, scores, strict=True)], depth)

    def _sparse_ranking(
        self, vector: SparseVector, allowed: frozenset[str], depth: int
    ) -> list[tuple[str, float]]:
        corpus_size = len(self._sparse)
        scores: dict[str, float] = {}
        for term, weight in zip(vector.indices, vector.values, strict=True):
            holders = self._postings.get(term)
            if not holders:
                continue
            term_weight = weight * idf(len(holders), corpus_size)
            for cid in holders:
                if self._chunks[cid].source_id in allowed:
                    scores[cid] = scores.get(cid, 0.0) + term_weight * self._sparse[cid][term]
        return _top(list(scores.items()), depth)


def _unit(vector: Sequence[float]) -> FloatArray:
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else array


def _top(scored: list[tuple[str, float]], depth: int) -> list[tuple[str, float]]:
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored[:depth]
