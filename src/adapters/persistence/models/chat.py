"""Conversations and what happens in them: messages, feedback, ratings, reports, the sources
they used, the files they reference and what the platform learns about the user."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.enums import (
    ContextSource,
    ConversationStatus,
    MessageRole,
    ReportReason,
    ReportStatus,
    ReviewTriggerType,
)
from adapters.persistence.models.base import Base, CreatedAt, Timestamps, enum_column, fk, id_column, utcnow
from adapters.persistence.types import JSONType, UTCDateTime

ATTRIBUTION_QUEUE = "attributed_at IS NULL AND purchase_id IS NOT NULL AND status IN ('COMPLETED', 'EXPIRED')"
"""Ended, purchased, not yet attributed: what the attribution job takes, oldest ``ended_at``
first."""


class Conversation(Timestamps, Base):
    """A paid (or free/anonymous) chat session with limits on messages, time and tokens.

    Added: ``ended_at`` (when the user or a limit ended it), ``token_cap`` (copied from the
    version when the conversation starts, NULL = no cap) and running ``input_tokens`` /
    ``output_tokens`` totals, so enforcing a cap is a single-row read. ``purchase_id``'s
    foreign key is added by the money migration, where ``purchase`` is created.
    """

    __tablename__ = "conversation"
    __table_args__ = (
        Index(None, "chatbot_id"),
        Index(None, "user_id"),
        Index(None, "anonymous_id"),
        Index(None, "status"),
        Index(None, "purchase_id"),
        # The attribution job's queue, in the order it is taken (migration 0009).
        Index(
            "ix_conversation_attribution_queue",
            "ended_at",
            "id",
            sqlite_where=sql_text(ATTRIBUTION_QUEUE),
            postgresql_where=sql_text(ATTRIBUTION_QUEUE),
        ),
        CheckConstraint("user_id IS NOT NULL OR anonymous_id IS NOT NULL", name="has_participant"),
        CheckConstraint("messages_used >= 0", name="messages_used_non_negative"),
        CheckConstraint("input_tokens >= 0 AND output_tokens >= 0", name="tokens_non_negative"),
    )

    id: Mapped[str] = id_column()
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")
    chatbot_version_id: Mapped[str] = fk("chatbot_version.id", ondelete="CASCADE")
    user_id: Mapped[str | None] = fk("user.id", ondelete="CASCADE", nullable=True)
    anonymous_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    message_allowance: Mapped[int] = mapped_column(Integer())
    messages_used: Mapped[int] = mapped_column(Integer(), default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[ConversationStatus] = enum_column(
        ConversationStatus, "status", default=ConversationStatus.ACTIVE
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attributed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purchase_id: Mapped[str | None] = fk("purchase.id", ondelete="SET NULL", nullable=True)
    token_counts: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    token_cap: Mapped[int | None] = mapped_column(Integer())
    input_tokens: Mapped[int] = mapped_column(BigInteger(), default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger(), default=0)


class Message(Timestamps, Base):
    """One turn. ``attribution`` is what the UI shows (citations); ``context`` is the complete
    generation context, the source of truth for analytics."""

    __tablename__ = "message"
    __table_args__ = (
        Index(None, "conversation_id"),
        Index(None, "conversation_id", "created_at"),
        Index(None, "role"),
        Index(None, "sender_user_id"),
        CheckConstraint("token_count >= 0", name="token_count_non_negative"),
    )

    id: Mapped[str] = id_column()
    conversation_id: Mapped[str] = fk("conversation.id", ondelete="CASCADE")
    role: Mapped[MessageRole] = enum_column(MessageRole, "role")
    content: Mapped[str] = mapped_column(Text)
    token_count: Mapped[int] = mapped_column(Integer())
    sender_user_id: Mapped[str | None] = fk("user.id", ondelete="CASCADE", nullable=True)
    attribution: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class MessageAnalysis(Timestamps, Base):
    """Asynchronous sentiment/intent analysis of a user message."""

    __tablename__ = "message_analysis"
    __table_args__ = (Index(None, "message_id"), Index(None, "analyzed_at"))

    id: Mapped[str] = id_column()
    message_id: Mapped[str] = fk("message.id", ondelete="CASCADE", unique=True)
    analysis: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    analyzed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MessageFeedback(CreatedAt, Base):
    """Structured feedback on one AI message ('helpful' | 'not_helpful' | 'need_more' | 'copy')."""

    __tablename__ = "message_feedback"
    __table_args__ = (
        Index(None, "message_id"),
        Index(None, "user_id"),
        Index(None, "feedback_type"),
        Index(None, "created_at"),
    )

    id: Mapped[str] = id_column()
    message_id: Mapped[str] = fk("message.id", ondelete="CASCADE")
    user_id: Mapped[str | None] = fk("user.id", ondelete="SET NULL", nullable=True)
    feedback_type: Mapped[str] = mapped_column(String(32))
    was_helpful: Mapped[bool | None] = mapped_column(Boolean())
    helpful_reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    not_helpful_reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    needs_more: Mapped[list[str]] = mapped_column(JSONType, default=list)
    specific_situation: Mapped[str | None] = mapped_column(Text)
    copy_usage: Mapped[str | None] = mapped_column(String(32))
    copy_context: Mapped[str | None] = mapped_column(Text)
    chunk_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)


class ConversationFeedback(CreatedAt, Base):
    """End-of-conversation feedback: rating and whether the user's goal was achieved."""

    __tablename__ = "conversation_feedback"
    __table_args__ = (
        Index(None, "conversation_id"),
        Index(None, "user_id"),
        Index(None, "goal_achieved"),
        Index(None, "created_at"),
        CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),
    )

    id: Mapped[str] = id_column()
    conversation_id: Mapped[str] = fk("conversation.id", ondelete="CASCADE", unique=True)
    user_id: Mapped[str | None] = fk("user.id", ondelete="SET NULL", nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer())
    user_goal: Mapped[str | None] = mapped_column(Text)
    goal_achieved: Mapped[str | None] = mapped_column(String(16))
    still_need: Mapped[str | None] = mapped_column(Text)


class Rating(Timestamps, Base):
    __tablename__ = "rating"
    __table_args__ = (
        Index(None, "chatbot_id"),
        Index(None, "user_id"),
        CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = fk("user.id", ondelete="CASCADE")
    conversation_id: Mapped[str] = fk("conversation.id", ondelete="CASCADE")
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")
    chatbot_version_id: Mapped[str] = fk("chatbot_version.id", ondelete="CASCADE")
    rating: Mapped[int] = mapped_column(Integer())
    comment: Mapped[str | None] = mapped_column(Text)
    hours_saved: Mapped[int | None] = mapped_column(Integer())
    trigger: Mapped[ReviewTriggerType] = enum_column(ReviewTriggerType, "trigger")
    context_data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class Report(Timestamps, Base):
    """A user's report about a chatbot or one of its messages."""

    __tablename__ = "report"
    __table_args__ = (Index(None, "chatbot_id"), Index(None, "reporter_user_id"), Index(None, "status"))

    id: Mapped[str] = id_column()
    reporter_user_id: Mapped[str] = fk("user.id", ondelete="CASCADE")
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")
    conversation_id: Mapped[str | None] = fk("conversation.id", ondelete="CASCADE", nullable=True)
    chatbot_version_id: Mapped[str] = fk("chatbot_version.id", ondelete="CASCADE")
    message_id: Mapped[str | None] = fk("message.id", ondelete="CASCADE", nullable=True)
    description: Mapped[str] = mapped_column(Text)
    reason: Mapped[ReportReason] = enum_column(ReportReason, "reason")
    status: Mapped[ReportStatus] = enum_column(ReportStatus, "status", default=ReportStatus.PENDING)


class ConversationFile(CreatedAt, Base):
    """An audience member's own file given to a conversation as context (never embedded)."""

    __tablename__ = "conversation_file"
    __table_args__ = (
        UniqueConstraint("conversation_id", "file_id"),
        Index(None, "conversation_id"),
        Index(None, "file_id"),
    )

    id: Mapped[str] = id_column()
    conversation_id: Mapped[str] = fk("conversation.id", ondelete="CASCADE")
    file_id: Mapped[str] = fk("file.id", ondelete="CASCADE")


class ConversationSourceUsage(Timestamps, Base):
    """How much of each source a conversation used: the input to revenue attribution."""

    __tablename__ = "conversation_source_usage"
    __table_args__ = (
        UniqueConstraint("conversation_id", "source_id"),
        Index(None, "conversation_id"),
        Index(None, "source_id"),
        CheckConstraint("total_tokens >= 0 AND message_count >= 0", name="counts_non_negative"),
    )

    id: Mapped[str] = id_column()
    conversation_id: Mapped[str] = fk("conversation.id", ondelete="CASCADE")
    source_id: Mapped[str] = fk("source.id", ondelete="CASCADE")
    total_tokens: Mapped[int] = mapped_column(Integer())
    message_count: Mapped[int] = mapped_column(Integer())
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserContext(Timestamps, Base):
    """What is known about a user, globally (``chatbot_id`` NULL) or for one chatbot.

    The seed's unique (user_id, chatbot_id, key) does not stop two global rows with the same
    key, because NULLs are distinct in unique constraints on both databases; the partial unique
    index ``uq_user_context_global_key`` covers that case.
    """

    __tablename__ = "user_context"
    __table_args__ = (
        UniqueConstraint("user_id", "chatbot_id", "key"),
        Index(
            "uq_user_context_global_key",
            "user_id",
            "key",
            unique=True,
            sqlite_where=sql_text("chatbot_id IS NULL"),
            postgresql_where=sql_text("chatbot_id IS NULL"),
        ),
        Index(None, "user_id"),
        Index(None, "chatbot_id"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = fk("user.id", ondelete="CASCADE")
    chatbot_id: Mapped[str | None] = fk("chatbot.id", ondelete="CASCADE", nullable=True)
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[Any] = mapped_column(JSONType, nullable=False)
    source: Mapped[ContextSource] = enum_column(ContextSource, "source")
    confidence: Mapped[float | None] = mapped_column(Float())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_visible: Mapped[bool] = mapped_column(Boolean(), default=True)
    is_editable: Mapped[bool] = mapped_column(Boolean(), default=True)


class DailyTokenUsage(Base):
    """Tokens one user (or anonymous visitor) used on one UTC day, for the daily token cap.

    ``subject`` is ``"user:<id>"`` or ``"anon:<anonymous id>"`` so both kinds share one
    non-null unique key, and the chat use case can add to it with a single upsert
    (``INSERT ... ON CONFLICT (subject, day) DO UPDATE``, available on both databases).
    """

    __tablename__ = "daily_token_usage"
    __table_args__ = (
        UniqueConstraint("subject", "day"),
        CheckConstraint("input_tokens >= 0 AND output_tokens >= 0", name="tokens_non_negative"),
    )

    id: Mapped[str] = id_column()
    subject: Mapped[str] = mapped_column(String(80))
    day: Mapped[date] = mapped_column(Date())
    input_tokens: Mapped[int] = mapped_column(BigInteger(), default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger(), default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
