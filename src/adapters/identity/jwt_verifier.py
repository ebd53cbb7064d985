"""``JwksTokenVerifier``: checks JWTs (Clerk's, or the embedded issuer's) with PyJWT.

What is refused, and why (see ``docs/security.md``):

- any algorithm but RS256/ES256, decided from an explicit allow-list BEFORE a key is looked up:
  ``alg: none`` and HS256 never get near a key, so a token "signed" with our public key used as
  an HMAC secret (the HS/RS confusion attack) is refused whatever key it names;
- a token whose ``alg`` is not the algorithm of the key its ``kid`` names (an ES256 header on
  an RSA key...);
- no ``kid``, or a ``kid`` not in the key set (after at most one rate-limited refetch);
- a bad signature, a payload that is not a JSON object, a ``crit`` header we do not know;
- ``exp`` missing or past, ``nbf``/``iat`` in the future (each with ``leeway_seconds``);
- an ``iss`` other than the configured issuer;
- an ``aud`` not in ``audiences`` (and any ``aud`` at all when none is configured: RFC 7519
  says a token meant for someone else must be rejected), an ``azp`` missing or not in
  ``authorized_parties`` when those are configured (Clerk's defence against a session token
  minted for another origin);
- an empty or non-string ``sub``; a token over ``max_token_bytes``.

Time checks use the injected clock (not PyJWT's), so they are testable and consistent with the
rest of the application.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import jwt
from jwt.exceptions import PyJWTError

from adapters.clock import SystemClock
from adapters.identity.jwks import ALLOWED_ALGORITHMS, HttpJwksKeySource, JwksKeySource
from application.errors import NotAuthenticated
from application.identity.ports import AuthCode, Claims
from application.ports.clock import Clock

_PYJWT_OPTIONS: Any = {
    # claims are checked below, with our clock and our error codes; PyJWT checks the signature
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": True,
    "verify_jti": True,
    "require": [],
}


def _fail(code: str, message: str) -> NotAuthenticated:
    return NotAuthenticated(message, code=code)


class JwksTokenVerifier:
    def __init__(
        self,
        keys: JwksKeySource,
        *,
        issuer: str,
        audiences: Sequence[str] = (),
        authorized_parties: Sequence[str] = (),
        leeway_seconds: float = 10.0,
        clock: Clock | None = None,
        max_token_bytes: int = 16 * 1024,
    ) -> None:
        if not issuer:
            raise ValueError("an issuer is required: it is what ties a token to our identity provider")
        self._keys = keys
        self._issuer = issuer
        self._audiences = frozenset(audiences)
        self._parties = frozenset(authorized_parties)
        self._leeway = leeway_seconds
        self._clock = clock or SystemClock()
        self._max_bytes = max_token_bytes

    @classmethod
    def for_jwks_url(
        cls,
        jwks_url: str,
        *,
        issuer: str,
        audiences: Sequence[str] = (),
        authorized_parties: Sequence[str] = (),
        leeway_seconds: float = 10.0,
        clock: Clock | None = None,
        cache_ttl_seconds: float = 600.0,
        min_refetch_interval_seconds: float = 30.0,
    ) -> JwksTokenVerifier:
        source = HttpJwksKeySource(
            jwks_url,
            cache_ttl_seconds=cache_ttl_seconds,
            min_refetch_interval_seconds=min_refetch_interval_seconds,
        )
        return cls(
            source,
            issuer=issuer,
            audiences=audiences,
            authorized_parties=authorized_parties,
            leeway_seconds=leeway_seconds,
            clock=clock,
        )

    @property
    def key_source(self) -> JwksKeySource:
        return self._keys

    async def verify(self, token: str) -> Claims:
        if not isinstance(token, str) or not token or len(token) > self._max_bytes:
            raise _fail(AuthCode.TOKEN_INVALID, "malformed token")
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError as error:
            raise _fail(AuthCode.TOKEN_INVALID, f"malformed token: {error}") from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS:
            raise _fail(AuthCode.TOKEN_INVALID, f"algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _fail(AuthCode.TOKEN_INVALID, "the token names no key (kid)")
        key = await self._keys.key(kid)
        if key is None:
            raise _fail(AuthCode.TOKEN_UNKNOWN_KEY, "the token was signed with an unknown key")
        if key.algorithm_name != algorithm:
            raise _fail(AuthCode.TOKEN_INVALID, "the token's algorithm does not match its key")
        try:
            payload = jwt.decode(token, key, algorithms=[algorithm], options=_PYJWT_OPTIONS)
        except PyJWTError as error:
            raise _fail(AuthCode.TOKEN_INVALID, f"invalid token: {error}") from None
        return self._claims(payload)

    def _claims(self, payload: Mapping[str, Any]) -> Claims:
        now = self._clock.now().timestamp()
        exp = _number(payload, "exp")
        nbf = _number(payload, "nbf")
        iat = _number(payload, "iat")
        if exp is None:
            raise _fail(AuthCode.TOKEN_INVALID, "the token has no exp claim: it would never expire")
        if now >= exp + self._leeway:
            raise _fail(AuthCode.TOKEN_EXPIRED, "the token has expired")
        for name, value in (("nbf", nbf), ("iat", iat)):
            if value is not None and value > now + self._leeway:
                raise _fail(AuthCode.TOKEN_NOT_YET_VALID, f"the token is not valid yet ({name})")
        if payload.get("iss") != self._issuer:
            raise _fail(AuthCode.TOKEN_WRONG_ISSUER, "the token was issued by someone else")
        audience = self._check_audience(payload.get("aud"))
        party = payload.get("azp")
        if self._parties and (not isinstance(party, str) or party not in self._parties):
            raise _fail(AuthCode.TOKEN_WRONG_AUDIENCE, "the token was issued to another party (azp)")
        subject = payload.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise _fail(AuthCode.TOKEN_INVALID, "the token names no subject")
        return Claims(
            subject=subject,
            issuer=self._issuer,
            expires_at=datetime.fromtimestamp(exp, UTC),
            issued_at=datetime.fromtimestamp(iat, UTC) if iat is not None else None,
            email=_text(payload, "email", "email_address", "primary_email"),
            first_name=_text(payload, "first_name", "given_name"),
            last_name=_text(payload, "last_name", "family_name"),
            full_name=_text(payload, "name", "full_name"),
            username=_text(payload, "username", "preferred_username"),
            audience=audience,
            authorized_party=party if isinstance(party, str) else None,
            session_id=_text(payload, "sid"),
            raw=dict(payload),
        )

    def _check_audience(self, aud: object) -> tuple[str, ...]:
        if aud is None:
            if self._audiences:
                raise _fail(AuthCode.TOKEN_WRONG_AUDIENCE, "the token names no audience")
            return ()
        values = (aud,) if isinstance(aud, str) else aud
        if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
            raise _fail(AuthCode.TOKEN_INVALID, "malformed audience claim")
        if not self._audiences.intersection(values):
            raise _fail(AuthCode.TOKEN_WRONG_AUDIENCE, "the token is meant for another audience")
        return tuple(values)


_LAST_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z


def _number(payload: Mapping[str, Any], name: str) -> float | None:
    value = payload.get(name)
    if value is None:
        return None
    # JSON parsers accept NaN and Infinity: an `exp` of Infinity must not mean "never expires"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= _LAST_TIMESTAMP:
        raise _fail(AuthCode.TOKEN_INVALID, f"the {name} claim is not a valid time")
    return float(value)


def _text(payload: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = payload.get(name)
        if isinstance(value, str) and value:
            return value
    return None
