"""The embedded default's own identity provider: ES256 tokens signed by a key in the data dir.

The key pair is generated once (``identity/local-es256.pem``, mode 0600) and its public half is
published as a JWKS that the ordinary ``JwksTokenVerifier`` uses through an in-memory key source,
so the embedded default and a Clerk deployment check tokens with the very same code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from adapters.clock import SystemClock
from adapters.identity.jwks import StaticJwksKeySource
from adapters.identity.jwt_verifier import JwksTokenVerifier
from adapters.identity.secret_files import read_or_create_secret_file
from application.ports.clock import Clock
from domain.ids import new_id

LOCAL_ISSUER = "canon-local"
LOCAL_AUDIENCE = "canon"
KEY_FILE = Path("identity") / "local-es256.pem"
MAX_TTL = timedelta(days=30)


def _generate_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _thumbprint(public_jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint: a ``kid`` that changes exactly when the key does."""
    canonical = json.dumps({k: public_jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class LocalTokenIssuer:
    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey,
        *,
        clock: Clock | None = None,
        issuer: str = LOCAL_ISSUER,
        audience: str = LOCAL_AUDIENCE,
    ) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ValueError("ES256 needs a P-256 key")
        self._key = private_key
        self._clock = clock or SystemClock()
        self.issuer = issuer
        self.audience = audience
        public_jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(private_key.public_key()))
        self.kid = _thumbprint(public_jwk)
        self._public_jwk = {**public_jwk, "kid": self.kid, "alg": "ES256", "use": "sig"}

    @classmethod
    def from_data_dir(cls, data_dir: Path, *, clock: Clock | None = None) -> LocalTokenIssuer:
        """The issuer whose key lives in ``data_dir`` (created on first use)."""
        pem = read_or_create_secret_file(data_dir / KEY_FILE, _generate_pem)
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{data_dir / KEY_FILE} does not hold an EC private key")
        return cls(key, clock=clock)

    def jwks(self) -> dict[str, Any]:
        """The public key set (what ``/.well-known/jwks.json`` would serve)."""
        return {"keys": [dict(self._public_jwk)]}

    def issue(self, subject: str, email: str | None, ttl: timedelta) -> str:
        if not subject:
            raise ValueError("a token needs a subject")
        if not timedelta(seconds=1) <= ttl <= MAX_TTL:
            raise ValueError(f"ttl must be between one second and {MAX_TTL}")
        now = int(self._clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + int(ttl.total_seconds()),
            "jti": new_id(),
        }
        if email:
            claims["email"] = email
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.kid})

    def verifier(self, *, leeway_seconds: float = 10.0) -> JwksTokenVerifier:
        """A verifier that accepts exactly this issuer's tokens."""
        return JwksTokenVerifier(
            StaticJwksKeySource(self.jwks()),
            issuer=self.issuer,
            audiences=(self.audience,),
            leeway_seconds=leeway_seconds,
            clock=self._clock,
        )
