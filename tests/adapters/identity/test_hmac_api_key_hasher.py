"""HmacApiKeyHasher with the real key format: hashing, matching, pepper rotation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from adapters.identity.api_key_hasher import PEPPER_FILE, HmacApiKeyHasher
from application.identity.api_keys import generate_api_key, parse_api_key

PEPPER = b"p" * 32


def test_a_generated_key_matches_its_hash_and_nothing_else() -> None:
    hasher = HmacApiKeyHasher(PEPPER)
    new = generate_api_key(hasher)
    assert parse_api_key(new.plaintext).prefix == new.prefix
    assert new.key_hash.startswith("hmac-sha256$1$")
    assert new.plaintext not in new.key_hash
    assert hasher.matches(new.plaintext, new.key_hash)
    other = generate_api_key(hasher)
    assert not hasher.matches(other.plaintext, new.key_hash)
    tampered = new.plaintext[:-1] + ("a" if new.plaintext[-1] != "a" else "b")
    assert not hasher.matches(tampered, new.key_hash)


def test_hashing_is_deterministic_under_one_pepper_and_differs_across_peppers() -> None:
    key = generate_api_key(HmacApiKeyHasher(PEPPER)).plaintext
    assert HmacApiKeyHasher(PEPPER).hash(key) == HmacApiKeyHasher(PEPPER).hash(key)
    assert HmacApiKeyHasher(PEPPER).hash(key) != HmacApiKeyHasher(b"q" * 32).hash(key)


def test_a_leaked_hash_does_not_verify_without_the_pepper() -> None:
    key = generate_api_key(HmacApiKeyHasher(PEPPER))
    assert not HmacApiKeyHasher(b"q" * 32).matches(key.plaintext, key.key_hash)


def test_keys_hashed_under_an_old_pepper_keep_working_after_rotation() -> None:
    old = HmacApiKeyHasher(PEPPER, pepper_id="2025")
    key = generate_api_key(old)
    rotated = HmacApiKeyHasher(b"n" * 32, pepper_id="2026", previous={"2025": PEPPER})
    assert rotated.matches(key.plaintext, key.key_hash)
    assert rotated.hash(key.plaintext).startswith("hmac-sha256$2026$")
    assert not HmacApiKeyHasher(b"n" * 32, pepper_id="2026").matches(key.plaintext, key.key_hash)


@pytest.mark.parametrize(
    "stored",
    ["", "garbage", "bcrypt$1$abc", "hmac-sha256$9$" + "0" * 64, "hmac-sha256$1$"],
)
def test_malformed_or_foreign_stored_hashes_never_match(stored: str) -> None:
    hasher = HmacApiKeyHasher(PEPPER)
    key = generate_api_key(hasher)
    assert not hasher.matches(key.plaintext, stored)


def test_a_stored_hash_with_the_right_digest_but_another_scheme_does_not_match() -> None:
    hasher = HmacApiKeyHasher(PEPPER)
    key = generate_api_key(hasher)
    assert not hasher.matches(key.plaintext, key.key_hash.replace("hmac-sha256", "sha256", 1))


def test_short_peppers_and_bad_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        HmacApiKeyHasher(b"short")
    with pytest.raises(ValueError, match="pepper id"):
        HmacApiKeyHasher(PEPPER, pepper_id="a$b")


def test_the_pepper_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    first = HmacApiKeyHasher.from_data_dir(tmp_path)
    assert stat.S_IMODE((tmp_path / PEPPER_FILE).stat().st_mode) == 0o600
    key = generate_api_key(first)
    assert HmacApiKeyHasher.from_data_dir(tmp_path).matches(key.plaintext, key.key_hash)
    assert not HmacApiKeyHasher.from_data_dir(tmp_path / "elsewhere").matches(key.plaintext, key.key_hash)
