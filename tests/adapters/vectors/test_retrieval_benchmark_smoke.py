"""The retrieval benchmark stays runnable, and its NumPy floor ranks exactly as embedded Qdrant
does (otherwise the comparison it prints would be meaningless)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.retrieval import conclusion, documents, generate_corpus, generate_queries, measure, report


def test_the_corpus_is_deterministic_and_shaped_like_books() -> None:
    corpus = generate_corpus(900, seed=3)
    assert corpus == generate_corpus(900, seed=3)
    assert corpus != generate_corpus(900, seed=4)
    assert len({c.chunk_id for c in corpus}) == 900
    assert len({c.source_id for c in corpus}) == 3
    assert all(120 <= c.token_count <= 320 for c in corpus)
    files = documents(corpus)
    assert sum(len(d.text) for d in files) >= sum(len(c.text) for c in corpus)
    queries = generate_queries(corpus, 10, seed=3)
    assert all(3 <= len(q.text.split()) <= 6 and len(q.source_ids) == 3 for q in queries)


async def test_a_small_run_measures_and_agrees_with_the_floor(tmp_path: Path) -> None:
    result = await measure(300, queries=5, top_k=5, seed=11, workdir=tmp_path, storage="disk")
    assert len(result.search_ms) == 5
    assert result.agreement == 1.0
    assert result.reopen_seconds is not None
    text = report([result], top_k=5, budget_ms=100, storage="disk")
    assert "300" in text
    assert "chunks" in conclusion([result], 100)
