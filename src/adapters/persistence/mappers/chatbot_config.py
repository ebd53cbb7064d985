"""``ChatbotConfig`` <-> the configuration columns shared by ``chatbot`` and ``chatbot_version``.

The seed keeps the live configuration on the chatbot row as well as on each version; we write
both from the same config so they cannot drift, and read a configuration only from versions.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from adapters.persistence import enums
from adapters.persistence.models import ChatbotVersion as VersionRow
from domain.chatbots import ChatbotConfig, ChatbotType, ChatbotVersion, RagScope, RagSettings
from domain.money import Money

_MICROS: Final = 1_000_000


def live_columns(config: ChatbotConfig) -> dict[str, Any]:
    """The columns the chatbot row mirrors from its current version."""
    return {
        "title": config.title,
        "description": config.description,
        "system_prompt": config.system_prompt,
        "model_provider": config.model_provider,
        "model_name": config.model_name,
        "price_cents": config.price.minor,
        "currency": config.price.currency.code,
        "allow_anonymous": config.allow_anonymous,
        "type": enums.ChatbotType(config.type.value),
    }


def version_columns(config: ChatbotConfig) -> dict[str, Any]:
    micros = config.expiry // timedelta(microseconds=1)
    # The column holds whole seconds (rounded up, so it stays positive); an expiry with a
    # fractional second keeps its exact value in config_json and reads back unchanged.
    exact = {"expiry_microseconds": micros} if micros % _MICROS else None
    return {
        **live_columns(config),
        "rag_settings_json": {
            "top_k": config.rag.top_k,
            "scope": config.rag.scope.value,
            "source_ids": sorted(config.rag.source_ids),
        },
        "config_json": exact,
        "message_allowance": config.message_allowance,
        "expiry_seconds": -(-micros // _MICROS),
        "notes": config.notes,
        "changelog": config.changelog,
        "max_output_tokens": config.max_output_tokens,
        "conversation_token_cap": config.conversation_token_cap,
        "daily_user_token_cap": config.daily_user_token_cap,
    }


def _rag(data: dict[str, Any] | None) -> RagSettings:
    if not data:
        return RagSettings()
    return RagSettings(
        top_k=int(data.get("top_k", 8)),
        scope=RagScope(data.get("scope", RagScope.ALL_CREATOR_SOURCES.value)),
        source_ids=frozenset(data.get("source_ids") or ()),
    )


def to_config(row: VersionRow) -> ChatbotConfig:
    extra = row.config_json or {}
    expiry = (
        timedelta(microseconds=int(extra["expiry_microseconds"]))
        if "expiry_microseconds" in extra
        else timedelta(seconds=row.expiry_seconds)
    )
    optional: dict[str, Any] = {}
    if row.max_output_tokens is not None:  # rows written before the column existed
        optional["max_output_tokens"] = row.max_output_tokens
    return ChatbotConfig(
        title=row.title,
        system_prompt=row.system_prompt,
        model_provider=row.model_provider,
        model_name=row.model_name,
        price=Money.of(row.price_cents, row.currency),
        type=ChatbotType(row.type.value),
        description=row.description,
        rag=_rag(row.rag_settings_json),
        message_allowance=row.message_allowance,
        expiry=expiry,
        allow_anonymous=row.allow_anonymous,
        notes=row.notes,
        changelog=row.changelog,
        conversation_token_cap=row.conversation_token_cap,
        daily_user_token_cap=row.daily_user_token_cap,
        **optional,
    )


def to_version(row: VersionRow) -> ChatbotVersion:
    return ChatbotVersion(
        id=row.id,
        chatbot_id=row.chatbot_id,
        version_number=row.version_number,
        config=to_config(row),
        created_by=row.created_by_user_id,
        created_at=row.created_at,
        activated_at=row.activated_at,
        deactivated_at=row.deactivated_at,
    )


def to_version_row(version: ChatbotVersion, *, namespace: str) -> VersionRow:
    return VersionRow(
        id=version.id,
        chatbot_id=version.chatbot_id,
        version_number=version.version_number,
        created_by_user_id=version.created_by,
        created_at=version.created_at,
        activated_at=version.activated_at,
        deactivated_at=version.deactivated_at,
        pinecone_ns=namespace,
        vector_namespace=namespace,
        **version_columns(version.config),
    )
