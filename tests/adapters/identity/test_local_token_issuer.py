"""LocalTokenIssuer: the embedded default's ES256 issuer, verified by the ordinary verifier."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.clock import FakeClock
from adapters.identity.local_issuer import KEY_FILE, LOCAL_AUDIENCE, LOCAL_ISSUER, LocalTokenIssuer
from application.errors import NotAuthenticated, ServiceUnavailable


def test_the_key_is_generated_once_with_private_permissions(tmp_path: Path, clock: FakeClock) -> None:
    first = LocalTokenIssuer.from_data_dir(tmp_path, clock=clock)
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert b"PRIVATE KEY" in key_file.read_bytes()
    again = LocalTokenIssuer.from_data_dir(tmp_path, clock=clock)
    assert again.kid == first.kid
    assert again.jwks() == first.jwks()


def test_the_jwks_holds_only_the_public_half(tmp_path: Path, clock: FakeClock) -> None:
    issuer = LocalTokenIssuer.from_data_dir(tmp_path, clock=clock)
    (key,) = issuer.jwks()["keys"]
    assert key["kty"] == "EC"
    assert key["crv"] == "P-256"
    assert key["alg"] == "ES256"
    assert key["kid"] == issuer.kid
    assert "d" not in key


async def test_issued_tokens_are_accepted_by_its_verifier(tmp_path: Path, clock: FakeClock) -> None:
    issuer = LocalTokenIssuer.from_data_dir(tmp_path, clock=clock)
    token = issuer.issue("local-user-1", "ada@example.test", timedelta(hours=1))
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == issuer.kid
    claims = await issuer.verifier().verify(token)
    assert claims.subject == "local-user-1"
    assert claims.email == "ada@example.test"
    assert claims.issuer == LOCAL_ISSUER == "canon-local"
    assert claims.audience == (LOCAL_AUDIENCE,)
    assert claims.expires_at == clock.now().replace(microsecond=0) + timedelta(hours=1)


async def test_its_tokens_expire(tmp_path: Path, clock: FakeClock) -> None:
    issuer = LocalTokenIssuer.from_data_dir(tmp_path, clock=clock)
    token = issuer.issue("local-user-1", None, timedelta(minutes=5))
    clock.advance(timedelta(minutes=6))
    with pytest.raises(NotAuthenticated) as caught:
        await issuer.verifier().verify(token)
    assert caught.value.code == "token-expired"


async def test_another_data_dirs_tokens_are_refused(tmp_path: Path, clock: FakeClock) -> None:
    ours = LocalTokenIssuer.from_data_dir(tmp_path / "a", clock=clock)
    theirs = LocalTokenIssuer.from_data_dir(tmp_path / "b", clock=clock)
    assert ours.kid != theirs.kid
    with pytest.raises(NotAuthenticated) as caught:
        await ours.verifier().verify(theirs.issue("intruder", None, timedelta(hours=1)))
    assert caught.value.code == "token-unknown-key"


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-5), timedelta(days=31)])
def test_ttl_must_be_sensible(ttl: timedelta, tmp_path: Path, clock: FakeClock) -> None:
    issuer = LocalTokenIssuer.from_data_dir(tmp_path, clock=clock)
    with pytest.raises(ValueError, match="ttl"):
        issuer.issue("u", None, ttl)


def test_a_key_file_others_can_read_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    LocalTokenIssuer.from_data_dir(tmp_path, clock=clock)
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(ServiceUnavailable) as caught:
        LocalTokenIssuer.from_data_dir(tmp_path, clock=clock)
    assert caught.value.code == "secret-file-insecure"


def test_a_key_file_holding_something_else_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / KEY_FILE
    path.parent.mkdir(mode=0o700)
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    with pytest.raises(ValueError, match="EC private key"):
        LocalTokenIssuer.from_data_dir(tmp_path, clock=clock)
