"""Pinecone beyond the shared contract, through the real SDK against the local data-plane
double: the BM25 statistics kept in the sparse index, the wire requests, batching, pagination
and error mapping. No Pinecone server runs offline; the double enforces Pinecone's own rules."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pinecone_double import PineconeDouble

from adapters.vectors.pinecone_index import PineconeVectorIndex
from adapters.vectors.pinecone_terms import CORPUS_KEY, term_key
from application.errors import Conflict, ExternalServiceError
from application.retrieval.lexical import document_vector, idf, query_vector, term_index
from application.retrieval.ports import Embedding, IndexedChunk, VectorLayout

NAMESPACE = "chunks"
STATS = "chunks-term-stats"


def chunk(chunk_id: str, text: str, *, file: str = "f1", source: str = "s1") -> IndexedChunk:
    words = text.split()
    return IndexedChunk(
        chunk_id=chunk_id,
        source_id=source,
        file_id=file,
        text=text,
        token_count=len(words),
        embedding=Embedding(sparse=document_vector(words)),
    )


@pytest.fixture
def sparse_double() -> Iterator[PineconeDouble]:
    double = PineconeDouble(vector_type="sparse").start()
    yield double
    double.stop()


@pytest.fixture
async def index(sparse_double: PineconeDouble) -> AsyncIterator[PineconeVectorIndex]:
    adapter = PineconeVectorIndex(api_key="test-key", sparse_host=sparse_double.host)
    await adapter.ensure_collection(VectorLayout(sparse=True))
    assert await adapter.count() == 0
    yield adapter
    await adapter.close()


def document_frequencies(double: PineconeDouble) -> dict[str, int]:
    return {key: int(v.metadata["df"]) for key, v in double.stored(STATS).items()}


async def test_term_statistics_follow_upserts_overwrites_and_deletes(
    index: PineconeVectorIndex, sparse_double: PineconeDouble
) -> None:
    await index.upsert([chunk("a", "book cover"), chunk("b", "book spine", file="f2")])
    stats = document_frequencies(sparse_double)
    assert stats[CORPUS_KEY] == 2
    assert stats[term_key(term_index("book"))] == 2
    assert stats[term_key(term_index("cover"))] == 1

    await index.upsert([chunk("a", "book jacket")])  # overwrite: loses "cover", gains "jacket"
    stats = document_frequencies(sparse_double)
    assert stats[CORPUS_KEY] == 2
    assert term_key(term_index("cover")) not in stats
    assert stats[term_key(term_index("jacket"))] == 1

    await index.delete_file("f2")
    stats = document_frequencies(sparse_double)
    assert stats == {CORPUS_KEY: 1, term_key(term_index("book")): 1, term_key(term_index("jacket")): 1}


async def test_search_sends_the_source_filter_and_idf_weighted_terms(
    index: PineconeVectorIndex, sparse_double: PineconeDouble
) -> None:
    await index.upsert([chunk("a", "book isbn"), chunk("b", "book"), chunk("c", "book", source="s2")])
    sparse_double.requests.clear()
    hits = await index.search(
        Embedding(sparse=query_vector(["book", "isbn", "unseen"])), source_ids={"s2", "s1"}, top_k=5
    )
    assert hits[0].chunk_id == "a"
    [query] = [body for method, path, body in sparse_double.requests if path == "/query"]
    assert query["filter"] == {"source_id": {"$in": ["s1", "s2"]}}
    assert query["namespace"] == NAMESPACE
    sent = dict(zip(query["sparseVector"]["indices"], query["sparseVector"]["values"], strict=True))
    # The unseen term is left out; the others carry their IDF over the 3-chunk corpus.
    assert sent == pytest.approx({term_index("book"): idf(3, 3), term_index("isbn"): idf(1, 3)})


async def test_big_batches_are_split_and_counts_page_through_results(
    index: PineconeVectorIndex, sparse_double: PineconeDouble
) -> None:
    sparse_double.requests.clear()
    await index.upsert([chunk(f"c{i:04}", f"word{i} shared", file="big") for i in range(1005)])
    chunk_upserts = [
        body
        for _, path, body in sparse_double.requests
        if path == "/vectors/upsert" and body["namespace"] == NAMESPACE
    ]
    assert [len(b["vectors"]) for b in chunk_upserts] == [100] * 10 + [5]
    assert await index.count(file_id="big") == 1005
    pages = [body for _, path, body in sparse_double.requests if path == "/vectors/fetch_by_metadata"]
    assert len(pages) == 2
    await index.delete_file("big")
    assert await index.count() == 0
    assert document_frequencies(sparse_double) == {}


async def test_pinecone_errors_become_external_service_errors(
    index: PineconeVectorIndex, sparse_double: PineconeDouble
) -> None:
    sparse_double.fail_next.append(400)
    with pytest.raises(ExternalServiceError) as failed:
        await index.count()
    assert failed.value.code == "vector-index-failed"
    assert failed.value.extra["status"] == 400


async def test_a_wrong_api_key_is_reported(sparse_double: PineconeDouble) -> None:
    adapter = PineconeVectorIndex(api_key="wrong", sparse_host=sparse_double.host)
    try:
        with pytest.raises(ExternalServiceError) as failed:
            await adapter.ensure_collection(VectorLayout(sparse=True))
        assert failed.value.extra["status"] == 401
    finally:
        await adapter.close()


async def test_configured_indexes_must_fit_the_layout(sparse_double: PineconeDouble) -> None:
    dense_double = PineconeDouble(dimension=8).start()
    adapters = [
        PineconeVectorIndex(api_key="test-key", dense_host=dense_double.host),
        PineconeVectorIndex(api_key="test-key", dense_host=sparse_double.host),
        PineconeVectorIndex(api_key="test-key", sparse_host=dense_double.host),
    ]
    try:
        with pytest.raises(Conflict):  # dimension 8, not 4
            await adapters[0].ensure_collection(VectorLayout(dense_dimension=4))
        await adapters[0].ensure_collection(VectorLayout(dense_dimension=8))
        with pytest.raises(Conflict):  # a sparse index where a dense one is needed
            await adapters[1].ensure_collection(VectorLayout(dense_dimension=8))
        with pytest.raises(Conflict):  # a dense index where a sparse one is needed
            await adapters[2].ensure_collection(VectorLayout(sparse=True))
        with pytest.raises(Conflict):  # no sparse host for a hybrid layout
            await adapters[0].ensure_collection(VectorLayout(dense_dimension=8, sparse=True))
    finally:
        for adapter in adapters:
            await adapter.close()
        dense_double.stop()
