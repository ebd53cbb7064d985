"""Signing keys, claims and raw token builders for the token tests."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from adapters.clock import FakeClock

ISSUER = "https://clerk.example.test"
PARTY = "https://app.example.test"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: Any
    public_jwk: dict[str, Any]

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        header = {"kid": self.kid, **headers}
        return jwt.encode(claims, self.private, algorithm=self.alg, headers=header)


def rsa_signing_key(kid: str, bits: int = 2048) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    return SigningKey(kid, "RS256", private, {**jwk, "kid": kid, "use": "sig", "alg": "RS256"})


def ec_signing_key(kid: str) -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    return SigningKey(kid, "ES256", private, {**jwk, "kid": kid, "use": "sig", "alg": "ES256"})


def claims(clock: FakeClock, **overrides: Any) -> dict[str, Any]:
    """Claims of a valid Clerk-style session token at the fake clock's time (None drops one)."""
    now = int(clock.now().timestamp())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "user_2abcDEF",
        "sid": "sess_123",
        "azp": PARTY,
        "iat": now - 5,
        "nbf": now - 5,
        "exp": now + 60,
        "email": "ada@example.test",
        "first_name": "Ada",
        "last_name": "Lovelace",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value).encode())


def raw_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return f"{segment(header)}.{segment(payload)}.{b64(signature)}"


@dataclass
class JwksServer:
    """State of the local JWKS endpoint; tests change what it serves between calls."""

    url: str
    keys: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: bytes | None = None  # served instead of the key set when set
    redirect_to: str | None = None
    requests: int = 0

    def serve(self, *signing_keys: SigningKey, extra: list[dict[str, Any]] | None = None) -> None:
        self.keys = [key.public_jwk for key in signing_keys] + list(extra or [])
