"""Small helpers the payment adapters share: reading a verified body, digging into payloads
without trusting their shape, and mapping transport failures to application errors."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from application.errors import InvalidInput
from application.payments.errors import WebhookPayloadInvalid
from application.payments.ports import PURCHASE_REFERENCE_KEY


def load_json_object(raw_body: bytes) -> dict[str, Any]:
    """The verified body as a JSON object; anything else is `WebhookPayloadInvalid`."""
    try:
        value = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookPayloadInvalid("The webhook body is not JSON.") from exc
    if not isinstance(value, dict):
        raise WebhookPayloadInvalid("The webhook body is not a JSON object.")
    return value


def obj(value: Any, *path: str) -> dict[str, Any]:
    """The mapping at ``path`` (an empty dict when any step is missing or not a mapping)."""
    current = value
    for key in path:
        current = current.get(key) if isinstance(current, Mapping) else None
    return dict(current) if isinstance(current, Mapping) else {}


def text(value: Any, *path: str) -> str | None:
    """The non-empty string at ``path``, or None. Ids that are expanded objects give their id."""
    current = value
    for key in path:
        current = current.get(key) if isinstance(current, Mapping) else None
    if isinstance(current, Mapping):
        current = current.get("id")
    if isinstance(current, str) and current:
        return current
    return None


def integer(value: Any, *path: str) -> int | None:
    current = value
    for key in path:
        current = current.get(key) if isinstance(current, Mapping) else None
    if isinstance(current, int) and not isinstance(current, bool):
        return current
    return None


def purchase_reference(*metadata: Any) -> str | None:
    """Our purchase id from the first metadata-like mapping that carries it."""
    for candidate in metadata:
        found = text(candidate, PURCHASE_REFERENCE_KEY)
        if found:
            return found
    return None


def parse_iso(value: Any, default: datetime) -> datetime:
    parsed = parse_iso_or_none(value)
    return default if parsed is None else parsed


def parse_iso_or_none(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@contextmanager
def payload_reading(processor: str) -> Iterator[None]:
    """A verified body whose values are not what the processor sends (an unknown currency, an
    amount that is not an amount) is `WebhookPayloadInvalid`, not a 422 about our input."""
    try:
        yield
    except InvalidInput as exc:
        raise WebhookPayloadInvalid(f"The {processor} webhook payload cannot be read: {exc.message}") from exc
