"""Lexical (BM25) scoring expressed as sparse vectors: the arithmetic, with no I/O.

This is keyword matching, not semantics: "car" does not find "automobile". It needs no model,
no download and no key, ranks exact names and phrases well, and is what the embedded default
uses; a dense embedder (semantic) can be added beside it and fused by RRF.

BM25 splits into a per-document part and a per-corpus part. The document part (saturated term
frequency, normalised by length) is known when a chunk is embedded and goes into the stored
sparse values. The corpus part (IDF: how rare a term is) changes with every upsert, so the
index applies it to the query's terms at search time: Qdrant does it natively (the IDF
modifier); the in-memory and Pinecone adapters use `idf` below, the same formula Qdrant uses,
so every backend ranks the same way.

Terms become indices through a stable hash (BLAKE2b, not Python's per-process salted
``hash()``), so an index written by one process is searchable by another. 2^31 buckets make a
collision between two terms of one corpus rare enough not to matter for ranking.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from application.retrieval.ports import SparseVector

TERM_SPACE = 2**31
BM25_K1 = 1.2
BM25_B = 0.75
DEFAULT_AVG_DOC_TERMS = 256
"""The length a chunk is normalised against. A fixed value (not the live corpus average) keeps
stored vectors valid as the corpus grows; chunkers aim at a few hundred tokens, hence 256."""


def term_index(term: str) -> int:
    """The sparse index of a term, identical in every process and on every machine."""
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % TERM_SPACE


def saturated_tf(
    tf: int,
    doc_terms: int,
    *,
    avg_doc_terms: float = DEFAULT_AVG_DOC_TERMS,
    k1: float = BM25_K1,
    b: float = BM25_B,
) -> float:
    """BM25's term-frequency part: grows with `tf` but saturates (the 10th "budget" in a chunk
    adds far less than the 2nd), and long chunks are discounted against `avg_doc_terms`."""
    if tf <= 0:
        return 0.0
    norm = k1 * (1.0 - b + b * doc_terms / avg_doc_terms)
    return tf * (k1 + 1.0) / (tf + norm)


def idf(document_frequency: int, corpus_size: int) -> float:
    """BM25 inverse document frequency, always positive (Lucene's and Qdrant's form):
    ``ln((N - df + 0.5) / (df + 0.5) + 1)``."""
    df = max(0, min(document_frequency, corpus_size))
    return math.log((corpus_size - df + 0.5) / (df + 0.5) + 1.0)


def document_vector(terms: Sequence[str], *, avg_doc_terms: float = DEFAULT_AVG_DOC_TERMS) -> SparseVector:
    """A chunk's stored sparse vector: each distinct term weighted by its saturated frequency."""
    counts = _merge_collisions((term_index(term), n) for term, n in Counter(terms).items())
    weights = {i: saturated_tf(n, len(terms), avg_doc_terms=avg_doc_terms) for i, n in counts.items()}
    indices = sorted(weights)
    return SparseVector(indices=indices, values=[weights[i] for i in indices])


def query_vector(terms: Iterable[str]) -> SparseVector:
    """A query's sparse vector: each distinct term weighs 1 (BM25 ignores query term counts);
    the index multiplies in IDF when it searches."""
    indices = sorted({term_index(term) for term in terms})
    return SparseVector(indices=indices, values=[1.0] * len(indices))


def weight_by_idf(
    query: SparseVector, document_frequencies: Mapping[int, int], corpus_size: int
) -> SparseVector:
    """The query with IDF applied: the search-time half of BM25."""
    values = [
        v * idf(document_frequencies.get(i, 0), corpus_size)
        for i, v in zip(query.indices, query.values, strict=True)
    ]
    return SparseVector(indices=list(query.indices), values=values)


def _merge_collisions(pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for index, count in pairs:
        merged[index] = merged.get(index, 0) + count
    return merged
