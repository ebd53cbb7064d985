"""A JWKS server on 127.0.0.1 (a free port per test) and signing keys for token tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from identity_token_helpers import NOW, JwksServer, SigningKey, ec_signing_key, rsa_signing_key

from adapters.clock import FakeClock

_KEYS: dict[str, SigningKey] = {}


def _cached(name: str, make: Callable[[], SigningKey]) -> SigningKey:
    if name not in _KEYS:  # RSA generation is slow: one key per name for the whole run
        _KEYS[name] = make()
    return _KEYS[name]


@pytest.fixture
def rsa_key() -> SigningKey:
    return _cached("rsa-1", lambda: rsa_signing_key("rsa-1"))


@pytest.fixture
def rsa_key_2() -> SigningKey:
    return _cached("rsa-2", lambda: rsa_signing_key("rsa-2"))


@pytest.fixture
def ec_key() -> SigningKey:
    return _cached("ec-1", lambda: ec_signing_key("ec-1"))


@pytest.fixture
def weak_rsa_key() -> SigningKey:
    return _cached("rsa-weak", lambda: rsa_signing_key("rsa-weak", bits=1024))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    state = JwksServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            if state.redirect_to:
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.end_headers()
                return
            body = state.body if state.body is not None else json.dumps({"keys": state.keys}).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
