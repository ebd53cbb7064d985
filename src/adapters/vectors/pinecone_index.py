"""Pinecone as the vector index, through the official SDK's data plane (`AsyncIndex`).

Pinecone scores a query with dense and sparse values together as one dot product, which mixes
two scales; Pinecone's own guidance for hybrid search is one dense and one sparse index, merged
by the client. So this adapter takes up to two index hosts: a dense index (cosine, the
embedder's dimension) and a sparse index (``vector_type="sparse"``, dotproduct). It writes each
chunk to the index or indexes its layout needs (the chunk payload goes along as metadata) and
fuses the two rankings with RRF (`application.retrieval.fusion`).

Lexical (BM25) ranking needs IDF, which Pinecone does not apply: the corpus statistics live in
a side namespace of the sparse index (`pinecone_terms`), and a search weights its terms by them.

Indexes are created outside the application (console or control plane); `ensure_collection`
checks that the configured indexes fit the layout. Counts by file or source page through
``fetch_by_metadata`` (Pinecone has no filtered count); the total reads
``describe_index_stats``, which Pinecone documents as eventually consistent.

No Pinecone server runs offline, so this adapter is tested through the real SDK against a local
HTTP double of Pinecone's data-plane REST API (``tests/adapters/vectors/pinecone_double.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from pinecone import AsyncIndex
from pinecone.errors.exceptions import ApiError, PineconeError

from adapters.vectors._payload import last_write_wins, to_hit, to_payload
from adapters.vectors.pinecone_terms import PineconeTermStatistics
from application.errors import Conflict, ExternalServiceError, ServiceUnavailable
from application.retrieval.fusion import candidate_pool, reciprocal_rank_fusion
from application.retrieval.lexical import weight_by_idf
from application.retrieval.ports import (
    Embedding,
    IndexedChunk,
    SearchHit,
    SparseVector,
    VectorLayout,
    check_top_k,
    search_scope,
    searchable,
)

_UPSERT_BATCH = 100  # chunk text rides along as metadata; 100 stays far below the 2 MB request cap
_ID_BATCH = 100
_DELETE_BATCH = 1000
_PAGE = 1000
_T = TypeVar("_T")


class PineconeVectorIndex:
    """`dense_host` and/or `sparse_host` are index hosts (``https://<index>-<project>.svc...``);
    give the ones the embedder's layout needs. `namespace` holds the chunks; the term statistics
    use ``<namespace>-term-stats`` in the sparse index."""

    def __init__(
        self,
        *,
        api_key: str,
        dense_host: str | None = None,
        sparse_host: str | None = None,
        namespace: str = "chunks",
        timeout_seconds: float = 30.0,
    ) -> None:
        if not api_key:
            raise ServiceUnavailable("Pinecone needs an API key.", code="vector-index-not-configured")
        if not dense_host and not sparse_host:
            raise ServiceUnavailable(
                "Pinecone needs a dense or a sparse index host.", code="vector-index-not-configured"
            )
        if not namespace:
            raise ValueError("namespace must not be empty")
        self._namespace = namespace
        self._dense = (
            AsyncIndex(host=dense_host, api_key=api_key, timeout=timeout_seconds) if dense_host else None
        )
        self._sparse = (
            AsyncIndex(host=sparse_host, api_key=api_key, timeout=timeout_seconds) if sparse_host else None
        )
        self._terms = (
            PineconeTermStatistics(self._sparse, f"{namespace}-term-stats") if self._sparse else None
        )
        self._layout: VectorLayout | None = None

    async def ensure_collection(self, layout: VectorLayout) -> None:
        if (layout.dense_dimension is not None) != (self._dense is not None) or layout.sparse != (
            self._sparse is not None
        ):
            raise Conflict(
                f"The configured Pinecone indexes (dense: {self._dense is not None}, sparse: "
                f"{self._sparse is not None}) do not fit {layout}.",
                code="vector-layout-mismatch",
            )
        found = await self._read_layout()
        if found != layout:
            raise Conflict(f"The Pinecone indexes hold {found}, not {layout}.", code="vector-layout-mismatch")
        self._layout = layout

    async def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        layout = await self._require_layout()
        for chunk in chunks:
            layout.check_document(chunk.chunk_id, chunk.embedding)
        unique = last_write_wins(chunks)
        if self._dense is not None:
            dense = self._dense
            records = [
                {"id": c.chunk_id, "values": c.embedding.dense, "metadata": to_payload(c)} for c in unique
            ]
            for start in range(0, len(records), _UPSERT_BATCH):
                batch = records[start : start + _UPSERT_BATCH]
                await _guard(lambda b=batch: dense.upsert(vectors=b, namespace=self._namespace))  # type: ignore[misc]
        if self._sparse is not None and self._terms is not None:
            await self._upsert_sparse(self._sparse, self._terms, unique)

    async def search(self, query: Embedding, *, source_ids: Collection[str], top_k: int) -> list[SearchHit]:
        check_top_k(top_k)
        allowed = search_scope(source_ids)
        layout = await self._require_layout()
        layout.check_query(query)
        usable = searchable(query)
        if not allowed or usable is None:
            return []
        query = usable
        scope = {"source_id": {"$in": sorted(allowed)}}
        fusing = query.dense is not None and query.sparse is not None
        depth = candidate_pool(top_k) if fusing else top_k
        rankings: list[list[tuple[str, float, dict[str, Any]]]] = []
        if query.dense is not None and self._dense is not None:
            rankings.append(await self._query(self._dense, {"vector": query.dense}, scope, depth))
        if query.sparse is not None and self._sparse is not None:
            rankings.append(await self._query_sparse(self._sparse, query.sparse, scope, depth))
        if len(rankings) == 1:
            return [to_hit(meta, score) for _, score, meta in rankings[0][:top_k]]
        payloads = {cid: meta for ranking in rankings for cid, _, meta in ranking}
        fused = reciprocal_rank_fusion([[cid for cid, _, _ in r] for r in rankings], limit=top_k)
        return [to_hit(payloads[cid], score) for cid, score in fused]

    async def delete_file(self, file_id: str) -> None:
        await self._require_layout()
        selector = {"file_id": {"$eq": file_id}}
        if self._dense is not None:
            dense = self._dense
            await _guard(lambda: dense.delete(filter=selector, namespace=self._namespace))
        if self._sparse is not None and self._terms is not None:
            sparse, terms = self._sparse, self._terms
            async with terms.lock:
                stored = await self._fetch_matching(sparse, selector)
                ids = list(stored)
                for start in range(0, len(ids), _DELETE_BATCH):
                    batch = ids[start : start + _DELETE_BATCH]
                    await _guard(lambda b=batch: sparse.delete(ids=b, namespace=self._namespace))  # type: ignore[misc]
                deltas: dict[int, int] = {}
                for indices in stored.values():
                    for term in indices:
                        deltas[term] = deltas.get(term, 0) - 1
                await _guard(lambda: terms.apply(deltas, -len(ids)))

    async def count(self, *, file_id: str | None = None, source_id: str | None = None) -> int:
        await self._require_layout()
        index = self._sparse if self._sparse is not None else self._dense
        assert index is not None
        selector: dict[str, Any] = {}
        if file_id is not None:
            selector["file_id"] = {"$eq": file_id}
        if source_id is not None:
            selector["source_id"] = {"$eq": source_id}
        if not selector:
            stats = await _guard(lambda: index.describe_index_stats())
            summary = stats.namespaces.get(self._namespace)
            return summary.vector_count if summary is not None else 0
        return len(await self._fetch_matching(index, selector))

    async def close(self) -> None:
        for index in (self._dense, self._sparse):
            if index is not None:
                await index.close()

    async def _upsert_sparse(
        self, sparse: AsyncIndex, terms: PineconeTermStatistics, chunks: list[IndexedChunk]
    ) -> None:
        async with terms.lock:
            previous = await self._fetch_terms(sparse, [c.chunk_id for c in chunks])
            deltas: dict[int, int] = {}
            for chunk in chunks:
                assert chunk.embedding.sparse is not None
                new = set(chunk.embedding.sparse.indices)
                old = previous.get(chunk.chunk_id, set())
                for term in new - old:
                    deltas[term] = deltas.get(term, 0) + 1
                for term in old - new:
                    deltas[term] = deltas.get(term, 0) - 1
            records = [
                {
                    "id": c.chunk_id,
                    "sparse_values": {
                        "indices": list(c.embedding.sparse.indices),
                        "values": list(c.embedding.sparse.values),
                    },
                    "metadata": to_payload(c),
                }
                for c in chunks
                if c.embedding.sparse is not None
            ]
            for start in range(0, len(records), _UPSERT_BATCH):
                batch = records[start : start + _UPSERT_BATCH]
                await _guard(lambda b=batch: sparse.upsert(vectors=b, namespace=self._namespace))  # type: ignore[misc]
            added = sum(1 for c in chunks if c.chunk_id not in previous)
            await _guard(lambda: terms.apply(deltas, added))

    async def _query_sparse(
        self, sparse: AsyncIndex, vector: SparseVector, scope: Mapping[str, Any], depth: int
    ) -> list[tuple[str, float, dict[str, Any]]]:
        assert self._terms is not None
        terms = self._terms
        frequencies, corpus = await _guard(lambda: terms.frequencies(vector.indices))
        # Terms no chunk contains match nothing; leaving them out also keeps the query non-empty.
        known = [
            (i, v) for i, v in zip(vector.indices, vector.values, strict=True) if frequencies.get(i, 0) > 0
        ]
        if not known:
            return []
        weighted = weight_by_idf(
            SparseVector(indices=[i for i, _ in known], values=[v for _, v in known]), frequencies, corpus
        )
        body = {"sparse_vector": {"indices": weighted.indices, "values": weighted.values}}
        return await self._query(sparse, body, scope, depth)

    async def _query(
        self, index: AsyncIndex, vector: Mapping[str, Any], scope: Mapping[str, Any], depth: int
    ) -> list[tuple[str, float, dict[str, Any]]]:
        response = await _guard(
            lambda: index.query(
                top_k=depth, namespace=self._namespace, filter=scope, include_metadata=True, **vector
            )
        )
        return [(m.id, float(m.score), dict(m.metadata or {})) for m in response.matches]

    async def _fetch_terms(self, index: AsyncIndex, ids: list[str]) -> dict[str, set[int]]:
        found: dict[str, set[int]] = {}
        for start in range(0, len(ids), _ID_BATCH):
            batch = ids[start : start + _ID_BATCH]
            response = await _guard(lambda b=batch: index.fetch(ids=b, namespace=self._namespace))  # type: ignore[misc]
            for key, stored in response.vectors.items():
                found[key] = set(stored.sparse_values.indices) if stored.sparse_values is not None else set()
        return found

    async def _fetch_matching(self, index: AsyncIndex, selector: Mapping[str, Any]) -> dict[str, set[int]]:
        """Every chunk the filter admits, id to sparse term set, following pagination."""
        found: dict[str, set[int]] = {}
        token: str | None = None
        while True:
            page = await _guard(
                lambda t=token: index.fetch_by_metadata(  # type: ignore[misc]
                    filter=selector, namespace=self._namespace, limit=_PAGE, pagination_token=t
                )
            )
            for key, stored in page.vectors.items():
                found[key] = set(stored.sparse_values.indices) if stored.sparse_values is not None else set()
            token = page.pagination.next if page.pagination is not None else None
            if not token:
                return found

    async def _read_layout(self) -> VectorLayout:
        dimension: int | None = None
        if self._dense is not None:
            dense = self._dense
            stats = await _guard(lambda: dense.describe_index_stats())
            if stats.vector_type not in (None, "dense") or not stats.dimension:
                raise Conflict("The dense Pinecone host is not a dense index.", code="vector-layout-mismatch")
            dimension = stats.dimension
        if self._sparse is not None:
            sparse = self._sparse
            stats = await _guard(lambda: sparse.describe_index_stats())
            if stats.vector_type not in (None, "sparse"):
                raise Conflict(
                    "The sparse Pinecone host is not a sparse index.", code="vector-layout-mismatch"
                )
        return VectorLayout(dense_dimension=dimension, sparse=self._sparse is not None)

    async def _require_layout(self) -> VectorLayout:
        if self._layout is None:
            self._layout = await self._read_layout()
        return self._layout


async def _guard(operation: Callable[[], Awaitable[_T]]) -> _T:
    """Pinecone failures (after the SDK's own retries) become the application's error."""
    try:
        return await operation()
    except ApiError as exc:
        raise ExternalServiceError(
            f"Pinecone answered HTTP {exc.status_code}: {exc}",
            code="vector-index-failed",
            extra={"status": exc.status_code},
        ) from exc
    except PineconeError as exc:
        raise ExternalServiceError(f"Pinecone failed: {exc}", code="vector-index-failed") from exc
