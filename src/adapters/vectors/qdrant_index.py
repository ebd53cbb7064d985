"""Qdrant as the vector index: embedded on disk (`path=`, the default: no server, no network) or
a Qdrant server or cluster (`url=`), through one class and `AsyncQdrantClient`.

Collection layout: a named dense vector ``"dense"`` (cosine) and/or a named sparse vector
``"lexical"`` with Qdrant's IDF modifier, so BM25's corpus statistics stay current without
re-writing chunks. Every point carries the chunk payload; a search filters on ``source_id`` with
`MatchAny`. Point ids are UUIDv5 of the chunk id (Qdrant only accepts integers and UUIDs), so
writing a chunk id again overwrites it.

Hybrid search (dense and sparse in one query) runs both as prefetches and fuses them with
Qdrant's RRF, parameterised so its scores equal `application.retrieval.fusion`'s.

What embedded mode is, honestly (read from ``qdrant_client/local``): a pure-Python,
brute-force store that pickles points into SQLite. It has no HNSW graph, no payload indexes
(they "have no effect" there, so none are created), it scores sparse vectors in a Python loop
over every point before filtering, holds a file lock so only ONE process may open the
directory, and loads every point into memory on start. Its calls are synchronous under the
async API, so this adapter runs them on one dedicated thread with its own event loop: a slow
search then delays other searches, not the web server's event loop. ``benchmarks/retrieval.py``
measures where it stops being fast enough; beyond that, run a Qdrant server (`url=`).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from qdrant_client import AsyncQdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from adapters.vectors._payload import last_write_wins, to_hit, to_payload
from application.errors import Conflict, ExternalServiceError, ServiceUnavailable
from application.retrieval.fusion import RRF_K, candidate_pool
from application.retrieval.ports import (
    ChunkPayload,
    Embedding,
    IndexedChunk,
    SearchHit,
    SparseVector,
    VectorLayout,
    check_top_k,
    search_scope,
    searchable,
)

DENSE = "dense"
MEMORY = ":memory:"
LEXICAL = "lexical"
_POINT_NAMESPACE = uuid.UUID("5b0f7d4e-3f4c-4d8e-9a51-1c0b6f1e2a77")
_UPSERT_BATCH = 256
_T = TypeVar("_T")


def point_id(chunk_id: str) -> str:
    """The Qdrant point id of a chunk: stable across processes and machines."""
    return str(uuid.uuid5(_POINT_NAMESPACE, chunk_id))


class _LoopThread:
    """A daemon thread running its own event loop; coroutines submitted to it run there."""

    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    async def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        future: Future[_T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return await asyncio.wrap_future(future)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


class QdrantVectorIndex:
    """Give exactly one of `path` (embedded, on disk) or `url` (a server). `collection` names the
    collection; use one per embedder, since a collection's layout cannot change in place.
    ``path=":memory:"`` is embedded Qdrant without persistence (same search code, nothing kept)."""

    def __init__(
        self,
        *,
        path: str | Path | None = None,
        url: str | None = None,
        api_key: str | None = None,
        collection: str = "chunks",
        timeout_seconds: int = 30,
    ) -> None:
        if (path is None) == (url is None):
            raise ValueError("Give exactly one of path (embedded Qdrant) or url (a Qdrant server)")
        if not collection:
            raise ValueError("collection must not be empty")
        self._collection = collection
        self._layout: VectorLayout | None = None
        self._embedded = path is not None
        self._thread: _LoopThread | None = None
        self._client: AsyncQdrantClient | None = None
        self._path = Path(path) if path is not None else None
        self._url = url
        self._api_key = api_key or None
        self._timeout = timeout_seconds
        self._open_lock = asyncio.Lock()

    async def ensure_collection(self, layout: VectorLayout) -> None:
        existing = await self._read_layout()
        if existing is None:
            try:
                await self._call(
                    lambda c: c.create_collection(
                        self._collection,
                        vectors_config=(
                            {
                                DENSE: models.VectorParams(
                                    size=layout.dense_dimension, distance=models.Distance.COSINE
                                )
                            }
                            if layout.dense_dimension is not None
                            else {}
                        ),
                        sparse_vectors_config=(
                            {LEXICAL: models.SparseVectorParams(modifier=models.Modifier.IDF)}
                            if layout.sparse
                            else None
                        ),
                    )
                )
            except ExternalServiceError as exc:
                # Another process created it first (HTTP 409): fall through to the layout check.
                if exc.extra.get("status") != 409:
                    raise
            if not self._embedded:
                for field in ("source_id", "file_id"):
                    await self._call(
                        lambda c, f=field: c.create_payload_index(  # type: ignore[misc]
                            self._collection, f, field_schema=models.PayloadSchemaType.KEYWORD, wait=True
                        )
                    )
            existing = await self._read_layout()
        if existing != layout:
            raise Conflict(
                f"Collection {self._collection!r} holds {existing}, not {layout}: "
                "re-embed into a new collection.",
                code="vector-layout-mismatch",
            )
        self._layout = layout

    async def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        layout = await self._require_layout()
        for chunk in chunks:
            layout.check_document(chunk.chunk_id, chunk.embedding)
        points = [
            models.PointStruct(id=point_id(c.chunk_id), vector=_vectors(c.embedding), payload=to_payload(c))
            for c in last_write_wins(chunks)
        ]
        for start in range(0, len(points), _UPSERT_BATCH):
            batch = points[start : start + _UPSERT_BATCH]
            await self._call(lambda c, b=batch: c.upsert(self._collection, points=b, wait=True))  # type: ignore[misc]

    async def search(self, query: Embedding, *, source_ids: Collection[str], top_k: int) -> list[SearchHit]:
        check_top_k(top_k)
        allowed = search_scope(source_ids)
        layout = await self._require_layout()
        layout.check_query(query)
        usable = searchable(query)
        if not allowed or usable is None:
            return []
        dense, sparse = usable.dense, usable.sparse
        scope = models.Filter(
            must=[models.FieldCondition(key="source_id", match=models.MatchAny(any=sorted(allowed)))]
        )
        sparse_query = (
            models.SparseVector(indices=list(sparse.indices), values=list(sparse.values))
            if sparse is not None
            else None
        )
        if dense is not None and sparse_query is not None:
            pool = candidate_pool(top_k)
            response = await self._call(
                lambda c: c.query_points(
                    self._collection,
                    prefetch=[
                        models.Prefetch(query=dense, using=DENSE, limit=pool, filter=scope),
                        models.Prefetch(query=sparse_query, using=LEXICAL, limit=pool, filter=scope),
                    ],
                    # Qdrant counts ranks from 0, the paper (and fusion.py) from 1: k + 1 aligns them.
                    query=models.RrfQuery(rrf=models.Rrf(k=RRF_K + 1)),
                    query_filter=scope,
                    limit=top_k,
                    with_payload=True,
                )
            )
        elif dense is not None:
            response = await self._call(
                lambda c: c.query_points(
                    self._collection,
                    query=dense,
                    using=DENSE,
                    query_filter=scope,
                    limit=top_k,
                    with_payload=True,
                )
            )
        else:
            response = await self._call(
                lambda c: c.query_points(
                    self._collection,
                    query=sparse_query,
                    using=LEXICAL,
                    query_filter=scope,
                    limit=top_k,
                    with_payload=True,
                )
            )
        return [to_hit(point.payload or {}, point.score) for point in response.points]

    async def delete_file(self, file_id: str) -> None:
        await self._require_layout()
        selector = models.FilterSelector(
            filter=models.Filter(
                must=[models.FieldCondition(key="file_id", match=models.MatchValue(value=file_id))]
            )
        )
        await self._call(lambda c: c.delete(self._collection, points_selector=selector, wait=True))

    async def count(self, *, file_id: str | None = None, source_id: str | None = None) -> int:
        await self._require_layout()
        flt = _match(file_id=file_id, source_id=source_id)
        result = await self._call(lambda c: c.count(self._collection, count_filter=flt, exact=True))
        return int(result.count)

    async def scan(self, *, batch_size: int = 1000) -> AsyncIterator[list[IndexedChunk]]:
        """Every stored chunk with its vectors, in batches (to warm a read mirror at start-up)."""
        await self._require_layout()
        offset: Any = None
        while True:
            points, offset = await self._call(
                lambda c, o=offset: c.scroll(  # type: ignore[misc]
                    self._collection, limit=batch_size, offset=o, with_payload=True, with_vectors=True
                )
            )
            batch: list[IndexedChunk] = []
            for point in points:
                hit = to_hit(point.payload or {}, 0.0)
                vectors = point.vector if isinstance(point.vector, dict) else {}
                raw_sparse = vectors.get(LEXICAL)
                dense = vectors.get(DENSE)
                sparse = (
                    SparseVector(indices=list(raw_sparse.indices), values=list(raw_sparse.values))
                    if raw_sparse is not None
                    else None
                )
                fields = {name: getattr(hit, name) for name in ChunkPayload.__dataclass_fields__}
                batch.append(IndexedChunk(**fields, embedding=Embedding(dense=dense, sparse=sparse)))
            if batch:
                yield batch
            if offset is None:
                return

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await self._run(client.close())
        if self._thread is not None:
            thread, self._thread = self._thread, None
            thread.stop()

    async def _read_layout(self) -> VectorLayout | None:
        if not await self._call(lambda c: c.collection_exists(self._collection)):
            return None
        info = await self._call(lambda c: c.get_collection(self._collection))
        vectors = info.config.params.vectors
        sparse = info.config.params.sparse_vectors or {}
        dense_params = vectors.get(DENSE) if isinstance(vectors, dict) else None
        lexical = sparse.get(LEXICAL)
        return VectorLayout(
            dense_dimension=dense_params.size if dense_params is not None else None,
            sparse=lexical is not None and lexical.modifier == models.Modifier.IDF,
        )

    async def _require_layout(self) -> VectorLayout:
        if self._layout is None:
            self._layout = await self._read_layout()
        if self._layout is None:
            raise ServiceUnavailable(
                f"Vector collection {self._collection!r} does not exist (ensure_collection was not called).",
                code="vector-collection-missing",
            )
        return self._layout

    async def _call(self, operation: Callable[[AsyncQdrantClient], Awaitable[_T]]) -> _T:
        client = await self._open()

        async def invoke() -> _T:
            try:
                return await operation(client)
            except UnexpectedResponse as exc:
                raise ExternalServiceError(
                    f"Qdrant answered HTTP {exc.status_code}: {exc.content[:300]!r}",
                    code="vector-index-failed",
                    extra={"status": exc.status_code},
                ) from exc
            except ResponseHandlingException as exc:
                raise ExternalServiceError(
                    f"Qdrant is unreachable: {exc}", code="vector-index-failed"
                ) from exc
            except ValueError as exc:
                # Embedded mode says "already exists" with a ValueError where a server answers 409;
                # two ingestion jobs creating the collection at once must not fail either way.
                if "already exists" not in str(exc):
                    raise
                raise ExternalServiceError(
                    str(exc), code="vector-index-failed", extra={"status": 409}
                ) from exc

        return await self._run(invoke())

    async def _run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        if self._thread is None:
            return await coroutine
        return await self._thread.run(coroutine)

    async def _open(self) -> AsyncQdrantClient:
        async with self._open_lock:
            if self._client is None:
                if self._embedded:
                    assert self._path is not None
                    location = str(self._path)
                    if location != MEMORY:
                        self._path.mkdir(parents=True, exist_ok=True)
                    self._thread = _LoopThread(f"qdrant-embedded:{self._collection}")

                    async def create() -> AsyncQdrantClient:
                        # Created on the worker thread: embedded mode's SQLite handle is bound to it.
                        if location == MEMORY:
                            return AsyncQdrantClient(location=MEMORY)
                        return AsyncQdrantClient(path=location)

                    try:
                        self._client = await self._thread.run(create())
                    except RuntimeError as exc:  # the directory is locked by another process
                        self._thread.stop()
                        self._thread = None
                        raise ServiceUnavailable(
                            f"The embedded vector store is in use by another process: {exc}",
                            code="vector-store-locked",
                        ) from exc
                else:
                    self._client = AsyncQdrantClient(
                        url=self._url, api_key=self._api_key, timeout=self._timeout
                    )
            return self._client


def _vectors(embedding: Embedding) -> dict[str, Any]:
    vectors: dict[str, Any] = {}
    if embedding.dense is not None:
        vectors[DENSE] = embedding.dense
    if embedding.sparse is not None:
        vectors[LEXICAL] = models.SparseVector(
            indices=list(embedding.sparse.indices), values=list(embedding.sparse.values)
        )
    return vectors


def _match(*, file_id: str | None = None, source_id: str | None = None) -> models.Filter | None:
    conditions: list[models.Condition] = []
    if file_id is not None:
        conditions.append(models.FieldCondition(key="file_id", match=models.MatchValue(value=file_id)))
    if source_id is not None:
        conditions.append(models.FieldCondition(key="source_id", match=models.MatchValue(value=source_id)))
    return models.Filter(must=conditions) if conditions else None
