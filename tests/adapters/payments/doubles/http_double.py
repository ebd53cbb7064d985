"""The plumbing of the processors' local HTTP doubles: a threaded server on 127.0.0.1 with a free
port, a route table, and a record of every request (so tests can assert idempotency keys and
prove each test starts clean).

A server thread, not the test's event loop, answers: the Paddle and PayPal SDKs are synchronous
and would block a loop-hosted server.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

REPO_ROOT = Path(__file__).resolve().parents[4]
VENDOR_FIXTURES = REPO_ROOT.parent / "shared" / "vendor-fixtures"
"""The processors' own published example payloads, kept beside the repository, never copied in."""


def vendor_fixture(vendor: str, name: str) -> dict[str, Any]:
    value = json.loads((VENDOR_FIXTURES / vendor / f"{name}.json").read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        """A form body, flattened: Stripe's ``metadata[key]=v`` stays as that literal key."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class DoubleError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


Handler = Callable[[RecordedRequest, re.Match[str]], Reply]


class HttpDouble:
    """Subclasses register routes with `route(method, pattern, handler)` in their constructor."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[RecordedRequest] = []
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the double first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HttpDouble:
        double = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = RecordedRequest(
                    method=self.command,
                    path=parsed.path,
                    query=parse_qs(parsed.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                reply = double.dispatch(request)
                payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                content_type = reply.headers.get("Content-Type", "application/json")
                self.send_header("Content-Type", content_type)
                for key, value in reply.headers.items():
                    if key != "Content-Type":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_PATCH(self) -> None:
                self._serve()

            def do_DELETE(self) -> None:
                self._serve()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        # a short poll keeps stop() (and so every test's teardown) quick
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def dispatch(self, request: RecordedRequest) -> Reply:
        with self.lock:
            self.requests.append(request)
            for method, pattern, handler in self._routes:
                match = pattern.match(request.path)
                if match and method == request.method:
                    try:
                        return handler(request, match)
                    except DoubleError as error:
                        return Reply(error.status, error.body)
            return Reply(404, self.not_found_body(request))

    def not_found_body(self, request: RecordedRequest) -> Any:
        return {"error": f"no route {request.method} {request.path}"}

    def calls(self, method: str, path_pattern: str) -> list[RecordedRequest]:
        pattern = re.compile(f"^{path_pattern}$")
        with self.lock:
            return [r for r in self.requests if r.method == method and pattern.match(r.path)]
