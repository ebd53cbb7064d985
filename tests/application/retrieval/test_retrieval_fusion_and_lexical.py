"""Pure retrieval arithmetic: reciprocal rank fusion, BM25 pieces, and the port value objects."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.errors import InvalidInput
from application.retrieval.fusion import RRF_K, candidate_pool, reciprocal_rank_fusion
from application.retrieval.lexical import (
    TERM_SPACE,
    document_vector,
    idf,
    query_vector,
    saturated_tf,
    term_index,
    weight_by_idf,
)
from application.retrieval.ports import (
    ChunkPayload,
    Embedding,
    SparseVector,
    VectorLayout,
    check_top_k,
)

# -- fusion --------------------------------------------------------------------------------------


def test_rrf_scores_are_sums_of_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]]))
    assert fused["a"] == pytest.approx(1 / (RRF_K + 1))
    assert fused["b"] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert fused["d"] == pytest.approx(1 / (RRF_K + 2))


def test_agreement_between_rankings_beats_one_ranker_favourite() -> None:
    fused = reciprocal_rank_fusion([["solo", "shared"], ["other", "shared"]])
    assert fused[0][0] == "shared"


def test_ties_are_broken_by_id_and_limit_applies() -> None:
    assert reciprocal_rank_fusion([["b"], ["a"]]) == [("a", 1 / 61), ("b", 1 / 61)]
    assert [i for i, _ in reciprocal_rank_fusion([["x", "y", "z"]], limit=2)] == ["x", "y"]
    assert reciprocal_rank_fusion([]) == []


def test_a_repeated_id_counts_once_at_its_best_rank() -> None:
    assert dict(reciprocal_rank_fusion([["a", "a", "b"]]))["a"] == pytest.approx(1 / 61)


def test_negative_k_is_refused() -> None:
    with pytest.raises(ValueError, match="k"):
        reciprocal_rank_fusion([["a"]], k=-1)


def test_candidate_pool_is_deeper_than_top_k() -> None:
    assert candidate_pool(1) == 40
    assert candidate_pool(20) == 80


@given(st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=8, unique=True), max_size=4))
def test_fusion_is_deterministic_sorted_and_covers_every_id(rankings: list[list[str]]) -> None:
    fused = reciprocal_rank_fusion(rankings)
    assert fused == reciprocal_rank_fusion(rankings)
    assert {i for i, _ in fused} == {i for r in rankings for i in r}
    scores = [s for _, s in fused]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= len(rankings) / (RRF_K + 1) for s in scores)


# -- lexical -------------------------------------------------------------------------------------


def test_term_index_is_stable_across_processes() -> None:
    # Pinned: a change here silently breaks every index already written.
    assert term_index("pricing") == 86235966
    assert term_index("Pricing") != term_index("pricing")
    assert all(0 <= term_index(t) < TERM_SPACE for t in ("", "a", "ünïcode", "x" * 1000))


def test_saturated_tf_grows_then_saturates_and_penalises_length() -> None:
    assert saturated_tf(0, 100) == 0.0
    one, two, ten = (saturated_tf(n, 256) for n in (1, 2, 10))
    assert one < two < ten < 1.2 + 1
    assert (two - one) > (ten - saturated_tf(9, 256))
    assert saturated_tf(2, 50) > saturated_tf(2, 1000)
    assert saturated_tf(1, 256) == pytest.approx(1.0)  # at average length, tf=1 weighs exactly 1


def test_idf_matches_the_lucene_and_qdrant_formula() -> None:
    assert idf(1, 10) == pytest.approx(math.log((10 - 1 + 0.5) / (1 + 0.5) + 1))
    assert idf(10, 10) > 0
    assert idf(1, 1000) > idf(500, 1000)
    assert idf(-3, 5) == idf(0, 5)
    assert idf(50, 5) == idf(5, 5)


def test_document_and_query_vectors() -> None:
    doc = document_vector(["royalty", "rates", "royalty"])
    assert doc.indices == sorted({term_index("royalty"), term_index("rates")})
    weights = dict(zip(doc.indices, doc.values, strict=True))
    assert weights[term_index("royalty")] > weights[term_index("rates")]
    query = query_vector(["royalty", "royalty", "rates"])
    assert query.values == [1.0, 1.0]
    assert len(document_vector([])) == 0


def test_weight_by_idf_scales_each_term_by_its_rarity() -> None:
    query = query_vector(["common", "rare"])
    df = {term_index("common"): 90, term_index("rare"): 1}
    result = weight_by_idf(query, df, 100)
    weighted = dict(zip(result.indices, result.values, strict=True))
    assert weighted[term_index("rare")] == pytest.approx(idf(1, 100))
    assert weighted[term_index("common")] == pytest.approx(idf(90, 100))


# -- port value objects --------------------------------------------------------------------------


def test_sparse_vector_validation() -> None:
    with pytest.raises(InvalidInput):
        SparseVector(indices=[1, 2], values=[1.0])
    with pytest.raises(InvalidInput):
        SparseVector(indices=[1, 1], values=[1.0, 2.0])
    with pytest.raises(InvalidInput):
        SparseVector(indices=[2**32], values=[1.0])
    with pytest.raises(InvalidInput):
        SparseVector(indices=[1], values=[math.nan])


def test_embedding_needs_a_vector_with_finite_values() -> None:
    with pytest.raises(InvalidInput):
        Embedding()
    with pytest.raises(InvalidInput):
        Embedding(dense=[])
    with pytest.raises(InvalidInput):
        Embedding(dense=[1.0, math.inf])


def test_layout_checks_documents_strictly_and_queries_by_subset() -> None:
    hybrid = VectorLayout(dense_dimension=2, sparse=True)
    sparse = SparseVector(indices=[1], values=[1.0])
    hybrid.check_document("c", Embedding(dense=[1.0, 0.0], sparse=sparse))
    hybrid.check_query(Embedding(sparse=sparse))
    hybrid.check_query(Embedding(dense=[0.0, 1.0]))
    with pytest.raises(InvalidInput) as missing:
        hybrid.check_document("c", Embedding(sparse=sparse))
    assert missing.value.code == "embedding-layout-mismatch"
    with pytest.raises(InvalidInput):
        hybrid.check_document("c", Embedding(dense=[1.0, 0.0], sparse=SparseVector(indices=[], values=[])))
    with pytest.raises(InvalidInput):
        VectorLayout(sparse=True).check_query(Embedding(dense=[1.0]))
    with pytest.raises(InvalidInput):
        VectorLayout()


def test_chunk_payload_validation_reports_every_bad_field() -> None:
    with pytest.raises(InvalidInput) as bad:
        ChunkPayload(
            chunk_id="",
            source_id="s",
            file_id="",
            text="t",
            token_count=-1,
            start_seconds=5.0,
            end_seconds=1.0,
        )
    assert set(bad.value.errors) == {"chunk_id", "file_id", "token_count", "end_seconds"}


def test_top_k_bounds() -> None:
    check_top_k(1)
    check_top_k(1000)
    for bad in (0, -5, 1001):
        with pytest.raises(InvalidInput):
            check_top_k(bad)
