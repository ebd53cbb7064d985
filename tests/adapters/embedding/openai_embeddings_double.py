"""A local HTTP double of OpenAI's ``POST /v1/embeddings``, for testing through the real SDK.

Vectors are deterministic functions of the text (so tests can compare), sized by the model or
the ``dimensions`` field, encoded as floats or as base64 little-endian float32 (the SDK asks for
base64 by default). Failures can be queued; they carry ``retry-after-ms`` so SDK retries are fast.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NATIVE = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


def fake_vector(text: str, dimension: int) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    return [((seed[i % 32] + i * 7) % 251) / 250.0 - 0.5 for i in range(dimension)]


@dataclass
class OpenAIEmbeddingsDouble:
    api_key: str = "sk-test"
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    wrong_count: bool = False

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> OpenAIEmbeddingsDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                double._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.path != "/v1/embeddings":
            return self._send(
                handler, 404, {"error": {"message": "Unknown path", "type": "invalid_request_error"}}
            )
        if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._send(
                handler, 401, {"error": {"message": "Incorrect API key", "type": "invalid_request_error"}}
            )
        body = json.loads(handler.rfile.read(int(handler.headers.get("Content-Length") or 0)))
        self.requests.append(body)
        if self.fail_next:
            status = self.fail_next.pop(0)
            return self._send(
                handler,
                status,
                {"error": {"message": "injected", "type": "server_error"}},
                {"retry-after-ms": "1"},
            )
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if any(not isinstance(text, str) or not text for text in inputs):
            return self._send(
                handler, 400, {"error": {"message": "'$.input' is invalid.", "type": "invalid_request_error"}}
            )
        if len(inputs) > 2048:
            return self._send(
                handler, 400, {"error": {"message": "Too many inputs", "type": "invalid_request_error"}}
            )
        dimension = body.get("dimensions") or NATIVE[body["model"]]
        data = []
        for position, text in enumerate(inputs[:-1] if self.wrong_count else inputs):
            vector = fake_vector(text, dimension)
            encoded: Any = vector
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": position, "embedding": encoded})
        data.reverse()  # the API does not promise order; the adapter must sort by index
        tokens = sum(len(t.split()) for t in inputs)
        return self._send(
            handler,
            200,
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        raw = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(raw)
