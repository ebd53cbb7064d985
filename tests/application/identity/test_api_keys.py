"""API key format helpers and ApiKeyAuthenticator on fakes."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.errors import NotAuthenticated
from application.identity.api_keys import (
    API_KEY_LENGTH,
    ApiKeyAuthenticator,
    generate_api_key,
    looks_like_api_key,
    parse_api_key,
)
from application.identity.permissions import Action
from application.identity.ports import StoredApiKey
from application.identity.principal import PrincipalKind

NOW = datetime(2026, 5, 1, tzinfo=UTC)


class FakeHasher:
    def __init__(self) -> None:
        self.calls = 0

    def hash(self, api_key: str) -> str:
        self.calls += 1
        return "fake$" + hashlib.sha256(api_key.encode()).hexdigest()

    def matches(self, api_key: str, stored_hash: str) -> bool:
        return hmac.compare_digest(self.hash(api_key), stored_hash)


class FakeStore:
    def __init__(self) -> None:
        self.keys: dict[str, StoredApiKey] = {}

    async def find_by_prefix(self, prefix: str) -> StoredApiKey | None:
        return self.keys.get(prefix)


class FixedClock:
    def now(self) -> datetime:
        return NOW


def store_key(store: FakeStore, hasher: FakeHasher, **fields: object) -> str:
    new = generate_api_key(hasher)
    values: dict[str, object] = {
        "id": "key-1",
        "creator_id": "creator-1",
        "prefix": new.prefix,
        "key_hash": new.key_hash,
        "actions": frozenset({Action.CHATBOT_VIEW}),
    }
    values.update(fields)
    store.keys[new.prefix] = StoredApiKey(**values)  # type: ignore[arg-type]
    return new.plaintext


def test_generated_keys_have_the_documented_shape() -> None:
    new = generate_api_key(FakeHasher())
    scheme, prefix, secret = new.plaintext.split("_")
    assert scheme == "canon"
    assert len(prefix) == 8
    assert len(secret) == 43
    assert prefix == new.prefix
    assert len(new.plaintext) == API_KEY_LENGTH
    assert new.plaintext.isascii()
    assert looks_like_api_key(new.plaintext)
    assert "***" in repr(new)
    assert new.plaintext not in repr(new)


def test_generated_keys_are_unique() -> None:
    keys = {generate_api_key(FakeHasher()).plaintext for _ in range(200)}
    assert len(keys) == 200


@given(st.binary(min_size=32, max_size=32))
def test_any_32_bytes_round_trip_through_the_secret_encoding(secret: bytes) -> None:
    from application.identity import api_keys

    encoded = api_keys._base62(secret, api_keys.SECRET_LENGTH)
    assert len(encoded) == 43
    parsed = parse_api_key(f"canon_abcdEF12_{encoded}")
    assert api_keys._from_base62(parsed.secret) == int.from_bytes(secret, "big")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "canon_",
        "bearer_abcdEF12_" + "a" * 43,
        "canon_abcdEF1_" + "a" * 44,
        "canon_abcdEF12_" + "a" * 42,
        "canon_abcdEF12-" + "a" * 43,
        "canon_abcd-F12_" + "a" * 43,
        "canon_abcdEF12_" + "a" * 42 + "!",
        "canon_abcdEF12_" + "z" * 43,  # more than 256 bits: not one we made
        "canon_abcdEF12_" + "é" * 43,
    ],
)
def test_malformed_keys_are_refused(text: str) -> None:
    with pytest.raises(NotAuthenticated) as caught:
        parse_api_key(text)
    assert caught.value.code == "api-key-invalid"


async def test_a_valid_key_becomes_an_api_key_principal() -> None:
    store, hasher = FakeStore(), FakeHasher()
    key = store_key(store, hasher, actions=frozenset({Action.CHATBOT_VIEW, Action.CREATOR_DELETE}))
    principal = await ApiKeyAuthenticator(store, hasher, FixedClock())(key)
    assert principal.kind is PrincipalKind.API_KEY
    assert (principal.api_key_id, principal.creator_id) == ("key-1", "creator-1")
    assert principal.api_key_actions == {Action.CHATBOT_VIEW}  # a scope keys may not carry is dropped


async def test_unknown_prefix_and_wrong_secret_answer_alike_after_the_same_work() -> None:
    store, hasher = FakeStore(), FakeHasher()
    key = store_key(store, hasher)
    authenticate = ApiKeyAuthenticator(store, hasher, FixedClock())
    wrong_secret = key[:-1] + ("a" if key[-1] != "a" else "b")
    unknown = generate_api_key(hasher).plaintext
    for presented in (wrong_secret, unknown):
        before = hasher.calls
        with pytest.raises(NotAuthenticated) as caught:
            await authenticate(presented)
        assert caught.value.code == "api-key-invalid"
        assert hasher.calls - before == 1


async def test_revoked_and_expired_keys_are_refused_with_their_own_codes() -> None:
    store, hasher = FakeStore(), FakeHasher()
    authenticate = ApiKeyAuthenticator(store, hasher, FixedClock())
    revoked = store_key(store, hasher, revoked_at=NOW - timedelta(seconds=1))
    with pytest.raises(NotAuthenticated) as caught:
        await authenticate(revoked)
    assert caught.value.code == "api-key-revoked"
    expired = store_key(store, hasher, expires_at=NOW)
    with pytest.raises(NotAuthenticated) as caught:
        await authenticate(expired)
    assert caught.value.code == "api-key-expired"
    later = store_key(store, hasher, revoked_at=NOW + timedelta(days=1), expires_at=NOW + timedelta(days=1))
    assert (await authenticate(later)).api_key_id == "key-1"


async def test_revocation_is_not_revealed_to_someone_without_the_secret() -> None:
    store, hasher = FakeStore(), FakeHasher()
    key = store_key(store, hasher, revoked_at=NOW - timedelta(days=1))
    guess = key[:-1] + ("a" if key[-1] != "a" else "b")
    with pytest.raises(NotAuthenticated) as caught:
        await ApiKeyAuthenticator(store, hasher, FixedClock())(guess)
    assert caught.value.code == "api-key-invalid"
