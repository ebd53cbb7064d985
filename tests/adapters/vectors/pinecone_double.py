"""A local HTTP double of Pinecone's data-plane REST API, for testing through the real SDK.

It speaks the wire format the installed SDK's `AsyncIndex` uses (JSON bodies in camelCase, the
``Api-Key`` and ``X-Pinecone-Api-Version`` headers) for the endpoints the adapter calls:
``POST /vectors/upsert``, ``POST /query``, ``GET /vectors/fetch``,
``POST /vectors/fetch_by_metadata``, ``POST /vectors/delete``, ``POST /describe_index_stats``
and ``GET /vectors/list``. One double is one index: dense (with a dimension and a metric) or
sparse. It enforces the server-side rules an adapter could break: vector shape per index type,
1,000 vectors per upsert, ``topK`` at most 10,000, one delete selector, legal metadata values,
and metadata filters ($eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, $and, $or).
Failures answer like Pinecone: ``{"code": ..., "message": ..., "details": []}``.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

DEFAULT_NAMESPACE = "__default__"


class DoubleError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class StoredVector:
    id: str
    values: list[float]
    sparse: dict[int, float] | None
    metadata: dict[str, Any]

    def wire(self, *, values: bool = True, metadata: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if values:
            out["values"] = self.values
            if self.sparse is not None:
                out["sparseValues"] = {"indices": list(self.sparse), "values": list(self.sparse.values())}
        if metadata and self.metadata:
            out["metadata"] = self.metadata
        return out


@dataclass
class PineconeDouble:
    """Start with `start()`, point the SDK at `host`, stop with `stop()`."""

    api_key: str = "test-key"
    vector_type: str = "dense"
    dimension: int | None = None
    metric: str = "cosine"
    namespaces: dict[str, dict[str, StoredVector]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.vector_type == "dense" and not self.dimension:
            raise ValueError("a dense index needs a dimension")
        if self.vector_type == "sparse":
            self.metric = "dotproduct"
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> PineconeDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                double._dispatch(self, "GET")

            def do_POST(self) -> None:
                double._dispatch(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def stored(self, namespace: str) -> dict[str, StoredVector]:
        return self.namespaces.get(namespace, {})

    # -- HTTP plumbing ---------------------------------------------------------------------------

    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(handler.path)
        try:
            if handler.headers.get("Api-Key") != self.api_key:
                raise DoubleError(401, "Invalid API Key")
            if not handler.headers.get("X-Pinecone-Api-Version"):
                raise DoubleError(400, "Missing X-Pinecone-Api-Version header")
            length = int(handler.headers.get("Content-Length") or 0)
            body = json.loads(handler.rfile.read(length) or b"{}") if method == "POST" else {}
            query = parse_qs(url.query)
            with self._lock:
                self.requests.append((method, url.path, body if method == "POST" else query))
                if self.fail_next:
                    raise DoubleError(self.fail_next.pop(0), "injected failure")
                route = {
                    ("POST", "/vectors/upsert"): self._upsert,
                    ("POST", "/query"): self._query,
                    ("GET", "/vectors/fetch"): self._fetch,
                    ("POST", "/vectors/fetch_by_metadata"): self._fetch_by_metadata,
                    ("POST", "/vectors/delete"): self._delete,
                    ("POST", "/describe_index_stats"): self._stats,
                    ("GET", "/vectors/list"): self._list,
                }.get((method, url.path))
                if route is None:
                    raise DoubleError(404, f"Not found: {method} {url.path}")
                payload = route(body if method == "POST" else query)
            self._send(handler, 200, payload)
        except DoubleError as exc:
            self._send(handler, exc.status, {"code": 3, "message": exc.message, "details": []})
        except (ValueError, KeyError, TypeError) as exc:
            self._send(handler, 400, {"code": 3, "message": f"Invalid request: {exc}", "details": []})

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    # -- endpoints -------------------------------------------------------------------------------

    def _upsert(self, body: dict[str, Any]) -> dict[str, Any]:
        vectors = body.get("vectors") or []
        if len(vectors) > 1000:
            raise DoubleError(400, "Upsert request can contain at most 1000 vectors")
        parsed = [self._parse_vector(v) for v in vectors]
        space = self.namespaces.setdefault(body.get("namespace") or DEFAULT_NAMESPACE, {})
        for vector in parsed:
            space[vector.id] = vector
        return {"upsertedCount": len(parsed)}

    def _query(self, body: dict[str, Any]) -> dict[str, Any]:
        top_k = body.get("topK")
        if not isinstance(top_k, int) or not 1 <= top_k <= 10_000:
            raise DoubleError(400, "topK must be between 1 and 10000")
        namespace = body.get("namespace") or DEFAULT_NAMESPACE
        flt = body.get("filter")
        dense = body.get("vector")
        sparse_body = body.get("sparseVector")
        if self.vector_type == "dense":
            if not dense or len(dense) != self.dimension:
                raise DoubleError(400, f"Query vector must have dimension {self.dimension}")
        elif dense:
            raise DoubleError(400, "Sparse indexes do not accept a dense query vector")
        elif not sparse_body or not sparse_body.get("indices"):
            raise DoubleError(400, "Sparse indexes need a non-empty sparse query vector")
        sparse = self._parse_sparse(sparse_body) if sparse_body else None
        scored: list[tuple[float, str]] = []
        for vector in self.stored(namespace).values():
            if flt is not None and not matches(vector.metadata, flt):
                continue
            score = self._score(vector, dense, sparse)
            if score is not None:
                scored.append((score, vector.id))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        include_values = bool(body.get("includeValues"))
        include_metadata = bool(body.get("includeMetadata"))
        matches_out = []
        for score, vid in scored[:top_k]:
            wire = self.stored(namespace)[vid].wire(values=include_values, metadata=include_metadata)
            if not include_values:
                wire["values"] = []
            wire["score"] = score
            matches_out.append(wire)
        return {
            "matches": matches_out,
            "namespace": "" if namespace == DEFAULT_NAMESPACE else namespace,
            "usage": {"readUnits": 1},
        }

    def _fetch(self, query: dict[str, list[str]]) -> dict[str, Any]:
        ids = query.get("ids") or []
        if not ids:
            raise DoubleError(400, "ids are required")
        namespace = (query.get("namespace") or [DEFAULT_NAMESPACE])[0]
        space = self.stored(namespace)
        return {
            "vectors": {i: space[i].wire() for i in ids if i in space},
            "namespace": namespace,
            "usage": {"readUnits": 1},
        }

    def _fetch_by_metadata(self, body: dict[str, Any]) -> dict[str, Any]:
        flt = body.get("filter")
        if not flt:
            raise DoubleError(400, "Empty filter provided for fetch by metadata request")
        limit = body.get("limit", 100)
        if not 1 <= limit <= 10_000:
            raise DoubleError(400, "limit must be between 1 and 10000")
        namespace = body.get("namespace") or DEFAULT_NAMESPACE
        hits = sorted(v for v, vec in self.stored(namespace).items() if matches(vec.metadata, flt))
        offset = int(body.get("paginationToken") or 0)
        page = hits[offset : offset + limit]
        out: dict[str, Any] = {
            "vectors": {i: self.stored(namespace)[i].wire() for i in page},
            "namespace": namespace,
            "usage": {"readUnits": 1},
        }
        if offset + limit < len(hits):
            out["pagination"] = {"next": str(offset + limit)}
        return out

    def _delete(self, body: dict[str, Any]) -> dict[str, Any]:
        ids, delete_all, flt = body.get("ids"), body.get("deleteAll"), body.get("filter")
        if sum(1 for s in (ids, delete_all, flt) if s) != 1:
            raise DoubleError(400, "Exactly one of ids, deleteAll or filter is required")
        namespace = body.get("namespace") or DEFAULT_NAMESPACE
        space = self.namespaces.get(namespace, {})
        if ids:
            if len(ids) > 1000:
                raise DoubleError(400, "Delete request can contain at most 1000 ids")
            for vid in ids:
                space.pop(vid, None)
        elif delete_all:
            space.clear()
        else:
            for vid in [v for v, vec in space.items() if matches(vec.metadata, flt)]:
                del space[vid]
        return {}

    def _stats(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("filter"):
            raise DoubleError(
                400,
                "Serverless indexes do not support describing index stats with metadata filtering",
            )
        namespaces = {ns: {"vectorCount": len(space)} for ns, space in self.namespaces.items() if space}
        return {
            "namespaces": namespaces,
            "dimension": self.dimension or 0,
            "indexFullness": 0.0,
            "totalVectorCount": sum(n["vectorCount"] for n in namespaces.values()),
            "metric": self.metric,
            "vectorType": self.vector_type,
        }

    def _list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        namespace = (query.get("namespace") or [DEFAULT_NAMESPACE])[0] or DEFAULT_NAMESPACE
        prefix = (query.get("prefix") or [""])[0]
        limit = int((query.get("limit") or ["100"])[0])
        offset = int((query.get("paginationToken") or ["0"])[0])
        ids = sorted(v for v in self.stored(namespace) if v.startswith(prefix))
        out: dict[str, Any] = {
            "vectors": [{"id": i} for i in ids[offset : offset + limit]],
            "namespace": namespace,
        }
        if offset + limit < len(ids):
            out["pagination"] = {"next": str(offset + limit)}
        return out

    # -- vectors ---------------------------------------------------------------------------------

    def _parse_vector(self, raw: dict[str, Any]) -> StoredVector:
        vid = raw.get("id")
        if not isinstance(vid, str) or not vid or len(vid) > 512:
            raise DoubleError(400, "Vector id must be a non-empty string of at most 512 characters")
        values = [float(v) for v in raw.get("values") or []]
        sparse = self._parse_sparse(raw["sparseValues"]) if raw.get("sparseValues") else None
        if self.vector_type == "dense":
            if len(values) != self.dimension:
                raise DoubleError(
                    400,
                    f"Vector dimension {len(values)} does not match the index dimension {self.dimension}",
                )
            if sparse is not None and self.metric != "dotproduct":
                raise DoubleError(
                    400, "Sparse values are only supported for indexes using the dotproduct metric"
                )
        else:
            if values:
                raise DoubleError(400, "Sparse indexes do not accept dense values")
            if not sparse:
                raise DoubleError(400, "Sparse vector must contain at least one non-zero value")
        metadata = {k: v for k, v in (raw.get("metadata") or {}).items() if v is not None}
        for key, value in metadata.items():
            legal = isinstance(value, (str, bool, int, float)) or (
                isinstance(value, list) and all(isinstance(item, str) for item in value)
            )
            if not legal:
                raise DoubleError(
                    400,
                    f"Metadata value for field {key!r} must be a string, number, boolean or list of strings",
                )
        if len(json.dumps(metadata)) > 40_960:
            raise DoubleError(400, "Metadata size exceeds the limit of 40960 bytes per vector")
        # Pinecone stores every number as a double, so an int comes back as a float.
        metadata = {
            k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in metadata.items()
        }
        return StoredVector(id=vid, values=values, sparse=sparse, metadata=metadata)

    @staticmethod
    def _parse_sparse(raw: dict[str, Any]) -> dict[int, float]:
        indices, values = raw.get("indices") or [], raw.get("values") or []
        if len(indices) != len(values):
            raise DoubleError(400, "Sparse vector indices and values must have the same length")
        if len(set(indices)) != len(indices):
            raise DoubleError(400, "Sparse vector indices must be unique")
        if any(not isinstance(i, int) or not 0 <= i < 2**32 for i in indices):
            raise DoubleError(400, "Sparse vector indices must be 32-bit unsigned integers")
        return {int(i): float(v) for i, v in zip(indices, values, strict=True)}

    def _score(
        self, vector: StoredVector, dense: list[float] | None, sparse: dict[int, float] | None
    ) -> float | None:
        if self.vector_type == "sparse":
            assert sparse is not None
            assert vector.sparse is not None
            shared = sparse.keys() & vector.sparse.keys()
            return sum(sparse[i] * vector.sparse[i] for i in shared) if shared else None
        assert dense is not None
        dot = sum(a * b for a, b in zip(dense, vector.values, strict=True))
        if sparse and vector.sparse:
            dot += sum(sparse[i] * vector.sparse[i] for i in sparse.keys() & vector.sparse.keys())
        if self.metric == "cosine":
            norms = math.sqrt(sum(a * a for a in dense)) * math.sqrt(sum(b * b for b in vector.values))
            return dot / norms if norms else 0.0
        if self.metric == "euclidean":
            return math.sqrt(sum((a - b) ** 2 for a, b in zip(dense, vector.values, strict=True)))
        return dot


def matches(metadata: dict[str, Any], flt: dict[str, Any]) -> bool:
    """Pinecone's metadata filter language (the operators the adapter and tests use)."""
    for key, condition in flt.items():
        if key == "$and":
            if not all(matches(metadata, part) for part in condition):
                return False
        elif key == "$or":
            if not any(matches(metadata, part) for part in condition):
                return False
        elif isinstance(condition, dict):
            for operator, operand in condition.items():
                if not _compare(metadata.get(key), operator, operand, key in metadata):
                    return False
        elif not _compare(metadata.get(key), "$eq", condition, key in metadata):
            return False
    return True


def _compare(value: Any, operator: str, operand: Any, present: bool) -> bool:
    values = value if isinstance(value, list) else [value]
    if operator == "$exists":
        return present == bool(operand)
    if not present:
        return operator in ("$ne", "$nin")
    if operator == "$eq":
        return operand in values
    if operator == "$ne":
        return operand not in values
    if operator == "$in":
        return any(v in operand for v in values)
    if operator == "$nin":
        return all(v not in operand for v in values)
    comparisons = {
        "$gt": lambda a: a > operand,
        "$gte": lambda a: a >= operand,
        "$lt": lambda a: a < operand,
        "$lte": lambda a: a <= operand,
    }
    if operator in comparisons:
        return isinstance(value, (int, float)) and comparisons[operator](value)
    raise DoubleError(400, f"Unsupported filter operator {operator}")
