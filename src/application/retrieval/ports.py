"""Ports of retrieval: turning text into vectors (`Embedder`) and finding the chunks nearest to a
question among the sources a chatbot may use (`VectorIndex`).

An `Embedding` may carry a dense vector (a semantic model's output), a sparse vector (lexical
term weights), or both. A collection declares which it holds through a `VectorLayout`; when it
holds both, a search ranks by each separately and fuses the two rankings with reciprocal rank
fusion (`application.retrieval.fusion`), because a dense cosine and a lexical BM25 score live on
different scales and cannot be added.

Scores in a `SearchHit` order hits within one result list; they are not comparable across
queries, collections or adapters (a cosine, a BM25 sum and a fused rank score differ in kind).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from application.errors import InvalidInput

MAX_TOP_K = 1000
"""Larger result lists are never useful for answering and cost every backend memory."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SparseVector:
    """Term weights: `indices[i]` carries `values[i]`. Indices are unique and fit in 32 bits,
    the widest every supported backend stores."""

    indices: list[int]
    values: list[float]

    def __post_init__(self) -> None:
        if len(self.indices) != len(self.values):
            raise InvalidInput(
                "A sparse vector needs one value per index.",
                errors={"sparse": f"{len(self.indices)} indices but {len(self.values)} values"},
            )
        if len(set(self.indices)) != len(self.indices):
            raise InvalidInput("A sparse vector's indices must be unique.", errors={"sparse": "duplicates"})
        if any(not 0 <= i < 2**32 for i in self.indices):
            raise InvalidInput(
                "Sparse indices must be in [0, 2^32).", errors={"sparse": "index out of range"}
            )
        if not all(math.isfinite(v) for v in self.values):
            raise InvalidInput("Sparse values must be finite numbers.", errors={"sparse": "not finite"})

    def __len__(self) -> int:
        return len(self.indices)


@dataclass(frozen=True, slots=True, kw_only=True)
class Embedding:
    """What an `Embedder` makes of one text: a dense vector, a sparse vector, or both."""

    dense: list[float] | None = None
    sparse: SparseVector | None = None

    def __post_init__(self) -> None:
        if self.dense is None and self.sparse is None:
            raise InvalidInput(
                "An embedding needs a dense or a sparse vector.", errors={"embedding": "empty"}
            )
        if self.dense is not None:
            if not self.dense:
                raise InvalidInput("A dense vector cannot be empty.", errors={"dense": "empty"})
            if not all(math.isfinite(v) for v in self.dense):
                raise InvalidInput("Dense values must be finite numbers.", errors={"dense": "not finite"})


@dataclass(frozen=True, slots=True, kw_only=True)
class VectorLayout:
    """Which vectors a collection holds: a dense one of `dense_dimension` (compared by cosine)
    and/or a sparse lexical one (scored as BM25: the index applies IDF)."""

    dense_dimension: int | None = None
    sparse: bool = False

    def __post_init__(self) -> None:
        if self.dense_dimension is None and not self.sparse:
            raise InvalidInput("A collection needs a dense or a sparse vector.", errors={"layout": "empty"})
        if self.dense_dimension is not None and self.dense_dimension < 1:
            raise InvalidInput("A dense dimension must be positive.", errors={"dense_dimension": "< 1"})

    @classmethod
    def of(cls, embedder: Embedder) -> VectorLayout:
        """The layout a collection needs to hold what `embedder` produces."""
        return cls(dense_dimension=embedder.dimension, sparse=embedder.sparse)

    def check_document(self, chunk_id: str, embedding: Embedding) -> None:
        """A stored chunk must carry exactly the vectors the collection holds, so that every
        chunk can be found by every ranking the collection runs."""
        problem = self._mismatch(embedding, query=False)
        if problem:
            raise InvalidInput(
                f"Chunk {chunk_id!r} does not fit the collection: {problem}.",
                errors={"embedding": problem},
                code="embedding-layout-mismatch",
            )

    def check_query(self, embedding: Embedding) -> None:
        """A query may use a subset of the collection's vectors (a sparse-only query against a
        hybrid collection is a plain lexical search) but nothing the collection lacks."""
        problem = self._mismatch(embedding, query=True)
        if problem:
            raise InvalidInput(
                f"The query does not fit the collection: {problem}.",
                errors={"query": problem},
                code="embedding-layout-mismatch",
            )

    def _mismatch(self, embedding: Embedding, *, query: bool) -> str:
        if embedding.dense is not None:
            if self.dense_dimension is None:
                return "the collection holds no dense vectors"
            if len(embedding.dense) != self.dense_dimension:
                return f"dense vector has {len(embedding.dense)} dimensions, expected {self.dense_dimension}"
        elif not query and self.dense_dimension is not None:
            return "a dense vector is required"
        if embedding.sparse is not None:
            if not self.sparse:
                return "the collection holds no sparse vectors"
            if not query and len(embedding.sparse) == 0:
                return "the sparse vector is empty (no terms)"
        elif not query and self.sparse:
            return "a sparse vector is required"
        return ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkPayload:
    """What the index returns about a chunk: enough to cite it and attribute its tokens."""

    chunk_id: str
    source_id: str
    file_id: str
    text: str
    token_count: int
    page: int | None = None
    section: str | None = None
    chapter: str | None = None
    start_seconds: float | None = None
    end_seconds: float | None = None

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        for name in ("chunk_id", "source_id", "file_id"):
            if not getattr(self, name):
                errors[name] = "must not be empty"
        if self.token_count < 0:
            errors["token_count"] = "must not be negative"  # noqa: S105 (a field name, not a secret)
        if self.page is not None and self.page < 0:
            errors["page"] = "must not be negative"
        if (
            self.start_seconds is not None
            and self.end_seconds is not None
            and self.end_seconds < self.start_seconds
        ):
            errors["end_seconds"] = "must not be before start_seconds"
        if errors:
            raise InvalidInput("Invalid chunk.", errors=errors)

    def payload(self) -> ChunkPayload:
        """Only the payload fields (drops an embedding or a score carried by a subclass)."""
        return ChunkPayload(
            chunk_id=self.chunk_id,
            source_id=self.source_id,
            file_id=self.file_id,
            text=self.text,
            token_count=self.token_count,
            page=self.page,
            section=self.section,
            chapter=self.chapter,
            start_seconds=self.start_seconds,
            end_seconds=self.end_seconds,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexedChunk(ChunkPayload):
    """A chunk with its embedding, as written to the index. `chunk_id` is its identity:
    writing the same id again replaces the chunk."""

    embedding: Embedding


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit(ChunkPayload):
    """A chunk found by a search; a higher `score` ranks earlier within the same result list."""

    score: float


class Embedder(Protocol):
    """Turns text into an `Embedding`. Documents and queries may be embedded differently
    (a lexical embedder weights document terms by frequency, query terms by presence).

    `name` identifies the model (stored beside the vectors so mixed models are noticed);
    `dimension` is the dense vector's size, or None when it makes no dense vector;
    `sparse` says whether it makes a sparse vector."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int | None: ...

    @property
    def sparse(self) -> bool: ...

    async def embed_documents(self, texts: Sequence[str]) -> list[Embedding]: ...

    async def embed_query(self, text: str) -> Embedding: ...


class VectorIndex(Protocol):
    """Where chunk vectors live and are searched, always scoped to a set of sources.

    - `ensure_collection` creates the collection for `layout`, or checks that an existing one
      has that layout (`Conflict`, code ``vector-layout-mismatch``, if not: re-embed instead).
    - `upsert` is idempotent: the same `chunk_id` overwrites. A chunk that does not carry the
      collection's vectors is refused (`InvalidInput`) and nothing of that batch is written.
    - `search` only ever returns chunks of `source_ids`; an empty set returns nothing.
      With dense and sparse both in the query, the two rankings are fused by RRF.
    - `delete_file` removes every chunk of a file and nothing else.
    - `count` counts all chunks, or those of one file and/or one source (both given: both must match).
    """

    async def ensure_collection(self, layout: VectorLayout) -> None: ...

    async def upsert(self, chunks: Sequence[IndexedChunk]) -> None: ...

    async def search(
        self, query: Embedding, *, source_ids: Collection[str], top_k: int
    ) -> list[SearchHit]: ...

    async def delete_file(self, file_id: str) -> None: ...

    async def count(self, *, file_id: str | None = None, source_id: str | None = None) -> int: ...


def search_scope(source_ids: Collection[str]) -> frozenset[str]:
    """The sources a search may return chunks of. A bare string is refused: it is a collection of
    characters, and searching the sources "a", "b", "c" instead of "abc" would fail silently."""
    if isinstance(source_ids, str | bytes):
        raise InvalidInput(
            "source_ids must be a collection of ids, not one string.", errors={"source_ids": "str"}
        )
    return frozenset(source_ids)


def searchable(query: Embedding) -> Embedding | None:
    """The query without an empty sparse part (a question of only unknown or no words), or None
    when nothing searchable is left. Every adapter treats such a query the same way."""
    if query.sparse is not None and len(query.sparse) == 0:
        return Embedding(dense=query.dense) if query.dense is not None else None
    return query


def check_top_k(top_k: int) -> None:
    """Every adapter refuses the same out-of-range `top_k` the same way."""
    if not 1 <= top_k <= MAX_TOP_K:
        raise InvalidInput(f"top_k must be between 1 and {MAX_TOP_K}.", errors={"top_k": f"got {top_k}"})
