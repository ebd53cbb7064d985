"""Rate limits per API key, per signed-in user and per client IP, with ``Retry-After``.

Every request counts against its client IP; a request that presents a credential also counts
against that credential (a hash of it: the limiter never stores tokens or keys). The limiter
comes from the container: in-process by default, Redis-backed when configured so that several
API processes share one limit. Health, metrics and the API docs are not limited.
"""

from __future__ import annotations

import hashlib
import logging

from dishka import AsyncContainer
from litestar.types import ASGIApp, Receive, Scope, Send

from application.errors import ServiceUnavailable
from application.identity.ports import RateLimiter

log = logging.getLogger("canon.ratelimit")

_EXEMPT = ("/health", "/ready", "/metrics", "/schema", "/static")
_CREDENTIAL_HEADERS = (b"authorization", b"x-api-key")


def _problem(
    status: int, code: str, title: str, detail: str, retry_after: int | None
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    import json

    body = {"type": f"/problems/{code}", "code": code, "title": title, "status": status, "detail": detail}
    headers = [(b"content-type", b"application/problem+json")]
    if retry_after is not None:
        body["retry_after"] = retry_after
        headers.append((b"retry-after", str(retry_after).encode()))
    return headers, json.dumps(body).encode()


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, container: AsyncContainer, *, per_minute: int) -> None:
        self.app = app
        self._container = container
        self._limit = per_minute
        self._limiter: RateLimiter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(_EXEMPT):
            await self.app(scope, receive, send)
            return
        if self._limiter is None:
            self._limiter = await self._container.get(RateLimiter)
        keys = []
        client = scope.get("client")
        keys.append(f"ip:{client[0] if client else 'unknown'}")
        for name, value in scope.get("headers", []):
            if name in _CREDENTIAL_HEADERS and value:
                keys.append(f"cred:{hashlib.sha256(value).hexdigest()[:32]}")
        try:
            for key in keys:
                decision = await self._limiter.hit(key, limit=self._limit, window_seconds=60)
                if not decision.allowed:
                    headers, body = _problem(
                        429,
                        "rate-limited",
                        "Too many requests",
                        "Too many requests; wait before trying again.",
                        decision.retry_after_seconds,
                    )
                    await send({"type": "http.response.start", "status": 429, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
        except ServiceUnavailable:
            # Fail open: a limiter outage must not take the API down; it is logged loudly.
            log.error("rate limiter unavailable; request allowed without a limit")
        await self.app(scope, receive, send)
