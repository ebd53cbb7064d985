"""The three adapters rank alike: BM25 (IDF applied natively by Qdrant, by the adapter for the
in-memory index and Pinecone) and RRF give the same order and scores on the same corpus, so
moving from the embedded default to a hosted backend does not change which passages answer."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pinecone_double import PineconeDouble

from adapters.vectors.memory_index import InMemoryVectorIndex
from adapters.vectors.pinecone_index import PineconeVectorIndex
from adapters.vectors.qdrant_index import QdrantVectorIndex
from application.retrieval.lexical import document_vector, query_vector
from application.retrieval.ports import Embedding, IndexedChunk, SearchHit, VectorIndex, VectorLayout

LAYOUT = VectorLayout(dense_dimension=3, sparse=True)
WORDS = [f"w{i}" for i in range(60)]


def corpus(seed: int = 5) -> list[IndexedChunk]:
    rng = random.Random(seed)
    chunks = []
    for i in range(80):
        words = [rng.choice(WORDS[: rng.choice([10, 30, 60])]) for _ in range(rng.randint(5, 40))]
        chunks.append(
            IndexedChunk(
                chunk_id=f"c{i:03}",
                source_id=f"s{i % 4}",
                file_id=f"f{i % 8}",
                text=" ".join(words),
                token_count=len(words),
                embedding=Embedding(
                    dense=[rng.uniform(-1, 1) for _ in range(3)], sparse=document_vector(words)
                ),
            )
        )
    return chunks


@pytest.fixture
async def indexes(tmp_path: Path) -> AsyncIterator[list[VectorIndex]]:
    dense_double = PineconeDouble(dimension=3).start()
    sparse_double = PineconeDouble(vector_type="sparse").start()
    qdrant = QdrantVectorIndex(path=tmp_path / "q")
    pinecone = PineconeVectorIndex(
        api_key="test-key", dense_host=dense_double.host, sparse_host=sparse_double.host
    )
    adapters: list[VectorIndex] = [InMemoryVectorIndex(), qdrant, pinecone]
    chunks = corpus()
    for index in adapters:
        await index.ensure_collection(LAYOUT)
        assert await index.count() == 0
        await index.upsert(chunks)
        await index.delete_file("f7")  # statistics must follow deletes too
    yield adapters
    await qdrant.close()
    await pinecone.close()
    dense_double.stop()
    sparse_double.stop()


def ranked(hits: list[SearchHit]) -> list[tuple[float, str]]:
    # Equal scores may come back in any order, so compare (rounded score, id) sorted.
    return sorted((round(-h.score, 4), h.chunk_id) for h in hits)


async def test_lexical_and_hybrid_rankings_agree(indexes: list[VectorIndex]) -> None:
    for seed in range(8):
        await check_query(indexes, random.Random(100 + seed))


async def check_query(indexes: list[VectorIndex], rng: random.Random) -> None:
    terms = rng.sample(WORDS, rng.randint(1, 4))
    scope = set(rng.sample(["s0", "s1", "s2", "s3"], 2))
    dense = [rng.uniform(-1, 1) for _ in range(3)]
    lexical = [
        await i.search(Embedding(sparse=query_vector(terms)), source_ids=scope, top_k=10) for i in indexes
    ]
    assert lexical[0], "the query should find something"
    assert ranked(lexical[1]) == ranked(lexical[0])
    assert ranked(lexical[2]) == ranked(lexical[0])
    for hits in lexical:
        assert all(h.source_id in scope and h.file_id != "f7" for h in hits)
    # Hybrid: fused ranks agree as long as the underlying rankings agree; near-equal dense scores
    # could swap places between float32 (Qdrant) and float64, so compare the best hits' ids.
    hybrid = [
        await i.search(Embedding(dense=dense, sparse=query_vector(terms)), source_ids=scope, top_k=5)
        for i in indexes
    ]
    assert [h.chunk_id for h in hybrid[1]][:1] == [h.chunk_id for h in hybrid[0]][:1]
    assert [h.chunk_id for h in hybrid[2]] == [h.chunk_id for h in hybrid[0]]
