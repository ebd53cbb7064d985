"""Embedded Qdrant beyond the shared contract: persistence, locking, the worker thread, and RRF
scores equal to the pure fusion function. (The server mode, `url=`, shares this code path but
no Qdrant server runs in the offline test environment.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.vectors.qdrant_index import QdrantVectorIndex, point_id
from application.errors import ExternalServiceError, ServiceUnavailable
from application.retrieval.fusion import candidate_pool, reciprocal_rank_fusion
from application.retrieval.lexical import document_vector, query_vector
from application.retrieval.ports import Embedding, IndexedChunk, VectorLayout

SPARSE = VectorLayout(sparse=True)
HYBRID = VectorLayout(dense_dimension=3, sparse=True)


def chunk(i: int, text: str, dense: list[float] | None = None, file: str = "f1") -> IndexedChunk:
    words = text.split()
    return IndexedChunk(
        chunk_id=f"chunk-{i}",
        source_id="s1",
        file_id=file,
        text=text,
        token_count=len(words),
        page=i,
        embedding=Embedding(dense=dense, sparse=document_vector(words)),
    )


async def test_point_ids_are_stable_uuids() -> None:
    assert point_id("chunk-1") == point_id("chunk-1")
    assert point_id("chunk-1") != point_id("chunk-2")
    assert len(point_id("anything at all")) == 36


async def test_data_survives_closing_and_reopening(tmp_path: Path) -> None:
    first = QdrantVectorIndex(path=tmp_path / "q")
    await first.ensure_collection(SPARSE)
    assert await first.count() == 0
    await first.upsert([chunk(1, "royalty statement"), chunk(2, "print run")])
    await first.close()

    second = QdrantVectorIndex(path=tmp_path / "q")
    try:
        # No ensure_collection: the layout is read back from the stored collection.
        assert await second.count() == 2
        [hit] = await second.search(Embedding(sparse=query_vector(["royalty"])), source_ids={"s1"}, top_k=5)
        assert (hit.chunk_id, hit.page) == ("chunk-1", 1)
    finally:
        await second.close()


async def test_a_missing_collection_is_reported(tmp_path: Path) -> None:
    index = QdrantVectorIndex(path=tmp_path / "q")
    try:
        with pytest.raises(ServiceUnavailable) as missing:
            await index.count()
        assert missing.value.code == "vector-collection-missing"
    finally:
        await index.close()


async def test_one_directory_is_opened_by_one_client_only(tmp_path: Path) -> None:
    owner = QdrantVectorIndex(path=tmp_path / "q")
    await owner.ensure_collection(SPARSE)
    intruder = QdrantVectorIndex(path=tmp_path / "q")
    try:
        with pytest.raises(ServiceUnavailable) as locked:
            await intruder.count()
        assert locked.value.code == "vector-store-locked"
    finally:
        await intruder.close()
        await owner.close()


async def test_embedded_work_does_not_block_the_event_loop() -> None:
    index = QdrantVectorIndex(path=":memory:")  # the same worker thread, without disk waits
    await index.ensure_collection(SPARSE)
    await index.upsert([chunk(i, f"word{i % 50} common text number {i} " * 5) for i in range(3000)])
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.002)

    task = asyncio.create_task(ticker())
    try:
        # Embedded sparse search scores every point in Python: tens of milliseconds at least.
        hits = await index.search(
            Embedding(sparse=query_vector(["common", "word7"])), source_ids={"s1"}, top_k=5
        )
    finally:
        done.set()
        await task
        await index.close()
    assert len(hits) == 5
    # Had the search run on the event loop, the ticker could not have run until it ended.
    assert ticks >= 3


async def test_hybrid_scores_equal_the_pure_fusion_function(tmp_path: Path) -> None:
    index = QdrantVectorIndex(path=tmp_path / "q")
    await index.ensure_collection(HYBRID)
    try:
        texts = [
            "alpha beta",
            "beta gamma",
            "gamma delta",
            "alpha delta epsilon",
            "epsilon zeta",
            "beta beta",
        ]
        dense = [[1, 0, 0], [0.8, 0.2, 0], [0, 1, 0], [0.5, 0.5, 0.1], [0, 0, 1], [0.3, 0.3, 0.3]]
        await index.upsert([chunk(i, t, d) for i, (t, d) in enumerate(zip(texts, dense, strict=True))])
        sparse_q = query_vector(["beta", "delta"])
        dense_q = [0.9, 0.1, 0.0]
        pool = candidate_pool(3)
        by_dense = await index.search(Embedding(dense=dense_q), source_ids={"s1"}, top_k=pool)
        by_words = await index.search(Embedding(sparse=sparse_q), source_ids={"s1"}, top_k=pool)
        expected = reciprocal_rank_fusion(
            [[h.chunk_id for h in by_dense], [h.chunk_id for h in by_words]], limit=3
        )
        fused = await index.search(Embedding(dense=dense_q, sparse=sparse_q), source_ids={"s1"}, top_k=3)
        assert [h.score for h in fused] == pytest.approx([s for _, s in expected], rel=1e-6)
        assert {h.chunk_id for h in fused} == {i for i, _ in expected}
    finally:
        await index.close()


async def test_large_upserts_are_sent_in_batches_and_delete_file_is_exact() -> None:
    index = QdrantVectorIndex(path=":memory:")
    await index.ensure_collection(SPARSE)
    try:
        await index.upsert([chunk(i, f"term{i}", file="big" if i < 300 else "small") for i in range(310)])
        assert await index.count(file_id="big") == 300
        await index.delete_file("big")
        assert await index.count() == 10
    finally:
        await index.close()


def test_exactly_one_of_path_or_url() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        QdrantVectorIndex()
    with pytest.raises(ValueError, match="exactly one"):
        QdrantVectorIndex(path="x", url="http://127.0.0.1:6333")


async def test_in_memory_embedded_mode_keeps_nothing(tmp_path: Path) -> None:
    first = QdrantVectorIndex(path=":memory:")
    await first.ensure_collection(SPARSE)
    await first.upsert([chunk(1, "ephemeral")])
    assert await first.count() == 1
    await first.close()
    second = QdrantVectorIndex(path=":memory:")
    try:
        with pytest.raises(ServiceUnavailable):
            await second.count()
    finally:
        await second.close()
    assert not (tmp_path / ":memory:").exists()


@pytest.mark.filterwarnings("ignore:Failed to obtain server version")
async def test_an_unreachable_server_is_an_external_service_error() -> None:
    index = QdrantVectorIndex(url="http://127.0.0.1:9", timeout_seconds=2)
    try:
        with pytest.raises(ExternalServiceError) as failed:
            await index.count()
        assert failed.value.code == "vector-index-failed"
    finally:
        await index.close()
    # The client checks the server version on a thread of its own; let it finish inside this test.
    await asyncio.sleep(0.3)


async def test_concurrent_ensure_collection_on_embedded_qdrant(tmp_path: Path) -> None:
    """Two ingestion jobs may create the collection at once; neither may fail."""
    import asyncio

    from adapters.vectors.qdrant_index import QdrantVectorIndex
    from application.retrieval.ports import VectorLayout

    index = QdrantVectorIndex(path=tmp_path / "race")
    try:
        layout = VectorLayout(dense_dimension=None, sparse=True)
        await asyncio.gather(*(index.ensure_collection(layout) for _ in range(4)))
        assert await index.count() == 0
    finally:
        await index.close()
