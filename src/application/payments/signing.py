"""Webhook signature plumbing every gateway shares, so each one verifies in the same shape:

1. an empty secret disables the endpoint (`require_secret`): never "accept everything";
2. a missing signature header is its own error (`require_header`);
3. the signature is checked on the RAW body, in constant time, before anything parses it;
4. the signed timestamp must lie within a tolerance of *our* clock (`check_timestamp`), in both
   directions, so a captured delivery cannot be replayed later;
5. only then is the body parsed.

`sign_timestamped` / `verify_timestamped` implement the scheme the sandbox processor uses, which
is Stripe's: header ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{raw body}">``; several
``v1`` entries may be present while a secret is rotated.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from application.payments.errors import (
    WebhookEndpointDisabled,
    WebhookSignatureInvalid,
    WebhookSignatureMissing,
    WebhookTimestampOutOfTolerance,
)

DEFAULT_WEBHOOK_TOLERANCE = timedelta(minutes=5)


def require_secret(secret: str, processor: str) -> str:
    if not secret or not secret.strip():
        raise WebhookEndpointDisabled(
            f"The {processor} webhook endpoint is disabled: no webhook secret is configured."
        )
    return secret


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, case-insensitively (HTTP header names are), stripped; None if absent
    or blank."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            stripped = value.strip()
            return stripped or None
    return None


def require_header(headers: Mapping[str, str], name: str) -> str:
    value = header_value(headers, name)
    if value is None:
        raise WebhookSignatureMissing(f"The {name} header is missing.")
    return value


def check_timestamp(signed_at: datetime, now: datetime, tolerance: timedelta) -> None:
    if signed_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("webhook timestamps are compared as aware datetimes")
    if abs(now - signed_at) > tolerance:
        raise WebhookTimestampOutOfTolerance(
            f"The delivery was signed at {signed_at.isoformat()}, more than "
            f"{int(tolerance.total_seconds())} s from now."
        )


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def constant_time_equal(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def sign_timestamped(secret: str, raw_body: bytes, timestamp: int) -> str:
    """The header value: ``t=<timestamp>,v1=<hex HMAC-SHA256(secret, "{t}." + raw body)>``."""
    signature = hmac_sha256_hex(secret, str(timestamp).encode("ascii") + b"." + raw_body)
    return f"t={timestamp},v1={signature}"


def verify_timestamped(
    header: str,
    raw_body: bytes,
    secret: str,
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_WEBHOOK_TOLERANCE,
) -> datetime:
    """Checks a ``t=..,v1=..`` header against the raw body; returns the signed time."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookSignatureInvalid("The signature header has no timestamp or no v1 signature.")
    expected = hmac_sha256_hex(secret, str(timestamp).encode("ascii") + b"." + raw_body)
    # compare against every candidate (no early exit) so timing says nothing about which matched
    matched = False
    for candidate in signatures:
        matched |= constant_time_equal(expected, candidate)
    if not matched:
        raise WebhookSignatureInvalid("No signature matches the body under the configured secret.")
    signed_at = from_unix(timestamp)
    check_timestamp(signed_at, now, tolerance)
    return signed_at
