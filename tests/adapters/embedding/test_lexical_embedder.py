"""The offline lexical embedder: deterministic sparse BM25 vectors, no model, no network."""

from __future__ import annotations

import asyncio
import sys

import pytest

from adapters.embedding.lexical import LexicalEmbedder
from adapters.vectors.memory_index import InMemoryVectorIndex
from application.retrieval.lexical import saturated_tf, term_index
from application.retrieval.ports import IndexedChunk, VectorLayout
from domain.text.tokens import tokenize


async def test_documents_weigh_term_frequency_and_queries_term_presence() -> None:
    embedder = LexicalEmbedder()
    [doc] = await embedder.embed_documents(["Royalties, royalties and RIGHTS."])
    assert doc.dense is None
    assert doc.sparse is not None
    terms = tokenize("Royalties, royalties and RIGHTS.")
    weights = dict(zip(doc.sparse.indices, doc.sparse.values, strict=True))
    assert weights[term_index("royalties")] == pytest.approx(saturated_tf(2, len(terms)))
    assert weights[term_index("rights")] == pytest.approx(saturated_tf(1, len(terms)))
    assert doc.sparse.indices == sorted(doc.sparse.indices)
    query = await embedder.embed_query("royalties ROYALTIES rights")
    assert query.sparse is not None
    assert query.sparse.values == [1.0] * len(query.sparse.indices)
    assert set(query.sparse.indices) == {term_index("royalties"), term_index("rights")}


async def test_metadata_describes_a_sparse_only_embedder() -> None:
    embedder = LexicalEmbedder()
    assert (embedder.dimension, embedder.sparse) == (None, True)
    assert VectorLayout.of(embedder) == VectorLayout(sparse=True)
    assert embedder.name.startswith("lexical-bm25")
    with pytest.raises(ValueError, match="avg_doc_terms"):
        LexicalEmbedder(avg_doc_terms=0)


async def test_vectors_are_identical_in_another_process() -> None:
    # Python's hash() is salted per process; the embedder must not depend on it.
    program = (
        "import asyncio; from adapters.embedding.lexical import LexicalEmbedder; "
        "e = asyncio.run(LexicalEmbedder().embed_query('stable across processes')); print(e.sparse.indices)"
    )
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-c", program, stdout=asyncio.subprocess.PIPE, env={"PYTHONHASHSEED": "12345"}
    )
    stdout, _ = await other.communicate()
    assert other.returncode == 0
    here = await LexicalEmbedder().embed_query("stable across processes")
    assert here.sparse is not None
    assert stdout.decode().strip() == str(here.sparse.indices)


async def test_it_finds_passages_by_their_words_through_an_index() -> None:
    embedder = LexicalEmbedder()
    texts = [
        "How to negotiate an advance with a traditional publisher.",
        "Self-publishing: pricing an ebook between two and five dollars.",
        "Building an audience with a weekly email newsletter.",
    ]
    index = InMemoryVectorIndex()
    await index.ensure_collection(VectorLayout.of(embedder))
    embeddings = await embedder.embed_documents(texts)
    await index.upsert(
        [
            IndexedChunk(
                chunk_id=f"c{i}",
                source_id="s",
                file_id="f",
                text=t,
                token_count=len(tokenize(t)),
                embedding=e,
            )
            for i, (t, e) in enumerate(zip(texts, embeddings, strict=True))
        ]
    )
    hits = await index.search(
        await embedder.embed_query("what should my ebook pricing be?"), source_ids={"s"}, top_k=3
    )
    assert hits[0].chunk_id == "c1"
    assert await index.search(await embedder.embed_query("???"), source_ids={"s"}, top_k=3) == []
