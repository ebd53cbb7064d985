"""The array-backed in-memory index against the simplest correct index (dicts and Python loops,
as the index was before it was rebuilt on arrays): on random corpora written in random batches,
with ids written again (replacements), files deleted and compaction forced often, every search
returns the same hits with bit-identical scores, and every count agrees."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.vectors._payload import as_hit, last_write_wins
from adapters.vectors.memory_index import InMemoryVectorIndex
from application.retrieval.fusion import candidate_pool, reciprocal_rank_fusion
from application.retrieval.lexical import idf
from application.retrieval.ports import (
    ChunkPayload,
    Embedding,
    IndexedChunk,
    SearchHit,
    SparseVector,
    VectorLayout,
    searchable,
)

DIMENSION = 3
SOURCES = ["s0", "s1", "s2", "s3"]
FILES = ["f0", "f1", "f2", "f3", "f4", "f5"]
TERMS = 24


class ReferenceIndex:
    """Exact brute force over dicts, ranking by (score desc, chunk id asc)."""

    def __init__(self) -> None:
        self.chunks: dict[str, ChunkPayload] = {}
        self.dense: dict[str, np.ndarray] = {}
        self.sparse: dict[str, dict[int, float]] = {}

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        for chunk in last_write_wins(chunks):
            self.remove(chunk.chunk_id)
            self.chunks[chunk.chunk_id] = chunk.payload()
            if chunk.embedding.dense is not None:
                self.dense[chunk.chunk_id] = unit(chunk.embedding.dense)
            if chunk.embedding.sparse is not None:
                sparse = chunk.embedding.sparse
                self.sparse[chunk.chunk_id] = dict(zip(sparse.indices, sparse.values, strict=True))

    def remove(self, chunk_id: str) -> None:
        self.chunks.pop(chunk_id, None)
        self.dense.pop(chunk_id, None)
        self.sparse.pop(chunk_id, None)

    def delete_file(self, file_id: str) -> None:
        for chunk_id in [cid for cid, c in self.chunks.items() if c.file_id == file_id]:
            self.remove(chunk_id)

    def count(self, file_id: str | None, source_id: str | None) -> int:
        return sum(
            1
            for c in self.chunks.values()
            if (file_id is None or c.file_id == file_id) and (source_id is None or c.source_id == source_id)
        )

    def search(self, query: Embedding, source_ids: Collection[str], top_k: int) -> list[SearchHit]:
        allowed = frozenset(source_ids)
        usable = searchable(query)
        if not allowed or usable is None:
            return []
        fusing = usable.dense is not None and usable.sparse is not None
        depth = candidate_pool(top_k) if fusing else top_k
        rankings = []
        if usable.dense is not None:
            ids = [cid for cid in self.dense if self.chunks[cid].source_id in allowed]
            if ids:
                scores = np.stack([self.dense[cid] for cid in ids]) @ unit(usable.dense)
                rankings.append(top([(cid, float(s)) for cid, s in zip(ids, scores, strict=True)], depth))
            else:
                rankings.append([])
        if usable.sparse is not None:
            rankings.append(top(self.bm25(usable.sparse, allowed), depth))
        if len(rankings) == 1:
            ranked = rankings[0][:top_k]
        else:
            ranked = reciprocal_rank_fusion([[cid for cid, _ in r] for r in rankings], limit=top_k)
        return [as_hit(self.chunks[cid], score) for cid, score in ranked]

    def bm25(self, query: SparseVector, allowed: frozenset[str]) -> list[tuple[str, float]]:
        scores: dict[str, float] = {}
        for term, weight in zip(query.indices, query.values, strict=True):
            holders = [cid for cid, terms in self.sparse.items() if term in terms]
            if not holders:
                continue
            term_weight = weight * idf(len(holders), len(self.sparse))
            for cid in holders:
                if self.chunks[cid].source_id in allowed:
                    scores[cid] = scores.get(cid, 0.0) + term_weight * self.sparse[cid][term]
        return list(scores.items())


def unit(vector: Sequence[float]) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else array


def top(scored: list[tuple[str, float]], depth: int) -> list[tuple[str, float]]:
    return sorted(scored, key=lambda pair: (-pair[1], pair[0]))[:depth]


# -- random scenarios ---------------------------------------------------------------------------

weights = st.sampled_from([0.25, 0.5, 1.0, 1.5]) | st.floats(0.01, 4.0, allow_nan=False)
coordinates = st.sampled_from([-1.0, 0.0, 0.5, 1.0]) | st.floats(-1.0, 1.0, allow_nan=False)


@st.composite
def sparse_vectors(draw: st.DrawFn, *, query: bool = False) -> SparseVector:
    terms = draw(st.lists(st.integers(0, TERMS - 1), min_size=0 if query else 1, max_size=8, unique=True))
    values = [1.0] * len(terms) if query and draw(st.booleans()) else [draw(weights) for _ in terms]
    return SparseVector(indices=terms, values=values)


@st.composite
def chunks(draw: st.DrawFn, *, hybrid: bool) -> IndexedChunk:
    number = draw(st.integers(0, 29))  # few ids, so ids are written again (replacements)
    return IndexedChunk(
        chunk_id=f"c{number:02}",
        source_id=draw(st.sampled_from(SOURCES)),
        file_id=draw(st.sampled_from(FILES)),
        text=f"chunk {number}",
        token_count=draw(st.integers(0, 50)),
        page=draw(st.none() | st.integers(0, 9)),
        embedding=Embedding(
            dense=[draw(coordinates) for _ in range(DIMENSION)] if hybrid else None,
            sparse=draw(sparse_vectors()),
        ),
    )


@dataclass(frozen=True)
class Search:
    sparse: SparseVector | None
    dense: list[float] | None
    scope: frozenset[str]
    top_k: int


@st.composite
def operations(draw: st.DrawFn, *, hybrid: bool) -> object:
    kind = draw(st.sampled_from(["upsert", "upsert", "delete", "search", "search"]))
    if kind == "upsert":
        return draw(st.lists(chunks(hybrid=hybrid), min_size=1, max_size=12))
    if kind == "delete":
        return draw(st.sampled_from(FILES))
    dense = [draw(coordinates) for _ in range(DIMENSION)] if hybrid and draw(st.booleans()) else None
    sparse = draw(sparse_vectors(query=True)) if dense is None or draw(st.booleans()) else None
    scope = frozenset(draw(st.lists(st.sampled_from([*SOURCES, "elsewhere"]), max_size=4)))
    return Search(sparse=sparse, dense=dense, scope=scope, top_k=draw(st.integers(1, 12)))


async def replay(ops: list[object], *, hybrid: bool, compact_after: int) -> None:
    index = InMemoryVectorIndex(compact_after=compact_after)
    await index.ensure_collection(VectorLayout(dense_dimension=DIMENSION if hybrid else None, sparse=True))
    reference = ReferenceIndex()
    for op in ops:
        if isinstance(op, Search):
            query = Embedding(dense=op.dense, sparse=op.sparse)
            got = await index.search(query, source_ids=op.scope, top_k=op.top_k)
            assert got == reference.search(query, op.scope, op.top_k)
        elif isinstance(op, str):
            await index.delete_file(op)
            reference.delete_file(op)
        else:
            assert isinstance(op, list)
            await index.upsert(op)
            reference.upsert(op)
        for file_id in (None, "f0"):
            for source_id in (None, "s1"):
                assert await index.count(file_id=file_id, source_id=source_id) == reference.count(
                    file_id, source_id
                )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(operations(hybrid=False), min_size=1, max_size=30),
    compact_after=st.sampled_from([0, 3, 4096]),
)
def test_lexical_searches_match_the_reference(ops: list[object], compact_after: int) -> None:
    asyncio.run(replay(ops, hybrid=False, compact_after=compact_after))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(operations(hybrid=True), min_size=1, max_size=30),
    compact_after=st.sampled_from([0, 3, 4096]),
)
def test_dense_and_hybrid_searches_match_the_reference(ops: list[object], compact_after: int) -> None:
    asyncio.run(replay(ops, hybrid=True, compact_after=compact_after))


async def test_a_large_corpus_with_replacements_matches_the_reference() -> None:
    """Enough chunks and rewrites that segments merge many times and compaction runs."""
    rng = np.random.default_rng(7)
    index = InMemoryVectorIndex(compact_after=64)
    await index.ensure_collection(VectorLayout(dense_dimension=DIMENSION, sparse=True))
    reference = ReferenceIndex()

    def make(number: int) -> IndexedChunk:
        terms = sorted({int(t) for t in rng.integers(0, 400, size=int(rng.integers(1, 30)))})
        return IndexedChunk(
            chunk_id=f"c{number:04}",
            source_id=f"s{number % 7}",
            file_id=f"f{number % 23}",
            text="x",
            token_count=1,
            embedding=Embedding(
                dense=rng.uniform(-1, 1, DIMENSION).tolist(),
                sparse=SparseVector(indices=terms, values=rng.uniform(0.1, 3, len(terms)).tolist()),
            ),
        )

    for round_ in range(12):
        batch = [make(int(n)) for n in rng.integers(0, 1500, size=int(rng.integers(1, 300)))]
        await index.upsert(batch)
        reference.upsert(batch)
        if round_ % 3 == 2:
            await index.delete_file(f"f{round_}")
            reference.delete_file(f"f{round_}")
        for _ in range(5):
            terms = sorted({int(t) for t in rng.integers(0, 400, size=4)})
            query = Embedding(
                dense=rng.uniform(-1, 1, DIMENSION).tolist() if rng.random() < 0.5 else None,
                sparse=SparseVector(indices=terms, values=[1.0] * len(terms)),
            )
            scope = {f"s{int(s)}" for s in rng.integers(0, 7, size=3)}
            got = await index.search(query, source_ids=scope, top_k=10)
            assert got == reference.search(query, scope, 10)
            assert got, "the query should find something"
    assert await index.count() == reference.count(None, None)
