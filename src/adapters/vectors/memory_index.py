"""The in-memory vector index: what serves the embedded default's searches (as the mirror of the
durable index, ``mirrored_index``), the fake every use-case test runs on, and a usable backend on
its own. Exact: NumPy cosine over dense vectors, BM25 over sparse ones through an inverted
index, with IDF computed here by the same formula Qdrant applies.

Layout (array-backed, so a search is a handful of NumPy calls rather than a Python loop over
chunks):

- Every chunk written gets the next integer **position**. Per position: the chunk id, its
  payload, its source as a small integer code (0 marks a dead position) and, for a dense
  collection, a row of one float32 matrix that grows by doubling (amortized O(1) per chunk; a
  search never re-stacks vectors).
- Replacing or deleting a chunk leaves a **tombstone**: the position's source code becomes 0, so
  every mask drops it. When dead positions outnumber live ones (and are more than a few
  thousand), the index is **compacted**: live positions are renumbered in order and every array
  shrinks; order is kept, so rankings do not change.
- Sparse vectors live in **segments**: per batch written, the postings (term, position, stored
  weight) sorted by term, with an offset per term (a CSR layout). Segments of similar size are
  merged (dropping dead postings), so there are O(log n) of them. Document frequencies are
  counted per term as chunks come and go, so IDF is exact without scanning postings.

A search builds the scope mask from the source codes (one gather), scores with NumPy: BM25 adds
``query weight × IDF × stored weight`` into a dense float64 score vector term by term (the same
products summed in the same order as a Python loop would, so scores are bit-identical), dense
cosine multiplies the scope's rows by the unit query in float32. The top k come from
``argpartition``-style selection of the k-th score, then ties at the cut are resolved the same
way everywhere: score descending, then chunk id ascending.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

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
Float64Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int32]

DEAD = 0
"""The source code of a position whose chunk was replaced or deleted."""
COMPACT_AFTER = 4096
"""Dead positions tolerated before compaction is considered (then: when they outnumber live)."""
_EMPTY_INTS: IntArray = np.zeros(0, dtype=np.int64)
_EMPTY_FLOATS: Float64Array = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Segment:
    """Postings of some chunks, sorted by term: term ``terms[i]`` owns ``positions`` and
    ``weights`` from ``starts[i]`` to ``starts[i + 1]``."""

    terms: IntArray
    starts: IntArray
    positions: IntArray
    weights: Float64Array

    @classmethod
    def build(cls, terms: IntArray, positions: IntArray, weights: Float64Array) -> _Segment:
        order = np.argsort(terms, kind="stable")  # stable: positions stay ascending per term
        terms, positions, weights = terms[order], positions[order], weights[order]
        unique, first = np.unique(terms, return_index=True)
        starts = np.append(first, len(terms)).astype(np.int64)
        return cls(unique.astype(np.int64), starts, positions, weights)

    @property
    def size(self) -> int:
        return len(self.positions)

    def expanded_terms(self) -> IntArray:
        return np.repeat(self.terms, np.diff(self.starts))


def _merge(segments: Sequence[_Segment], alive: npt.NDArray[np.bool_], remap: IntArray | None) -> _Segment:
    """One segment holding the live postings of ``segments`` (positions renumbered by ``remap``)."""
    terms = np.concatenate([s.expanded_terms() for s in segments])
    positions = np.concatenate([s.positions for s in segments])
    weights = np.concatenate([s.weights for s in segments])
    keep = alive[positions]
    terms, positions, weights = terms[keep], positions[keep], weights[keep]
    if remap is not None:
        positions = remap[positions]
    return _Segment.build(terms, positions, weights)


class InMemoryVectorIndex:
    """Everything in process memory; lost when the process ends. Every method finishes without
    awaiting, so concurrent callers never see half a write."""

    def __init__(self, *, compact_after: int = COMPACT_AFTER) -> None:
        self._compact_after = compact_after
        self._layout: VectorLayout | None = None
        self._ids: list[str] = []
        self._payloads: list[ChunkPayload | None] = []
        self._terms_of: list[IntArray] = []
        self._position: dict[str, int] = {}
        self._files: dict[str, set[int]] = {}
        self._codes: dict[str, int] = {}
        self._source_of: CodeArray = np.zeros(16, dtype=np.int32)
        self._dense: FloatArray | None = None
        self._segments: list[_Segment] = []
        self._df: dict[int, int] = {}
        self._size = 0  # positions handed out (live and dead)
        self._live = 0

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
        batch = last_write_wins(chunks)
        if not batch:
            return
        for chunk in batch:
            old = self._position.get(chunk.chunk_id)
            if old is not None:
                self._kill(old)
        start = self._size
        self._grow(start + len(batch))
        batch_terms: list[IntArray] = []
        batch_weights: list[Float64Array] = []
        for offset, chunk in enumerate(batch):
            position = start + offset
            self._ids.append(chunk.chunk_id)
            self._payloads.append(chunk.payload())
            self._position[chunk.chunk_id] = position
            self._files.setdefault(chunk.file_id, set()).add(position)
            self._source_of[position] = self._code(chunk.source_id)
            dense, sparse = chunk.embedding.dense, chunk.embedding.sparse
            if dense is not None and self._dense is not None:
                self._dense[position] = _unit(dense)
            terms = np.asarray(sparse.indices, dtype=np.int64) if sparse is not None else _EMPTY_INTS
            self._terms_of.append(terms)
            batch_terms.append(terms)
            batch_weights.append(
                np.asarray(sparse.values, dtype=np.float64) if sparse is not None else _EMPTY_FLOATS
            )
        self._size = start + len(batch)
        self._live += len(batch)
        self._add_postings(start, batch_terms, batch_weights)
        self._compact_if_worth_it()

    async def search(self, query: Embedding, *, source_ids: Collection[str], top_k: int) -> list[SearchHit]:
        check_top_k(top_k)
        allowed = search_scope(source_ids)
        layout = self._require_layout()
        layout.check_query(query)
        usable = searchable(query)
        if not allowed or usable is None:
            return []
        in_scope = self._scope_mask(allowed)
        if in_scope is None:
            return []
        rankings: list[list[tuple[str, float]]] = []
        fusing = usable.dense is not None and usable.sparse is not None
        depth = candidate_pool(top_k) if fusing else top_k
        if usable.dense is not None:
            rankings.append(self._dense_ranking(usable.dense, in_scope, depth))
        if usable.sparse is not None:
            rankings.append(self._sparse_ranking(usable.sparse, in_scope, depth))
        if len(rankings) == 1:
            ranked = rankings[0][:top_k]
        else:
            ranked = reciprocal_rank_fusion([[cid for cid, _ in r] for r in rankings], limit=top_k)
        return [as_hit(self._payload(self._position[cid]), score) for cid, score in ranked]

    async def delete_file(self, file_id: str) -> None:
        for position in sorted(self._files.get(file_id, ())):
            self._kill(position)
        self._compact_if_worth_it()

    async def count(self, *, file_id: str | None = None, source_id: str | None = None) -> int:
        if file_id is not None:
            positions = self._files.get(file_id, set())
            if source_id is None:
                return len(positions)
            return sum(1 for p in positions if self._payload(p).source_id == source_id)
        if source_id is not None:
            code = self._codes.get(source_id)
            return 0 if code is None else int(np.count_nonzero(self._source_of[: self._size] == code))
        return self._live

    # -- writing ---------------------------------------------------------------------------------

    def _require_layout(self) -> VectorLayout:
        if self._layout is None:
            raise ServiceUnavailable(
                "The vector collection does not exist yet (ensure_collection was not called).",
                code="vector-collection-missing",
            )
        return self._layout

    def _code(self, source_id: str) -> int:
        code = self._codes.get(source_id)
        if code is None:
            code = self._codes[source_id] = len(self._codes) + 1  # 0 is DEAD
        return code

    def _grow(self, needed: int) -> None:
        capacity = len(self._source_of)
        layout = self._require_layout()
        if self._dense is None and layout.dense_dimension is not None:
            self._dense = np.zeros((capacity, layout.dense_dimension), dtype=np.float32)
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        codes = np.zeros(capacity, dtype=np.int32)
        codes[: self._size] = self._source_of[: self._size]
        self._source_of = codes
        if self._dense is not None:
            dense = np.zeros((capacity, self._dense.shape[1]), dtype=np.float32)
            dense[: self._size] = self._dense[: self._size]
            self._dense = dense

    def _add_postings(self, start: int, terms: list[IntArray], weights: list[Float64Array]) -> None:
        lengths = [len(t) for t in terms]
        if not sum(lengths):
            return
        all_terms = np.concatenate(terms)
        positions = np.repeat(np.arange(start, start + len(terms), dtype=np.int64), lengths)
        segment = _Segment.build(all_terms, positions, np.concatenate(weights))
        counts = np.diff(segment.starts)
        df = self._df
        for term, n in zip(segment.terms.tolist(), counts.tolist(), strict=True):
            df[term] = df.get(term, 0) + n
        self._segments.append(segment)
        # Merge while the newest segment is at least half its predecessor: sizes then at least
        # double going back, so there are O(log n) segments and each posting is merged O(log n)
        # times. Dead postings are dropped on the way.
        while len(self._segments) > 1 and self._segments[-1].size * 2 >= self._segments[-2].size:
            newest = self._segments.pop()
            older = self._segments.pop()
            self._segments.append(_merge([older, newest], self._alive(), None))

    def _kill(self, position: int) -> None:
        payload = self._payload(position)
        del self._position[payload.chunk_id]
        holders = self._files[payload.file_id]
        holders.discard(position)
        if not holders:
            del self._files[payload.file_id]
        self._payloads[position] = None
        self._source_of[position] = DEAD
        df = self._df
        for term in self._terms_of[position].tolist():
            left = df[term] - 1
            if left:
                df[term] = left
            else:
                del df[term]
        self._terms_of[position] = _EMPTY_INTS
        self._live -= 1

    def _alive(self) -> npt.NDArray[np.bool_]:
        alive: npt.NDArray[np.bool_] = self._source_of[: self._size] != DEAD
        return alive

    def _compact_if_worth_it(self) -> None:
        dead = self._size - self._live
        if dead > self._compact_after and dead > self._live:
            self._compact()

    def _compact(self) -> None:
        """Renumbers live positions 0..live-1 in their order and drops every tombstone."""
        alive = self._alive()
        keep = np.flatnonzero(alive)
        remap = np.full(self._size, -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep), dtype=np.int64)
        if self._segments:
            self._segments = [_merge(self._segments, alive, remap)]
        kept = keep.tolist()
        self._ids = [self._ids[p] for p in kept]
        self._payloads = [self._payloads[p] for p in kept]
        self._terms_of = [self._terms_of[p] for p in kept]
        self._position = {cid: i for i, cid in enumerate(self._ids)}
        self._files = {}
        for i, payload in enumerate(self._payloads):
            assert payload is not None
            self._files.setdefault(payload.file_id, set()).add(i)
        capacity = max(16, 2 * len(keep))
        codes = np.zeros(capacity, dtype=np.int32)
        codes[: len(keep)] = self._source_of[keep]
        self._source_of = codes
        if self._dense is not None:
            dense = np.zeros((capacity, self._dense.shape[1]), dtype=np.float32)
            dense[: len(keep)] = self._dense[keep]
            self._dense = dense
        self._size = len(keep)

    # -- searching -------------------------------------------------------------------------------

    def _payload(self, position: int) -> ChunkPayload:
        payload = self._payloads[position]
        assert payload is not None, "a live position always has its payload"
        return payload

    def _scope_mask(self, allowed: frozenset[str]) -> npt.NDArray[np.bool_] | None:
        """Live positions of the allowed sources, or None when none of them has a chunk."""
        codes = [self._codes[s] for s in allowed if s in self._codes]
        if not codes:
            return None
        wanted = np.zeros(len(self._codes) + 1, dtype=np.bool_)
        wanted[codes] = True  # DEAD (0) stays False
        mask: npt.NDArray[np.bool_] = wanted[self._source_of[: self._size]]
        return mask

    def _dense_ranking(
        self, vector: list[float], in_scope: npt.NDArray[np.bool_], depth: int
    ) -> list[tuple[str, float]]:
        assert self._dense is not None  # check_query refused a dense query otherwise
        positions = np.flatnonzero(in_scope)
        if not len(positions):
            return []
        # The scope's rows in position order (one C-level gather, proportional to the scope).
        scores = self._dense[positions] @ _unit(vector)
        return self._top(positions, scores, depth)

    def _sparse_ranking(
        self, vector: SparseVector, in_scope: npt.NDArray[np.bool_], depth: int
    ) -> list[tuple[str, float]]:
        size = self._size
        scores = np.zeros(size, dtype=np.float64)
        touched = np.zeros(size, dtype=np.bool_)
        corpus_size = self._live
        wanted = np.asarray(vector.indices, dtype=np.int64)
        found = [(s, np.searchsorted(s.terms, wanted)) for s in self._segments]
        for i, (term, weight) in enumerate(zip(vector.indices, vector.values, strict=True)):
            df = self._df.get(term)
            if not df:
                continue
            term_weight = weight * idf(df, corpus_size)
            for segment, at in found:
                j = int(at[i])
                if j == len(segment.terms) or segment.terms[j] != term:
                    continue
                lo, hi = int(segment.starts[j]), int(segment.starts[j + 1])
                positions = segment.positions[lo:hi]
                # Positions are unique within a term, so fancy-index += adds each product once.
                scores[positions] += segment.weights[lo:hi] * term_weight
                touched[positions] = True
        positions = np.flatnonzero(touched & in_scope)
        if not len(positions):
            return []
        return self._top(positions, scores[positions], depth)

    def _top(
        self, positions: IntArray, scores: npt.NDArray[np.floating], depth: int
    ) -> list[tuple[str, float]]:
        """The best ``depth`` as (chunk id, score): score descending, then chunk id ascending."""
        if len(positions) > depth:
            cut = len(scores) - depth
            kth = np.partition(scores, cut)[cut]
            keep = scores >= kth  # everything tied with the k-th too, so the tie-break decides
            positions, scores = positions[keep], scores[keep]
        ids = self._ids
        scored = [(ids[p], s) for p, s in zip(positions.tolist(), scores.tolist(), strict=True)]
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        return scored[:depth]


def _unit(vector: Sequence[float]) -> FloatArray:
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else array
