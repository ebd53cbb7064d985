"""``HmacAnonymousIdSigner``: anonymous visitor ids a visitor cannot forge or swap.

A token is ``<uuid7>.<base64url HMAC-SHA-256>``. The MAC covers a purpose label and the id, so
a MAC made for anything else under the same secret never validates here. Verification compares
in constant time; older secrets can be kept for verification while a new one signs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from pathlib import Path

from adapters.identity.secret_files import read_or_create_secret_file
from application.errors import NotAuthenticated
from application.identity.ports import AuthCode
from domain.ids import is_id, new_id

SECRET_FILE = Path("identity") / "anonymous-id-secret"
MIN_SECRET_BYTES = 32
_PURPOSE = b"canon/anonymous-id/v1\n"
_MAC_LENGTH = 43  # 32 bytes in unpadded base64url
_TOKEN_LENGTH = 36 + 1 + _MAC_LENGTH


class HmacAnonymousIdSigner:
    def __init__(self, secret: bytes, *, previous_secrets: Sequence[bytes] = ()) -> None:
        for value in (secret, *previous_secrets):
            if len(value) < MIN_SECRET_BYTES:
                raise ValueError(f"secrets must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._all = (secret, *previous_secrets)

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> HmacAnonymousIdSigner:
        text = read_or_create_secret_file(data_dir / SECRET_FILE, lambda: secrets.token_hex(32).encode())
        return cls(bytes.fromhex(text.decode().strip()))

    @staticmethod
    def _mac(secret: bytes, anonymous_id: str) -> str:
        digest = hmac.new(secret, _PURPOSE + anonymous_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, anonymous_id: str) -> str:
        if not is_id(anonymous_id):
            raise ValueError("an anonymous id is a canonical UUID")
        return f"{anonymous_id}.{self._mac(self._secret, anonymous_id)}"

    def issue(self) -> str:
        return self.sign(new_id())

    def verify(self, signed: str) -> str:
        invalid = NotAuthenticated("invalid anonymous id", code=AuthCode.ANONYMOUS_ID_INVALID)
        if not isinstance(signed, str) or len(signed) != _TOKEN_LENGTH:
            raise invalid
        anonymous_id, dot, mac = signed.partition(".")
        if not dot or not is_id(anonymous_id) or len(mac) != _MAC_LENGTH:
            raise invalid
        valid = False
        for secret in self._all:  # every secret is tried, so timing does not say which matched
            valid |= hmac.compare_digest(self._mac(secret, anonymous_id).encode(), mac.encode())
        if not valid:
            raise invalid
        return anonymous_id
