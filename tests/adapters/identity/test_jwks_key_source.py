"""HttpJwksKeySource: caching, refetch limits, failures, and what it refuses to load."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from identity_token_helpers import JwksServer, SigningKey, b64

from adapters.identity.jwks import HttpJwksKeySource, StaticJwksKeySource, usable_keys
from application.errors import ServiceUnavailable


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


MakeSource = Callable[..., HttpJwksKeySource]


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
async def make_source(jwks_server: JwksServer, ticker: Ticker) -> AsyncIterator[MakeSource]:
    made: list[HttpJwksKeySource] = []

    def make(**options: Any) -> HttpJwksKeySource:
        options.setdefault("monotonic", ticker)
        source = HttpJwksKeySource(options.pop("url", jwks_server.url), **options)
        made.append(source)
        return source

    yield make
    for source in made:
        await source.aclose()


async def test_starts_clean_and_fetches_on_first_use(
    jwks_server: JwksServer, make_source: MakeSource, rsa_key: SigningKey
) -> None:
    jwks_server.serve(rsa_key)
    source = make_source()
    assert source.fetch_count == 0
    assert jwks_server.requests == 0
    key = await source.key(rsa_key.kid)
    assert key is not None
    assert key.algorithm_name == "RS256"
    assert jwks_server.requests == 1


async def test_the_set_is_fetched_again_after_the_ttl(
    jwks_server: JwksServer, make_source: MakeSource, rsa_key: SigningKey, ticker: Ticker
) -> None:
    jwks_server.serve(rsa_key)
    source = make_source(cache_ttl_seconds=600)
    await source.key(rsa_key.kid)
    ticker.now += 599
    await source.key(rsa_key.kid)
    assert jwks_server.requests == 1
    ticker.now += 2
    await source.key(rsa_key.kid)
    assert jwks_server.requests == 2


async def test_an_unknown_kid_refetches_once_per_interval(
    jwks_server: JwksServer,
    make_source: MakeSource,
    rsa_key: SigningKey,
    rsa_key_2: SigningKey,
    ticker: Ticker,
) -> None:
    jwks_server.serve(rsa_key)
    source = make_source(min_refetch_interval_seconds=30)
    await source.key(rsa_key.kid)
    jwks_server.serve(rsa_key, rsa_key_2)
    assert await source.key(rsa_key_2.kid) is None  # within 30 s of the last fetch: no refetch
    assert jwks_server.requests == 1
    ticker.now += 31
    assert await source.key(rsa_key_2.kid) is not None  # the rotation is seen now
    assert await source.key("never-heard-of") is None
    assert jwks_server.requests == 2


async def test_concurrent_unknown_kids_share_one_fetch(
    jwks_server: JwksServer, make_source: MakeSource, rsa_key: SigningKey, ticker: Ticker
) -> None:
    jwks_server.serve(rsa_key)
    source = make_source(min_refetch_interval_seconds=0)
    await source.key(rsa_key.kid)
    ticker.now += 1
    results = await asyncio.gather(*(source.key(f"unknown-{n}") for n in range(25)))
    assert results == [None] * 25
    assert jwks_server.requests == 2


async def test_a_failed_refresh_keeps_the_last_good_set(
    jwks_server: JwksServer, make_source: MakeSource, rsa_key: SigningKey, ticker: Ticker
) -> None:
    jwks_server.serve(rsa_key)
    source = make_source(cache_ttl_seconds=60)
    await source.key(rsa_key.kid)
    jwks_server.status = 500
    ticker.now += 120
    assert await source.key(rsa_key.kid) is not None
    assert jwks_server.requests == 2


async def test_no_set_at_all_is_service_unavailable_and_retried_only_after_the_interval(
    jwks_server: JwksServer, make_source: MakeSource, rsa_key: SigningKey, ticker: Ticker
) -> None:
    jwks_server.status = 503
    source = make_source(min_refetch_interval_seconds=30)
    for _ in range(3):
        with pytest.raises(ServiceUnavailable) as caught:
            await source.key(rsa_key.kid)
        assert caught.value.code == "token-keys-unavailable"
    assert jwks_server.requests == 1
    jwks_server.status = 200
    jwks_server.serve(rsa_key)
    ticker.now += 31
    assert await source.key(rsa_key.kid) is not None


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"no": "keys"}', b'{"keys": "nope"}'],
)
async def test_a_malformed_document_is_not_a_key_set(
    body: bytes, jwks_server: JwksServer, make_source: MakeSource, rsa_key: SigningKey
) -> None:
    jwks_server.body = body
    with pytest.raises(ServiceUnavailable):
        await make_source().key(rsa_key.kid)


async def test_an_oversized_document_is_not_read(
    jwks_server: JwksServer, make_source: MakeSource, rsa_key: SigningKey
) -> None:
    jwks_server.serve(rsa_key, extra=[{"kty": "oct", "kid": f"pad-{n}", "k": "x" * 100} for n in range(100)])
    with pytest.raises(ServiceUnavailable):
        await make_source(max_bytes=4096).key(rsa_key.kid)


async def test_redirects_are_not_followed(
    jwks_server: JwksServer, make_source: MakeSource, rsa_key: SigningKey
) -> None:
    jwks_server.serve(rsa_key)
    jwks_server.redirect_to = jwks_server.url + "?elsewhere"
    with pytest.raises(ServiceUnavailable):
        await make_source().key(rsa_key.kid)
    assert jwks_server.requests == 1


@pytest.mark.parametrize(
    "url",
    ["http://clerk.example.test/.well-known/jwks.json", "ftp://127.0.0.1/jwks", "file:///etc/jwks.json"],
)
def test_only_https_or_loopback_http_is_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        HttpJwksKeySource(url)


def test_only_signing_keys_we_would_accept_are_loaded(
    rsa_key: SigningKey, ec_key: SigningKey, weak_rsa_key: SigningKey
) -> None:
    p384 = {**ec_key.public_jwk, "kid": "p384", "crv": "P-384", "alg": "ES384"}
    jwks = {
        "keys": [
            rsa_key.public_jwk,
            ec_key.public_jwk,
            weak_rsa_key.public_jwk,
            {"kty": "oct", "kid": "hmac", "k": b64(b"k" * 32)},
            {**rsa_key.public_jwk, "kid": "enc", "use": "enc"},
            {**rsa_key.public_jwk, "kid": "ps256", "alg": "PS256"},
            {**rsa_key.public_jwk, "kid": ""},
            {**rsa_key.public_jwk, "kid": None},
            {**ec_key.public_jwk, "kid": "rsa-labelled-ec", "alg": "RS256"},
            {"kty": "RSA", "kid": "broken", "n": "AQAB"},
            p384,
            "not an object",
        ]
    }
    keys = usable_keys(jwks)
    assert sorted(keys) == sorted([rsa_key.kid, ec_key.kid])
    assert keys[ec_key.kid].algorithm_name == "ES256"


async def test_static_source_serves_and_rotates(rsa_key: SigningKey, rsa_key_2: SigningKey) -> None:
    source = StaticJwksKeySource({"keys": [rsa_key.public_jwk]})
    assert await source.key(rsa_key.kid) is not None
    source.replace(json.loads(json.dumps({"keys": [rsa_key_2.public_jwk]})))
    assert await source.key(rsa_key.kid) is None
    assert await source.key(rsa_key_2.kid) is not None
