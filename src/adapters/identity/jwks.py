"""Where the token verifier gets its public keys: a JWKS over HTTP, or one held in memory.

Only signing keys we would accept are loaded: RSA (2048 bits or more) for RS256 and EC P-256 for
ES256. Symmetric (``oct``) keys are never loaded, whatever a JWKS says, so no token can ever be
checked with an HMAC: that is half of the defence against the HS256/RS256 confusion attack (the
other half is the verifier's algorithm allow-list).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from application.errors import ServiceUnavailable
from application.identity.ports import AuthCode

log = logging.getLogger("canon.identity.jwks")

ALLOWED_ALGORITHMS: frozenset[str] = frozenset({"RS256", "ES256"})
MIN_RSA_BITS = 2048
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class JwksKeySource(Protocol):
    """Public keys by key id (``kid``)."""

    async def key(self, kid: str) -> PyJWK | None:
        """The key with id ``kid``, or ``None``. May refresh the set to find a rotated-in key."""
        ...


def usable_keys(jwks: Mapping[str, Any]) -> dict[str, PyJWK]:
    """The keys of a JWKS document we accept, by ``kid``; everything else is skipped (logged)."""
    raw_keys = jwks.get("keys")
    if not isinstance(raw_keys, list):
        raise ValueError("a JWKS needs a 'keys' array")
    keys: dict[str, PyJWK] = {}
    for raw in raw_keys:
        if not isinstance(raw, dict):
            continue
        kid = raw.get("kid")
        algorithm = _algorithm_for(raw)
        if not isinstance(kid, str) or not kid or algorithm is None or kid in keys:
            log.info("jwks: skipping key kid=%r kty=%r alg=%r", kid, raw.get("kty"), raw.get("alg"))
            continue
        try:
            key = PyJWK(raw, algorithm)
        except PyJWTError as error:
            log.warning("jwks: unusable key kid=%r: %s", kid, error)
            continue
        if isinstance(key.key, RSAPublicKey) and key.key.key_size < MIN_RSA_BITS:
            log.warning("jwks: RSA key kid=%r is only %d bits", kid, key.key.key_size)
            continue
        keys[kid] = key
    return keys


def _algorithm_for(raw: Mapping[str, Any]) -> str | None:
    if raw.get("use", "sig") != "sig":
        return None
    kty, alg = raw.get("kty"), raw.get("alg")
    if kty == "RSA" and alg in (None, "RS256"):
        return "RS256"
    if kty == "EC" and raw.get("crv") == "P-256" and alg in (None, "ES256"):
        return "ES256"
    return None


class StaticJwksKeySource:
    """Keys held in memory: the embedded issuer's own key set. ``replace`` rotates them."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = usable_keys(jwks)

    def replace(self, jwks: Mapping[str, Any]) -> None:
        self._keys = usable_keys(jwks)

    async def key(self, kid: str) -> PyJWK | None:
        return self._keys.get(kid)


class HttpJwksKeySource:
    """A JWKS fetched over HTTP (Clerk: ``https://<frontend-api>/.well-known/jwks.json``).

    - The set is cached for ``cache_ttl_seconds``, then fetched again on the next use.
    - An unknown ``kid`` is how key rotation shows up, so it triggers ONE refetch, but never more
      than one per ``min_refetch_interval_seconds``: a flood of tokens with made-up ``kid``s
      cannot make us hammer the identity provider. Concurrent callers share one fetch.
    - If a fetch fails the last good set keeps being used; with no set at all the verifier
      answers ``ServiceUnavailable`` rather than refusing valid users as unauthenticated.
    - Only ``https`` (plain ``http`` to a loopback address is allowed for local testing), no
      redirects, at most ``max_bytes`` read.
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout_seconds: float = 5.0,
        cache_ttl_seconds: float = 600.0,
        min_refetch_interval_seconds: float = 30.0,
        max_bytes: int = 256 * 1024,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        parts = urlsplit(url)
        if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)):
            raise ValueError("the JWKS URL must be https (plain http only to a loopback address)")
        self._url = url
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout_seconds)
        self._ttl = cache_ttl_seconds
        self._min_interval = min_refetch_interval_seconds
        self._max_bytes = max_bytes
        self._monotonic = monotonic
        self._keys: dict[str, PyJWK] | None = None
        self._fetched_at = float("-inf")  # last successful fetch
        self._attempted_at = float("-inf")  # last attempt, successful or not
        self._lock = asyncio.Lock()
        self._attempts_done = 0  # finished attempts: lets waiters on the lock reuse a fetch
        self.fetch_count = 0  # attempts started: for metrics and tests

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def key(self, kid: str) -> PyJWK | None:
        if self._keys is None or self._monotonic() - self._fetched_at >= self._ttl:
            await self._refresh()
        keys = self._keys
        if keys is None:
            raise ServiceUnavailable(
                "the identity provider's keys cannot be fetched", code=AuthCode.KEYS_UNAVAILABLE
            )
        found = keys.get(kid)
        if found is None:
            await self._refresh()
            found = (self._keys or {}).get(kid)
        return found

    async def _refresh(self) -> None:
        seen = self._attempts_done
        async with self._lock:
            if self._attempts_done != seen:
                return  # someone fetched while we waited for the lock: use their result
            if self._monotonic() - self._attempted_at < self._min_interval:
                return  # fetched recently: an unknown kid now is not a rotation we can see yet
            self._attempted_at = self._monotonic()
            self.fetch_count += 1
            try:
                keys = usable_keys(await self._fetch())
            except (httpx.HTTPError, ValueError, RecursionError) as error:
                log.warning("jwks: fetching %s failed: %s", self._url, error)
                return
            finally:
                self._attempts_done += 1
            if not keys:
                log.warning("jwks: %s holds no usable signing key", self._url)
            self._keys = keys
            self._fetched_at = self._monotonic()

    async def _fetch(self) -> Mapping[str, Any]:
        headers = {"Accept": "application/json"}
        async with self._client.stream("GET", self._url, headers=headers, follow_redirects=False) as response:
            if response.status_code != httpx.codes.OK:
                raise ValueError(f"HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    raise ValueError(f"JWKS larger than {self._max_bytes} bytes")
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("a JWKS is a JSON object")
        return document
