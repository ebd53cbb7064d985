"""``HmacApiKeyHasher``: API keys stored as HMAC-SHA-256 under a server-side pepper.

Why not bcrypt or argon2: those are slow on purpose, to make guessing a *human-chosen*
password expensive. An API key carries 256 random bits; no amount of guessing finds one, slow or
fast, so a slow hash buys no security here. It would cost a lot, though: every API request checks
a key, and a deliberately slow hash on that path is added latency and a ready-made CPU
exhaustion attack (send many requests with random keys). A fast keyed hash is what GitHub-style
token schemes use.

Why a pepper (an HMAC key kept outside the database): a leaked database alone is then useless
for checking candidate keys, even offline. Stored form: ``hmac-sha256$<pepper id>$<hex>``; the
pepper id lets a new pepper take over while keys hashed under an old one keep working.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from pathlib import Path

from adapters.identity.secret_files import read_or_create_secret_file

SCHEME = "hmac-sha256"
PEPPER_FILE = Path("identity") / "api-key-pepper"
MIN_PEPPER_BYTES = 32


class HmacApiKeyHasher:
    def __init__(
        self, pepper: bytes, *, pepper_id: str = "1", previous: Mapping[str, bytes] | None = None
    ) -> None:
        peppers = {**(previous or {}), pepper_id: pepper}
        for pid, value in peppers.items():
            if len(value) < MIN_PEPPER_BYTES:
                raise ValueError(f"pepper {pid!r} must be at least {MIN_PEPPER_BYTES} bytes")
            if not pid or "$" in pid:
                raise ValueError(f"bad pepper id {pid!r}")
        self._peppers = peppers
        self._current = pepper_id

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> HmacApiKeyHasher:
        """The hasher whose pepper lives in ``data_dir`` (generated on first use, hex, 0600)."""
        text = read_or_create_secret_file(data_dir / PEPPER_FILE, lambda: secrets.token_hex(32).encode())
        return cls(bytes.fromhex(text.decode().strip()))

    def _digest(self, pepper: bytes, api_key: str) -> str:
        return hmac.new(pepper, api_key.encode(), hashlib.sha256).hexdigest()

    def hash(self, api_key: str) -> str:
        return f"{SCHEME}${self._current}${self._digest(self._peppers[self._current], api_key)}"

    def matches(self, api_key: str, stored_hash: str) -> bool:
        scheme, _, rest = stored_hash.partition("$")
        pepper_id, _, expected = rest.partition("$")
        pepper = self._peppers.get(pepper_id)
        # compute anyway on an unknown scheme or pepper, so the answer takes the same time
        actual = self._digest(pepper or self._peppers[self._current], api_key)
        same = hmac.compare_digest(actual.encode(), expected.encode())
        return same and scheme == SCHEME and pepper is not None
