"""JwksTokenVerifier against a JWKS served over HTTP on 127.0.0.1: valid tokens and attacks."""

from __future__ import annotations

import hashlib
import hmac
import json
import warnings
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from identity_token_helpers import (
    ISSUER,
    PARTY,
    JwksServer,
    SigningKey,
    b64,
    claims,
    raw_token,
    segment,
)

from adapters.clock import FakeClock
from adapters.identity.jwks import HttpJwksKeySource, StaticJwksKeySource
from adapters.identity.jwt_verifier import JwksTokenVerifier
from application.errors import NotAuthenticated

MakeVerifier = Callable[..., JwksTokenVerifier]


@pytest.fixture
async def make_verifier(jwks_server: JwksServer, clock: FakeClock) -> AsyncIterator[MakeVerifier]:
    sources: list[HttpJwksKeySource] = []

    def make(**options: Any) -> JwksTokenVerifier:
        source = HttpJwksKeySource(
            jwks_server.url, min_refetch_interval_seconds=options.pop("min_refetch_interval_seconds", 30.0)
        )
        sources.append(source)
        options.setdefault("issuer", ISSUER)
        options.setdefault("authorized_parties", (PARTY,))
        return JwksTokenVerifier(source, clock=clock, **options)

    yield make
    for source in sources:
        await source.aclose()


async def refused(verifier: JwksTokenVerifier, token: str) -> str:
    with pytest.raises(NotAuthenticated) as caught:
        await verifier.verify(token)
    return caught.value.code


# --- what is accepted ---------------------------------------------------------------------------


async def test_accepts_a_valid_rs256_token_and_returns_its_claims(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    verified = await make_verifier().verify(rsa_key.sign(claims(clock)))
    assert verified.subject == "user_2abcDEF"
    assert verified.issuer == ISSUER
    assert verified.email == "ada@example.test"
    assert (verified.first_name, verified.last_name) == ("Ada", "Lovelace")
    assert verified.authorized_party == PARTY
    assert verified.session_id == "sess_123"
    assert verified.expires_at == clock.now() + timedelta(seconds=60)
    assert verified.raw["sid"] == "sess_123"


async def test_accepts_a_valid_es256_token(
    jwks_server: JwksServer,
    make_verifier: MakeVerifier,
    ec_key: SigningKey,
    rsa_key: SigningKey,
    clock: FakeClock,
) -> None:
    jwks_server.serve(rsa_key, ec_key)
    verified = await make_verifier().verify(ec_key.sign(claims(clock)))
    assert verified.subject == "user_2abcDEF"


async def test_keys_are_cached_between_tokens(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    verifier = make_verifier()
    for _ in range(5):
        await verifier.verify(rsa_key.sign(claims(clock)))
    assert jwks_server.requests == 1


async def test_audience_is_checked_when_configured(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    verifier = make_verifier(audiences=("canon-api",), authorized_parties=())
    accepted = await verifier.verify(rsa_key.sign(claims(clock, aud=["other", "canon-api"])))
    assert accepted.audience == ("other", "canon-api")
    assert await refused(verifier, rsa_key.sign(claims(clock, aud="someone-else"))) == "token-wrong-audience"
    assert await refused(verifier, rsa_key.sign(claims(clock))) == "token-wrong-audience"


async def test_small_clock_skew_is_tolerated(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    token = rsa_key.sign(claims(clock))
    clock.advance(timedelta(seconds=65))  # 5 s past exp, within the 10 s leeway
    assert (await make_verifier().verify(token)).subject == "user_2abcDEF"


# --- attacks ------------------------------------------------------------------------------------


async def test_expired_token_is_refused(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    token = rsa_key.sign(claims(clock))
    clock.advance(timedelta(seconds=71))
    assert await refused(make_verifier(), token) == "token-expired"


async def test_token_without_exp_is_refused(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    assert await refused(make_verifier(), rsa_key.sign(claims(clock, exp=None))) == "token-invalid"


async def test_infinite_exp_is_refused(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    header = {"alg": "RS256", "kid": rsa_key.kid, "typ": "JWT"}
    payload = b'{"iss": "%s", "azp": "%s", "exp": Infinity, "sub": "x"}' % (ISSUER.encode(), PARTY.encode())
    signing_input = f"{segment(header)}.{b64(payload)}"
    signature = rsa_key.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    token = f"{signing_input}.{b64(signature)}"
    assert await refused(make_verifier(), token) == "token-invalid"


@pytest.mark.parametrize("claim", ["nbf", "iat"])
async def test_token_not_yet_valid_is_refused(
    claim: str, jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    future = int(clock.now().timestamp()) + 30
    assert (
        await refused(make_verifier(), rsa_key.sign(claims(clock, **{claim: future})))
        == "token-not-yet-valid"
    )


async def test_wrong_issuer_is_refused(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    token = rsa_key.sign(claims(clock, iss="https://evil.example.test"))
    assert await refused(make_verifier(), token) == "token-wrong-issuer"
    assert await refused(make_verifier(), rsa_key.sign(claims(clock, iss=None))) == "token-wrong-issuer"


async def test_wrong_or_missing_authorized_party_is_refused(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    verifier = make_verifier()
    assert (
        await refused(verifier, rsa_key.sign(claims(clock, azp="https://evil.test")))
        == "token-wrong-audience"
    )
    assert await refused(verifier, rsa_key.sign(claims(clock, azp=None))) == "token-wrong-audience"


async def test_an_audience_we_were_not_told_about_is_refused(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    token = rsa_key.sign(claims(clock, aud="another-api"))
    assert await refused(make_verifier(), token) == "token-wrong-audience"


async def test_alg_none_is_refused_without_looking_up_a_key(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    verifier = make_verifier()
    for alg in ("none", "None", "NONE"):
        token = raw_token({"alg": alg, "kid": rsa_key.kid}, claims(clock))
        assert await refused(verifier, token) == "token-invalid"
    assert await refused(verifier, raw_token({"kid": rsa_key.kid}, claims(clock))) == "token-invalid"
    assert (
        await refused(verifier, raw_token({"alg": ["RS256"], "kid": rsa_key.kid}, claims(clock)))
        == "token-invalid"
    )
    assert (
        await refused(verifier, raw_token({"alg": None, "kid": rsa_key.kid}, claims(clock)))
        == "token-invalid"
    )
    assert jwks_server.requests == 0


async def test_hs256_signed_with_the_public_key_is_refused(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    """The HS/RS confusion attack: the attacker knows our public key (it is public) and uses it
    as an HMAC secret, hoping the verifier passes "the key for this kid" to HS256."""
    jwks_server.serve(rsa_key)
    verifier = make_verifier()
    pem = rsa_key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (pem, json.dumps(rsa_key.public_jwk).encode()):
        header = {"alg": "HS256", "kid": rsa_key.kid, "typ": "JWT"}
        signing_input = f"{segment(header)}.{segment(claims(clock))}"
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert await refused(verifier, f"{signing_input}.{b64(signature)}") == "token-invalid"


async def test_a_symmetric_key_in_the_jwks_is_never_used(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    secret = b"s" * 32
    jwks_server.serve(rsa_key, extra=[{"kty": "oct", "kid": "hmac-1", "k": b64(secret), "alg": "HS256"}])
    header = {"alg": "HS256", "kid": "hmac-1"}
    signing_input = f"{segment(header)}.{segment(claims(clock))}"
    token = f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"
    assert await refused(make_verifier(), token) == "token-invalid"


async def test_algorithm_must_match_the_key_named_by_kid(
    jwks_server: JwksServer,
    make_verifier: MakeVerifier,
    rsa_key: SigningKey,
    ec_key: SigningKey,
    clock: FakeClock,
) -> None:
    jwks_server.serve(rsa_key, ec_key)
    # signed correctly by the EC key but claiming to be verified by the RSA key
    token = ec_key.sign(claims(clock), kid=rsa_key.kid)
    assert await refused(make_verifier(), token) == "token-invalid"


async def test_unknown_kid_is_refused_after_one_refetch(
    jwks_server: JwksServer,
    make_verifier: MakeVerifier,
    rsa_key: SigningKey,
    rsa_key_2: SigningKey,
    clock: FakeClock,
) -> None:
    jwks_server.serve(rsa_key)
    verifier = make_verifier(min_refetch_interval_seconds=0)
    await verifier.verify(rsa_key.sign(claims(clock)))
    assert await refused(verifier, rsa_key_2.sign(claims(clock))) == "token-unknown-key"
    assert jwks_server.requests == 2


async def test_rotation_a_key_served_after_rotation_is_accepted(
    jwks_server: JwksServer,
    make_verifier: MakeVerifier,
    rsa_key: SigningKey,
    rsa_key_2: SigningKey,
    clock: FakeClock,
) -> None:
    jwks_server.serve(rsa_key)
    verifier = make_verifier(min_refetch_interval_seconds=0)
    await verifier.verify(rsa_key.sign(claims(clock)))
    jwks_server.serve(rsa_key_2)  # the provider rotated: old key gone, new key in
    assert (await verifier.verify(rsa_key_2.sign(claims(clock)))).subject == "user_2abcDEF"
    assert jwks_server.requests == 2


async def test_unknown_kids_cannot_make_us_hammer_the_jwks_endpoint(
    jwks_server: JwksServer,
    make_verifier: MakeVerifier,
    rsa_key: SigningKey,
    rsa_key_2: SigningKey,
    clock: FakeClock,
) -> None:
    jwks_server.serve(rsa_key)
    verifier = make_verifier(min_refetch_interval_seconds=30)
    await verifier.verify(rsa_key.sign(claims(clock)))
    for n in range(20):
        forged = rsa_key_2.sign(claims(clock), kid=f"made-up-{n}")
        assert await refused(verifier, forged) == "token-unknown-key"
    assert jwks_server.requests == 1  # the first refetch waits for the interval


async def test_missing_kid_is_refused_without_a_fetch(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    token = jwt.encode(claims(clock), rsa_key.private, algorithm="RS256")
    assert await refused(make_verifier(), token) == "token-invalid"
    assert jwks_server.requests == 0


async def test_tampered_payload_is_refused(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    header, _, signature = rsa_key.sign(claims(clock)).split(".")
    forged_payload = b64(json.dumps(claims(clock, sub="user_admin")).encode())
    assert await refused(make_verifier(), f"{header}.{forged_payload}.{signature}") == "token-invalid"


async def test_tampered_signature_is_refused(
    jwks_server: JwksServer,
    make_verifier: MakeVerifier,
    rsa_key: SigningKey,
    ec_key: SigningKey,
    clock: FakeClock,
) -> None:
    jwks_server.serve(rsa_key, ec_key)
    verifier = make_verifier()
    for key in (rsa_key, ec_key):
        head, payload, signature = key.sign(claims(clock)).split(".")
        flipped = ("A" if signature[5] != "A" else "B").join([signature[:5], signature[6:]])
        assert await refused(verifier, f"{head}.{payload}.{flipped}") == "token-invalid"
        assert await refused(verifier, f"{head}.{payload}.") == "token-invalid"


async def test_a_token_signed_by_another_key_with_our_kid_is_refused(
    jwks_server: JwksServer,
    make_verifier: MakeVerifier,
    rsa_key: SigningKey,
    rsa_key_2: SigningKey,
    clock: FakeClock,
) -> None:
    jwks_server.serve(rsa_key)
    assert await refused(make_verifier(), rsa_key_2.sign(claims(clock), kid=rsa_key.kid)) == "token-invalid"


@pytest.mark.parametrize(
    "token",
    ["", "not-a-jwt", "a.b", "a.b.c", "e30.e30.", "x" * 20_000, "eyJhbGciOiJSUzI1NiJ9.!!!.sig"],
)
async def test_garbage_is_refused_as_invalid(
    token: str, jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey
) -> None:
    jwks_server.serve(rsa_key)
    assert await refused(make_verifier(), token) == "token-invalid"


async def test_empty_subject_is_refused(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    assert await refused(make_verifier(), rsa_key.sign(claims(clock, sub=" "))) == "token-invalid"
    assert await refused(make_verifier(), rsa_key.sign(claims(clock, sub=None))) == "token-invalid"


async def test_unknown_critical_header_is_refused(
    jwks_server: JwksServer, make_verifier: MakeVerifier, rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(rsa_key)
    token = rsa_key.sign(claims(clock), crit=["exp-in-the-future"])
    assert await refused(make_verifier(), token) == "token-invalid"


async def test_a_weak_rsa_key_in_the_jwks_is_never_used(
    jwks_server: JwksServer, make_verifier: MakeVerifier, weak_rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.serve(weak_rsa_key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns about signing with a short key
        token = weak_rsa_key.sign(claims(clock))
    assert await refused(make_verifier(), token) == "token-unknown-key"


def test_an_issuer_is_required() -> None:
    with pytest.raises(ValueError, match="issuer"):
        JwksTokenVerifier(StaticJwksKeySource({"keys": []}), issuer="")
