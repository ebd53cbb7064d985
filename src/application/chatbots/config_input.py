"""Turning a partial configuration (from HTTP, the CLI or a test) into a ``ChatbotConfig``.

A change is a mapping of field names to new values: only the fields present change, so a client
can set an optional field back to ``None`` (remove a cap) by sending it explicitly. Every bad
field is reported at once, by name, as ``InvalidInput`` (422), never half applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any, Final

from application.errors import InvalidInput
from domain.chatbots import ChatbotConfig, ChatbotType, RagScope, RagSettings
from domain.errors import DomainError
from domain.money import Money

# Price and currency decide what buyers pay: only who may change revenue settings may touch them.
REVENUE_FIELDS: Final = frozenset({"price_cents", "currency"})
FIELDS: Final = frozenset(
    {
        "title",
        "description",
        "system_prompt",
        "model_provider",
        "model_name",
        "top_k",
        "source_ids",
        "price_cents",
        "currency",
        "message_allowance",
        "expiry_seconds",
        "allow_anonymous",
        "type",
        "notes",
        "changelog",
        "max_output_tokens",
        "conversation_token_cap",
        "daily_user_token_cap",
    }
)
DEFAULTS: Final[Mapping[str, Any]] = {
    "system_prompt": "Answer only from the creator's work and cite every claim.",
    "model_provider": "extractive",
    "model_name": "extractive-v1",
    "price_cents": 0,
    "currency": "USD",
}


def config_as_fields(config: ChatbotConfig) -> dict[str, Any]:
    """The editable view of a configuration (the inverse of :func:`apply_changes`)."""
    return {
        "title": config.title,
        "description": config.description,
        "system_prompt": config.system_prompt,
        "model_provider": config.model_provider,
        "model_name": config.model_name,
        "top_k": config.rag.top_k,
        "source_ids": sorted(config.rag.source_ids)
        if config.rag.scope is RagScope.SELECTED_SOURCES
        else None,
        "price_cents": config.price.minor,
        "currency": config.price.currency.code,
        "message_allowance": config.message_allowance,
        "expiry_seconds": int(config.expiry.total_seconds()),
        "allow_anonymous": config.allow_anonymous,
        "type": config.type.value,
        "notes": config.notes,
        "changelog": config.changelog,
        "max_output_tokens": config.max_output_tokens,
        "conversation_token_cap": config.conversation_token_cap,
        "daily_user_token_cap": config.daily_user_token_cap,
    }


def _check_types(changes: Mapping[str, Any], errors: dict[str, str]) -> None:
    for name in sorted(set(changes) - FIELDS):
        errors[name] = "is not a chatbot setting"
    ints = (
        "top_k",
        "price_cents",
        "message_allowance",
        "expiry_seconds",
        "max_output_tokens",
        "conversation_token_cap",
        "daily_user_token_cap",
    )
    for name in ints:
        value = changes.get(name)
        if name in changes and value is not None and (type(value) is not int):
            errors[name] = "must be an integer"
    if "type" in changes and changes["type"] not in {t.value for t in ChatbotType}:
        errors["type"] = f"must be one of {', '.join(t.value for t in ChatbotType)}"
    ids = changes.get("source_ids")
    if ids is not None and (
        isinstance(ids, str) or not all(isinstance(s, str) and s.strip() for s in ids) or not ids
    ):
        errors["source_ids"] = "must be a non-empty list of source ids, or null for all the creators' sources"
    if "allow_anonymous" in changes and not isinstance(changes["allow_anonymous"], bool):
        errors["allow_anonymous"] = "must be true or false"


def apply_changes(base: ChatbotConfig | None, changes: Mapping[str, Any]) -> ChatbotConfig:
    """``base`` with ``changes`` applied (``base=None``: a new configuration from defaults)."""
    errors: dict[str, str] = {}
    _check_types(changes, errors)
    if errors:
        raise InvalidInput("the chatbot settings are not valid", errors=errors)
    merged: dict[str, Any] = {**DEFAULTS, **(config_as_fields(base) if base is not None else {}), **changes}
    if base is None and "title" not in changes:
        raise InvalidInput("a chatbot needs a title", errors={"title": "is required"})
    try:
        ids = merged.get("source_ids")
        top_k = merged.get("top_k", RagSettings().top_k)
        rag = RagSettings.selected(ids, top_k=top_k) if ids else RagSettings.all_creator_sources(top_k=top_k)
        price = Money.of(merged["price_cents"], merged["currency"])
        kwargs: dict[str, Any] = {
            k: merged[k]
            for k in (
                "description",
                "notes",
                "changelog",
                "message_allowance",
                "allow_anonymous",
                "max_output_tokens",
                "conversation_token_cap",
                "daily_user_token_cap",
            )
            if k in merged
        }
        if merged.get("expiry_seconds") is not None:
            kwargs["expiry"] = timedelta(seconds=merged["expiry_seconds"])
        config = ChatbotConfig(
            title=merged["title"],
            system_prompt=merged["system_prompt"],
            model_provider=merged["model_provider"],
            model_name=merged["model_name"],
            price=price,
            type=ChatbotType(merged.get("type", ChatbotType.FRAMEWORK.value)),
            rag=rag,
            **kwargs,
        )
    except DomainError as exc:
        raise InvalidInput(exc.message, errors={"config": exc.message}, code="invalid-config") from exc
    if base is not None and "changelog" not in changes:
        # A changelog describes one change; it is not inherited by the next version.
        config = replace(config, changelog=None)
    return config
