"""The VectorIndex contract: one abstract suite, subclassed once per adapter.

Every adapter (the in-memory fake, embedded Qdrant on disk, Pinecone through the real SDK
against a local HTTP double) must behave the same way here, so a use case tested on the fake
behaves the same in production. Each test opens a fresh index and proves it starts empty.

Vectors are built by hand (sparse BM25 vectors from whitespace-split words, tiny dense vectors)
so the suite tests the index, not an embedder.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType

import pytest

from adapters.vectors.memory_index import InMemoryVectorIndex
from adapters.vectors.pinecone_index import PineconeVectorIndex
from adapters.vectors.qdrant_index import QdrantVectorIndex
from application.errors import Conflict, InvalidInput
from application.retrieval.lexical import document_vector, query_vector
from application.retrieval.ports import Embedding, IndexedChunk, VectorIndex, VectorLayout


def _load_sibling(relative: str, name: str) -> ModuleType:
    # Two installed SDKs ship a top-level package named `tests`, which shadows this repository's
    # `tests` directory on import, so a test module elsewhere in the tree is loaded by path.
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / relative)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


PineconeDouble = _load_sibling("adapters/vectors/pinecone_double.py", "pinecone_double").PineconeDouble

SPARSE = VectorLayout(sparse=True)
DENSE = VectorLayout(dense_dimension=4)
HYBRID = VectorLayout(dense_dimension=4, sparse=True)

OpenIndex = Callable[[VectorLayout], Awaitable[VectorIndex]]


def chunk(
    chunk_id: str,
    text: str,
    *,
    source: str = "src-a",
    file: str = "file-a1",
    dense: list[float] | None = None,
    sparse: bool = True,
    page: int | None = 7,
    section: str | None = "Pricing",
    chapter: str | None = "Chapter 2",
    start: float | None = None,
    end: float | None = None,
) -> IndexedChunk:
    words = text.lower().split()
    return IndexedChunk(
        chunk_id=chunk_id,
        source_id=source,
        file_id=file,
        text=text,
        token_count=len(words),
        page=page,
        section=section,
        chapter=chapter,
        start_seconds=start,
        end_seconds=end,
        embedding=Embedding(dense=dense, sparse=document_vector(words) if sparse else None),
    )


def ask(text: str | None = None, dense: list[float] | None = None) -> Embedding:
    return Embedding(dense=dense, sparse=query_vector(text.lower().split()) if text is not None else None)


class VectorIndexContract:
    """Each subclass provides the `open_index` fixture: a factory making a fresh index for a
    layout (and closing what it opened afterwards). This base class is not collected itself."""

    @pytest.fixture
    def fresh(self, open_index: OpenIndex) -> Callable[[VectorLayout], Awaitable[VectorIndex]]:
        async def make(layout: VectorLayout) -> VectorIndex:
            index = await open_index(layout)
            await index.ensure_collection(layout)
            assert await index.count() == 0, "a new index must start empty"
            return index

        return make

    async def test_starts_empty(self, fresh: OpenIndex) -> None:
        index = await fresh(SPARSE)
        assert await index.count(file_id="file-a1") == 0
        assert await index.count(source_id="src-a") == 0
        assert await index.search(ask("anything"), source_ids={"src-a"}, top_k=5) == []

    async def test_upsert_then_search_returns_the_payload(self, fresh: OpenIndex) -> None:
        index = await fresh(SPARSE)
        await index.upsert(
            [
                chunk("c1", "pricing strategy for small publishers", start=12.5, end=40.0),
                chunk("c2", "a history of printing presses", page=None, section=None, chapter=None),
            ]
        )
        hits = await index.search(ask("pricing strategy"), source_ids={"src-a"}, top_k=5)
        assert [h.chunk_id for h in hits] == ["c1"]
        hit = hits[0]
        assert (hit.source_id, hit.file_id, hit.text) == (
            "src-a",
            "file-a1",
            "pricing strategy for small publishers",
        )
        assert (hit.token_count, hit.page, hit.section, hit.chapter) == (5, 7, "Pricing", "Chapter 2")
        assert (hit.start_seconds, hit.end_seconds) == (12.5, 40.0)
        assert hit.score > 0
        [other] = await index.search(ask("printing"), source_ids={"src-a"}, top_k=5)
        assert (other.chunk_id, other.page, other.section, other.chapter) == ("c2", None, None, None)

    async def test_search_is_filtered_to_the_given_sources(self, fresh: OpenIndex) -> None:
        index = await fresh(SPARSE)
        await index.upsert(
            [
                chunk("a", "negotiating royalties", source="src-a", file="fa"),
                chunk("b", "negotiating royalties well", source="src-b", file="fb"),
                chunk("c", "negotiating royalties badly", source="src-c", file="fc"),
            ]
        )
        hits = await index.search(ask("royalties"), source_ids={"src-a", "src-c"}, top_k=10)
        assert {h.chunk_id for h in hits} == {"a", "c"}
        assert await index.search(ask("royalties"), source_ids=["src-unknown"], top_k=10) == []

    async def test_empty_source_set_returns_nothing(self, fresh: OpenIndex) -> None:
        index = await fresh(HYBRID)
        await index.upsert([])
        await index.upsert([chunk("a", "audience growth", dense=[1, 0, 0, 0])])
        assert await index.search(ask("audience", dense=[1, 0, 0, 0]), source_ids=set(), top_k=5) == []
        assert await index.search(ask("audience"), source_ids=[], top_k=5) == []
        with pytest.raises(InvalidInput):  # a bare string would silently mean its characters
            await index.search(ask("audience"), source_ids="src-a", top_k=5)

    async def test_upsert_is_idempotent_and_the_last_write_wins(self, fresh: OpenIndex) -> None:
        index = await fresh(SPARSE)
        await index.upsert([chunk("c1", "first draft about marketing")])
        await index.upsert([chunk("c1", "first draft about marketing")])
        assert await index.count() == 1
        await index.upsert(
            [chunk("c1", "revised text about editing"), chunk("c1", "final text about editing")]
        )
        assert await index.count() == 1
        assert await index.search(ask("marketing"), source_ids={"src-a"}, top_k=5) == []
        [hit] = await index.search(ask("editing"), source_ids={"src-a"}, top_k=5)
        assert hit.text == "final text about editing"

    async def test_delete_file_removes_only_that_file(self, fresh: OpenIndex) -> None:
        index = await fresh(SPARSE)
        await index.upsert(
            [
                chunk("a1", "contracts and rights", file="fa"),
                chunk("a2", "rights reversion", file="fa"),
                chunk("b1", "rights in translation", file="fb"),
            ]
        )
        await index.delete_file("fa")
        assert await index.count(file_id="fa") == 0
        assert await index.count(file_id="fb") == 1
        assert [h.chunk_id for h in await index.search(ask("rights"), source_ids={"src-a"}, top_k=5)] == [
            "b1"
        ]
        await index.delete_file("no-such-file")
        assert await index.count() == 1

    async def test_count_by_file_source_and_both(self, fresh: OpenIndex) -> None:
        index = await fresh(SPARSE)
        await index.upsert(
            [
                chunk("1", "one", source="s1", file="f1"),
                chunk("2", "two", source="s1", file="f1"),
                chunk("3", "three", source="s1", file="f2"),
                chunk("4", "four", source="s2", file="f3"),
            ]
        )
        assert await index.count() == 4
        assert await index.count(file_id="f1") == 2
        assert await index.count(source_id="s1") == 3
        assert await index.count(source_id="s2") == 1
        assert await index.count(file_id="f2", source_id="s1") == 1
        assert await index.count(file_id="f3", source_id="s1") == 0

    async def test_top_k_is_respected_and_scores_descend(self, fresh: OpenIndex) -> None:
        index = await fresh(SPARSE)
        await index.upsert([chunk(f"c{i:02}", "launch " * (i + 1) + "plan") for i in range(12)])
        hits = await index.search(ask("launch"), source_ids={"src-a"}, top_k=5)
        assert len(hits) == 5
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
        assert len(await index.search(ask("launch"), source_ids={"src-a"}, top_k=50)) == 12
        with pytest.raises(InvalidInput):
            await index.search(ask("launch"), source_ids={"src-a"}, top_k=0)

    async def test_rare_terms_weigh_more_than_common_ones(self, fresh: OpenIndex) -> None:
        # BM25's IDF: "book" is in every chunk, "isbn" in one; the chunk with the rare term wins
        # even though the other repeats the common one.
        index = await fresh(SPARSE)
        await index.upsert(
            [chunk("common", "book book book book cover"), chunk("rare", "book isbn cover")]
            + [chunk(f"filler{i}", f"book filler {i}") for i in range(6)]
        )
        hits = await index.search(ask("book isbn"), source_ids={"src-a"}, top_k=3)
        assert hits[0].chunk_id == "rare"

    async def test_sparse_query_without_known_terms_finds_nothing(self, fresh: OpenIndex) -> None:
        index = await fresh(SPARSE)
        await index.upsert([chunk("a", "chapter outline")])
        assert await index.search(ask("zebra"), source_ids={"src-a"}, top_k=5) == []
        assert await index.search(ask(""), source_ids={"src-a"}, top_k=5) == []

    async def test_sparse_only_query_on_a_hybrid_collection(self, fresh: OpenIndex) -> None:
        index = await fresh(HYBRID)
        await index.upsert(
            [
                chunk("lex", "email newsletter cadence", dense=[0, 1, 0, 0]),
                chunk("sem", "how often to write to subscribers", dense=[1, 0, 0, 0]),
            ]
        )
        assert [h.chunk_id for h in await index.search(ask("newsletter"), source_ids={"src-a"}, top_k=5)] == [
            "lex"
        ]
        dense_only = await index.search(ask(dense=[1, 0.1, 0, 0]), source_ids={"src-a"}, top_k=1)
        assert [h.chunk_id for h in dense_only] == ["sem"]
        # A question with no words left is a dense search, scored by cosine like one.
        [wordless] = await index.search(ask("", dense=[1, 0, 0, 0]), source_ids={"src-a"}, top_k=1)
        assert (wordless.chunk_id, wordless.score) == ("sem", pytest.approx(1.0, rel=1e-4))

    async def test_hybrid_query_fuses_both_rankings(self, fresh: OpenIndex) -> None:
        index = await fresh(HYBRID)
        await index.upsert(
            [
                chunk("both", "newsletter cadence advice", dense=[1, 0, 0, 0]),
                chunk("lexical", "newsletter templates", dense=[0, 0, 1, 0]),
                chunk("semantic", "how often to email readers", dense=[0.9, 0.1, 0, 0]),
                chunk("neither", "cover design", dense=[0, 0, 0, 1]),
            ]
        )
        hits = await index.search(
            ask("newsletter cadence", dense=[1, 0, 0, 0]), source_ids={"src-a"}, top_k=3
        )
        ids = [h.chunk_id for h in hits]
        assert ids[0] == "both"
        assert set(ids) == {"both", "lexical", "semantic"}
        # RRF scores are sums of 1 / (60 + rank): the chunk first in both lists scores 2/61.
        assert hits[0].score == pytest.approx(2 / 61, rel=1e-4)

    async def test_dense_only_collection(self, fresh: OpenIndex) -> None:
        index = await fresh(DENSE)
        await index.upsert(
            [
                chunk("north", "n", dense=[0, 1, 0, 0], sparse=False),
                chunk("east", "e", dense=[1, 0, 0, 0], sparse=False),
            ]
        )
        hits = await index.search(ask(dense=[0.9, 0.2, 0, 0]), source_ids={"src-a"}, top_k=2)
        assert [h.chunk_id for h in hits] == ["east", "north"]
        assert hits[0].score == pytest.approx(0.9 / (0.9**2 + 0.2**2) ** 0.5, rel=1e-4)

    async def test_a_chunk_that_does_not_fit_the_layout_is_refused_and_nothing_is_written(
        self, fresh: OpenIndex
    ) -> None:
        index = await fresh(HYBRID)
        good = chunk("good", "fine chunk", dense=[1, 0, 0, 0])
        with pytest.raises(InvalidInput) as missing_dense:
            await index.upsert([good, chunk("bad", "no dense vector")])
        assert missing_dense.value.code == "embedding-layout-mismatch"
        with pytest.raises(InvalidInput):
            await index.upsert([chunk("bad", "wrong size", dense=[1, 0, 0])])
        assert await index.count() == 0
        with pytest.raises(InvalidInput):
            await index.search(ask("fine", dense=[1, 0]), source_ids={"src-a"}, top_k=5)

    async def test_ensure_collection_is_idempotent_and_refuses_another_layout(self, fresh: OpenIndex) -> None:
        index = await fresh(SPARSE)
        await index.upsert([chunk("a", "kept across calls")])
        await index.ensure_collection(SPARSE)
        assert await index.count() == 1
        with pytest.raises(Conflict) as mismatch:
            await index.ensure_collection(HYBRID)
        assert mismatch.value.code == "vector-layout-mismatch"


class TestInMemoryVectorIndex(VectorIndexContract):
    @pytest.fixture
    def open_index(self) -> OpenIndex:
        async def make(layout: VectorLayout) -> VectorIndex:
            return InMemoryVectorIndex()

        return make


class TestQdrantLocalVectorIndex(VectorIndexContract):
    @pytest.fixture
    async def open_index(self, tmp_path: Path) -> AsyncIterator[OpenIndex]:
        opened: list[QdrantVectorIndex] = []

        async def make(layout: VectorLayout) -> VectorIndex:
            index = QdrantVectorIndex(path=tmp_path / f"qdrant-{len(opened)}")
            opened.append(index)
            return index

        yield make
        for index in opened:
            await index.close()


class TestPineconeVectorIndex(VectorIndexContract):
    """Through the real Pinecone SDK against a local double: no Pinecone server runs offline."""

    @pytest.fixture
    async def open_index(self, tmp_path: Path) -> AsyncIterator[OpenIndex]:
        doubles: list[PineconeDouble] = []
        opened: list[PineconeVectorIndex] = []

        async def make(layout: VectorLayout) -> VectorIndex:
            dense = sparse = None
            if layout.dense_dimension is not None:
                dense = PineconeDouble(dimension=layout.dense_dimension).start()
                doubles.append(dense)
            if layout.sparse:
                sparse = PineconeDouble(vector_type="sparse").start()
                doubles.append(sparse)
            index = PineconeVectorIndex(
                api_key="test-key",
                dense_host=dense.host if dense else None,
                sparse_host=sparse.host if sparse else None,
            )
            opened.append(index)
            return index

        yield make
        for index in opened:
            await index.close()
        for double in doubles:
            double.stop()


class TestMirroredQdrantVectorIndex(VectorIndexContract):
    """The embedded default: Qdrant on disk, searches served by the in-memory mirror."""

    @pytest.fixture
    async def open_index(self, tmp_path: Path) -> AsyncIterator[OpenIndex]:
        from adapters.vectors.mirrored_index import MirroredVectorIndex

        opened: list[MirroredVectorIndex] = []

        async def make(layout: VectorLayout) -> VectorIndex:
            index = MirroredVectorIndex(QdrantVectorIndex(path=tmp_path / f"mirrored-{len(opened)}"))
            opened.append(index)
            return index

        yield make
        for index in opened:
            await index.close()


async def test_the_mirror_is_warmed_from_disk_after_a_restart(tmp_path: Path) -> None:
    from adapters.vectors.mirrored_index import MirroredVectorIndex

    first = MirroredVectorIndex(QdrantVectorIndex(path=tmp_path / "q"))
    await first.ensure_collection(SPARSE)
    await first.upsert(
        [chunk("c1", "pricing strategy for publishers"), chunk("c2", "podcast growth tactics")]
    )
    await first.close()
    second = MirroredVectorIndex(QdrantVectorIndex(path=tmp_path / "q"))
    await second.ensure_collection(SPARSE)
    try:
        assert await second.count() == 2
        hits = await second.search(ask("pricing"), source_ids={"src-a"}, top_k=5)
        assert [h.chunk_id for h in hits][:1] == ["c1"]
        assert hits[0].text == "pricing strategy for publishers"
    finally:
        await second.close()
