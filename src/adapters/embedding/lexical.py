"""The offline default embedder: lexical BM25 term weights as sparse vectors.

Lexical, not semantic: it matches the words of a question to the words of a chunk (after the
project's tokenizer lowercases and splits them), so a question phrased in other words than the
book finds less than a semantic model would. What it buys: no model download, no API key, no
network, deterministic output, and good ranking of names, titles and exact phrases. A dense
embedder can be used instead, or beside it (the index fuses both rankings by RRF).
"""

from __future__ import annotations

from collections.abc import Sequence

from application.retrieval.lexical import DEFAULT_AVG_DOC_TERMS, document_vector, query_vector
from application.retrieval.ports import Embedding
from domain.text.tokens import tokenize


class LexicalEmbedder:
    """Sparse BM25 vectors over hashed terms (see `application.retrieval.lexical`); the index
    applies IDF at search time. `name` changes whenever the vectors it makes would change, so a
    collection written by another version is noticed rather than silently mis-ranked."""

    def __init__(self, *, avg_doc_terms: float = DEFAULT_AVG_DOC_TERMS) -> None:
        if avg_doc_terms <= 0:
            raise ValueError("avg_doc_terms must be positive")
        self._avg_doc_terms = avg_doc_terms

    @property
    def name(self) -> str:
        return "lexical-bm25-blake2b31-v1"

    @property
    def dimension(self) -> int | None:
        return None

    @property
    def sparse(self) -> bool:
        return True

    async def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        return [
            Embedding(sparse=document_vector(tokenize(text), avg_doc_terms=self._avg_doc_terms))
            for text in texts
        ]

    async def embed_query(self, text: str) -> Embedding:
        return Embedding(sparse=query_vector(tokenize(text)))
