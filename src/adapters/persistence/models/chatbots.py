"""Chatbots, their immutable versions, ownership, categories, favourites and intake questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.enums import CategoryType, ChatbotOwnerRole, ChatbotType, IntakeResponseType
from adapters.persistence.models.base import (
    Base,
    CreatedAt,
    Timestamps,
    currency,
    enum_column,
    fk,
    id_column,
    money,
)
from adapters.persistence.types import JSONType, UTCDateTime

DEFAULT_MESSAGE_ALLOWANCE = 100
DEFAULT_EXPIRY_SECONDS = 7 * 24 * 3600


class Chatbot(Timestamps, Base):
    """The live chatbot; every change is also written as a new ``ChatbotVersion``.

    "Each creator owns exactly one CREATOR chatbot" is guaranteed by the database through
    ``persona_creator_id``: a CREATOR chatbot must name the creator it speaks for, no other type
    may, and the column is unique. Unique columns allow any number of NULLs on both SQLite and
    PostgreSQL, so FRAMEWORK/DEEP_DIVE/ADVISOR_BOARD chatbots are unconstrained while a second
    CREATOR chatbot for the same creator fails on insert, even under a race. This avoids a
    partial index over ``chatbot_creator`` (which would need the chatbot's type copied there and
    kept in sync) and works the same on both databases. That a creator has at least one CREATOR
    chatbot is application logic: the creator must exist before its chatbot can.
    """

    __tablename__ = "chatbot"
    __table_args__ = (
        Index(None, "slug"),
        Index(None, "is_active"),
        Index(None, "is_public"),
        CheckConstraint(
            "(type = 'CREATOR' AND persona_creator_id IS NOT NULL)"
            " OR (type <> 'CREATOR' AND persona_creator_id IS NULL)",
            name="persona_matches_type",
        ),
        CheckConstraint("price_cents >= 0", name="price_non_negative"),
    )

    id: Mapped[str] = id_column()
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    meta_description: Mapped[str | None] = mapped_column(Text)
    seo_schema: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    system_prompt: Mapped[str] = mapped_column(Text)
    model_provider: Mapped[str] = mapped_column(String(64))
    model_name: Mapped[str] = mapped_column(String(128))
    pinecone_ns: Mapped[str] = mapped_column(String(255))
    vector_namespace: Mapped[str] = mapped_column(String(255))
    is_public: Mapped[bool] = mapped_column(Boolean(), default=False)
    allow_anonymous: Mapped[bool] = mapped_column(Boolean(), default=False)
    is_active: Mapped[bool] = mapped_column(Boolean(), default=True)
    price_cents: Mapped[int] = money()
    currency: Mapped[str] = currency()
    type: Mapped[ChatbotType] = enum_column(ChatbotType, "type")
    # chatbot <-> chatbot_version is a cycle; use_alter lets the tables be created (and
    # truncated) in an order, with this key added once both exist.
    current_version_id: Mapped[str | None] = fk("chatbot_version.id", nullable=True, use_alter=True)
    persona_creator_id: Mapped[str | None] = fk("creator.id", nullable=True, unique=True)


class ChatbotVersion(Timestamps, Base):
    """An immutable snapshot of a chatbot's configuration. Conversations, ratings and reports
    point at the version they ran against. The caps, allowance and expiry were added for the
    chat use cases; NULL caps mean "no cap"."""

    __tablename__ = "chatbot_version"
    __table_args__ = (
        UniqueConstraint("chatbot_id", "version_number"),
        Index(None, "chatbot_id"),
        Index(None, "activated_at"),
        CheckConstraint("version_number >= 1", name="version_number_positive"),
        CheckConstraint("price_cents >= 0", name="price_non_negative"),
        CheckConstraint("message_allowance > 0", name="message_allowance_positive"),
        CheckConstraint("expiry_seconds > 0", name="expiry_seconds_positive"),
    )

    id: Mapped[str] = id_column()
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")
    version_number: Mapped[int] = mapped_column(Integer())
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    meta_description: Mapped[str | None] = mapped_column(Text)
    seo_schema: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    system_prompt: Mapped[str] = mapped_column(Text)
    model_provider: Mapped[str] = mapped_column(String(64))
    model_name: Mapped[str] = mapped_column(String(128))
    pinecone_ns: Mapped[str] = mapped_column(String(255))
    vector_namespace: Mapped[str] = mapped_column(String(255))
    config_json: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    rag_settings_json: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    ingestion_run_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    allow_anonymous: Mapped[bool] = mapped_column(Boolean(), default=False)
    price_cents: Mapped[int] = money()
    currency: Mapped[str] = currency()
    type: Mapped[ChatbotType] = enum_column(ChatbotType, "type")
    notes: Mapped[str | None] = mapped_column(Text)
    changelog: Mapped[str | None] = mapped_column(Text)
    created_by_user_id: Mapped[str] = fk("user.id")
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Added: limits the chat use cases enforce for conversations on this version.
    max_output_tokens: Mapped[int | None] = mapped_column(Integer())
    conversation_token_cap: Mapped[int | None] = mapped_column(Integer())
    daily_user_token_cap: Mapped[int | None] = mapped_column(Integer())
    message_allowance: Mapped[int] = mapped_column(Integer(), default=DEFAULT_MESSAGE_ALLOWANCE)
    expiry_seconds: Mapped[int] = mapped_column(Integer(), default=DEFAULT_EXPIRY_SECONDS)


class ChatbotCreator(Timestamps, Base):
    """Ownership of a chatbot (several creators for advisory boards and deep dives). Ownership
    does not decide revenue: sources do."""

    __tablename__ = "chatbot_creator"
    __table_args__ = (
        UniqueConstraint("chatbot_id", "creator_id"),
        Index(None, "chatbot_id"),
        Index(None, "creator_id"),
    )

    id: Mapped[str] = id_column()
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")
    creator_id: Mapped[str] = fk("creator.id", ondelete="CASCADE")
    role: Mapped[ChatbotOwnerRole] = enum_column(ChatbotOwnerRole, "role", default=ChatbotOwnerRole.CO_OWNER)


class Category(Timestamps, Base):
    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("type", "slug"), Index(None, "type"))

    id: Mapped[str] = id_column()
    type: Mapped[CategoryType] = enum_column(CategoryType, "type")
    label: Mapped[str] = mapped_column(Text)
    slug: Mapped[str] = mapped_column(String(255))
    icon: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(String(32))


class ChatbotCategory(CreatedAt, Base):
    __tablename__ = "chatbot_category"
    __table_args__ = (
        UniqueConstraint("chatbot_id", "category_id"),
        Index(None, "category_id"),
        Index(None, "chatbot_id"),
        CheckConstraint("relevance_score >= 0 AND relevance_score <= 1", name="relevance_score_range"),
    )

    id: Mapped[str] = id_column()
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")
    category_id: Mapped[str] = fk("category.id", ondelete="CASCADE")
    relevance_score: Mapped[float | None] = mapped_column(Float())


class FavoritedChatbot(CreatedAt, Base):
    __tablename__ = "favorited_chatbots"
    __table_args__ = (
        UniqueConstraint("user_id", "chatbot_id"),
        Index(None, "user_id"),
        Index(None, "chatbot_id"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = fk("user.id", ondelete="CASCADE")
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")


class IntakeQuestion(Timestamps, Base):
    __tablename__ = "intake_question"
    __table_args__ = (UniqueConstraint("chatbot_id", "slug"), Index(None, "chatbot_id"))

    id: Mapped[str] = id_column()
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")
    slug: Mapped[str] = mapped_column(String(255))
    question_text: Mapped[str] = mapped_column(Text)
    helper_text: Mapped[str | None] = mapped_column(Text)
    response_type: Mapped[IntakeResponseType] = enum_column(IntakeResponseType, "response_type")
    display_order: Mapped[int] = mapped_column(Integer())
    is_required: Mapped[bool] = mapped_column(Boolean(), default=False)
    # Added (revision 0007_intake): the choices of a SELECT / MULTI_SELECT question.
    options: Mapped[list[str] | None] = mapped_column(JSONType)


class IntakeResponse(Timestamps, Base):
    __tablename__ = "intake_response"
    __table_args__ = (Index(None, "user_id"), Index(None, "intake_question_id"))

    id: Mapped[str] = id_column()
    intake_question_id: Mapped[str] = fk("intake_question.id", ondelete="CASCADE")
    user_id: Mapped[str] = fk("user.id", ondelete="CASCADE")
    chatbot_id: Mapped[str | None] = fk("chatbot.id", ondelete="CASCADE", nullable=True)
    file_id: Mapped[str | None] = fk("file.id", ondelete="CASCADE", nullable=True)
    value: Mapped[Any] = mapped_column(JSONType, nullable=False)
    reusable_across_frameworks: Mapped[bool] = mapped_column(Boolean(), default=False)
