"""API keys: ``canon_<prefix>_<secret>``.

- ``prefix``: 8 base62 characters, random, stored in clear and unique. It finds the stored key
  and lets a creator recognise a key in a list ("canon_Ab3dE9xQ_…") without the secret.
- ``secret``: 32 bytes from the OS CSPRNG in base62, always 43 characters (62^43 > 2^256).
- Only a hash of the whole key is stored (see ``HmacApiKeyHasher`` for why HMAC-SHA-256 with a
  server-side pepper and not bcrypt/argon2). The key is shown once, at creation.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from application.errors import NotAuthenticated
from application.identity.permissions import API_KEY_GRANTABLE
from application.identity.ports import ApiKeyHasher, ApiKeyStore, AuthCode
from application.identity.principal import Principal
from application.ports.clock import Clock

API_KEY_SCHEME = "canon"
PREFIX_LENGTH = 8
SECRET_BYTES = 32
SECRET_LENGTH = 43
API_KEY_LENGTH = len(API_KEY_SCHEME) + 1 + PREFIX_LENGTH + 1 + SECRET_LENGTH
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE62_SET = frozenset(_BASE62)


def _base62(data: bytes, width: int) -> str:
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    if len(digits) > width:
        raise ValueError("value does not fit")
    return "".join(reversed(digits)).rjust(width, _BASE62[0])


def _from_base62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + _BASE62.index(char)
    return number


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedApiKey:
    prefix: str
    secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NewApiKey:
    """A freshly generated key: show ``plaintext`` once, store ``prefix`` and ``key_hash``."""

    plaintext: str
    prefix: str
    key_hash: str

    def __repr__(self) -> str:  # never let the secret reach a log line through a repr
        return f"NewApiKey(prefix={self.prefix!r}, plaintext='***', key_hash='***')"


def generate_api_key(hasher: ApiKeyHasher) -> NewApiKey:
    """A new random key and its stored form. A prefix clash (the store's unique index) is handled
    by generating again: with 62^8 prefixes it is rare."""
    prefix = "".join(secrets.choice(_BASE62) for _ in range(PREFIX_LENGTH))
    secret = _base62(os.urandom(SECRET_BYTES), SECRET_LENGTH)
    plaintext = f"{API_KEY_SCHEME}_{prefix}_{secret}"
    return NewApiKey(plaintext=plaintext, prefix=prefix, key_hash=hasher.hash(plaintext))


def looks_like_api_key(text: str) -> bool:
    """Cheap routing test for an ``Authorization`` value: API key or JWT?"""
    return text.startswith(API_KEY_SCHEME + "_")


def parse_api_key(text: str) -> ParsedApiKey:
    """Split and validate the shape; ``NotAuthenticated(api-key-invalid)`` if it is not one of
    ours. Says nothing about whether the key exists."""
    invalid = NotAuthenticated("malformed API key", code=AuthCode.API_KEY_INVALID)
    if not isinstance(text, str) or len(text) != API_KEY_LENGTH:
        raise invalid
    scheme, _, rest = text.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != API_KEY_SCHEME or len(prefix) != PREFIX_LENGTH or len(secret) != SECRET_LENGTH:
        raise invalid
    if not (set(prefix) <= _BASE62_SET and set(secret) <= _BASE62_SET):
        raise invalid
    if _from_base62(secret) >> (8 * SECRET_BYTES):
        raise invalid
    return ParsedApiKey(prefix=prefix, secret=secret)


class ApiKeyAuthenticator:
    """Turns a presented API key into a principal.

    - Unknown prefix and wrong secret answer the same (``api-key-invalid``), after the same work,
      so the answer does not reveal which prefixes exist.
    - Revocation and expiry are only revealed to someone holding the full key.
    """

    def __init__(self, store: ApiKeyStore, hasher: ApiKeyHasher, clock: Clock) -> None:
        self._store = store
        self._hasher = hasher
        self._clock = clock
        # compared against when the prefix is unknown, so both paths hash once
        self._decoy_hash = hasher.hash(f"{API_KEY_SCHEME}_{'0' * PREFIX_LENGTH}_{'0' * SECRET_LENGTH}")

    async def __call__(self, presented: str) -> Principal:
        parsed = parse_api_key(presented)
        stored = await self._store.find_by_prefix(parsed.prefix)
        matches = self._hasher.matches(presented, stored.key_hash if stored else self._decoy_hash)
        if stored is None or not matches:
            raise NotAuthenticated("unknown API key", code=AuthCode.API_KEY_INVALID)
        now = self._clock.now()
        if stored.revoked_at is not None and stored.revoked_at <= now:
            raise NotAuthenticated("this API key was revoked", code=AuthCode.API_KEY_REVOKED)
        if stored.expires_at is not None and stored.expires_at <= now:
            raise NotAuthenticated("this API key has expired", code=AuthCode.API_KEY_EXPIRED)
        # a scope the matrix no longer lets keys carry is dropped, not an error: the key keeps working
        actions = stored.actions & API_KEY_GRANTABLE
        return Principal.api_key(api_key_id=stored.id, creator_id=stored.creator_id, actions=actions)
