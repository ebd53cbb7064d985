"""HmacAnonymousIdSigner: ids are UUIDv7, signed, and tampering is refused."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

import pytest

from adapters.identity.anonymous_ids import SECRET_FILE, HmacAnonymousIdSigner
from application.errors import NotAuthenticated

SECRET = b"s" * 32


def refused(signer: HmacAnonymousIdSigner, value: str) -> None:
    with pytest.raises(NotAuthenticated) as caught:
        signer.verify(value)
    assert caught.value.code == "anonymous-id-invalid"


def test_issue_gives_a_signed_uuid7_that_verifies_back() -> None:
    signer = HmacAnonymousIdSigner(SECRET)
    signed = signer.issue()
    anonymous_id, _, mac = signed.partition(".")
    assert uuid.UUID(anonymous_id).version == 7
    assert len(mac) == 43
    assert signer.verify(signed) == anonymous_id
    assert signer.issue() != signed


def test_a_tampered_id_or_mac_is_refused() -> None:
    signer = HmacAnonymousIdSigner(SECRET)
    signed = signer.issue()
    anonymous_id, _, mac = signed.partition(".")
    other_id = str(uuid.UUID(int=uuid.UUID(anonymous_id).int ^ 1))
    refused(signer, f"{other_id}.{mac}")  # someone else's id with our MAC
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    refused(signer, f"{anonymous_id}.{flipped}")
    refused(signer, f"{anonymous_id}.")
    refused(signer, anonymous_id)
    refused(signer, f"{anonymous_id.upper()}.{mac}")


@pytest.mark.parametrize(
    "value", ["", ".", "x" * 80, "not-a-uuid-at-all-but-long-enough-to-pass-length-checks.abc"]
)
def test_garbage_is_refused(value: str) -> None:
    refused(HmacAnonymousIdSigner(SECRET), value)


def test_an_id_signed_under_another_secret_is_refused() -> None:
    forged = HmacAnonymousIdSigner(b"t" * 32).issue()
    refused(HmacAnonymousIdSigner(SECRET), forged)


def test_previous_secrets_still_verify_after_rotation() -> None:
    old = HmacAnonymousIdSigner(SECRET).issue()
    rotated = HmacAnonymousIdSigner(b"n" * 32, previous_secrets=[SECRET])
    assert rotated.verify(old) == old.partition(".")[0]
    assert rotated.issue().partition(".")[2] != HmacAnonymousIdSigner(SECRET).sign(old.partition(".")[0])


def test_sign_refuses_a_non_uuid_and_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="UUID"):
        HmacAnonymousIdSigner(SECRET).sign("visitor-1")
    with pytest.raises(ValueError, match="at least 32"):
        HmacAnonymousIdSigner(b"short")


def test_the_secret_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    signed = HmacAnonymousIdSigner.from_data_dir(tmp_path).issue()
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    assert HmacAnonymousIdSigner.from_data_dir(tmp_path).verify(signed) == signed.partition(".")[0]
    refused(HmacAnonymousIdSigner.from_data_dir(tmp_path / "other"), signed)
