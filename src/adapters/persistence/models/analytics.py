"""Creator dashboard aggregates, written by nightly/daily/monthly jobs and read by dashboards.

None of these tables decides money: ``revenue_per_conversation`` does. Counters are the source
of truth; rates (e.g. average satisfaction = satisfaction_sum / satisfaction_count) are computed
on read.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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

from adapters.persistence.models.base import Base, Timestamps, fk, id_column, utcnow
from adapters.persistence.types import JSONType, UTCDateTime

MONTH_RANGE = "month >= 1 AND month <= 12"


class QuestionClusterAggregate(Timestamps, Base):
    """Daily snapshot of what people ask a chatbot (all questions, answered well or not)."""

    __tablename__ = "question_cluster_aggregate"
    __table_args__ = (
        UniqueConstraint(
            "chatbot_id", "date", "canonical_question", name="uq_question_cluster_aggregate_daily"
        ),
        Index(None, "chatbot_id"),
        Index(None, "date"),
        Index(None, "times_asked"),
        Index(None, "chatbot_id", "date"),
    )

    id: Mapped[str] = id_column()
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")
    canonical_question: Mapped[str] = mapped_column(Text)
    times_asked: Mapped[int] = mapped_column(Integer(), default=0)
    example_questions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    avg_satisfaction: Mapped[float | None] = mapped_column(Float())
    related_source_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    avg_response_quality: Mapped[float | None] = mapped_column(Float())
    date: Mapped[dt.date] = mapped_column(Date())


class ContentGap(Timestamps, Base):
    """Unmet demand (users asked for more or found an answer unhelpful), as a content roadmap."""

    __tablename__ = "content_gap"
    __table_args__ = (
        UniqueConstraint("chatbot_id", "topic_requested"),
        Index(None, "chatbot_id", "status"),
        Index(None, "request_count"),
        Index(None, "last_requested_at"),
        CheckConstraint("status IN ('open', 'planned', 'created')", name="status_values"),
    )

    id: Mapped[str] = id_column()
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")
    topic_requested: Mapped[str] = mapped_column(Text)
    specific_question: Mapped[str] = mapped_column(Text)
    request_count: Mapped[int] = mapped_column(Integer(), default=1)
    last_requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    format_requested: Mapped[list[str]] = mapped_column(JSONType, default=list)
    user_contexts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    related_chunk_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")


class SourcePerformance(Timestamps, Base):
    """A source's monthly usage and quality, per chatbot or (``chatbot_id`` NULL) overall.

    As in ``user_context``, the seed's unique key cannot stop duplicate "overall" rows (NULL
    chatbot); ``uq_source_performance_overall`` is a partial unique index for them.
    """

    __tablename__ = "source_performance"
    __table_args__ = (
        UniqueConstraint("source_id", "chatbot_id", "year", "month"),
        Index(
            "uq_source_performance_overall",
            "source_id",
            "year",
            "month",
            unique=True,
            sqlite_where=sql_text("chatbot_id IS NULL"),
            postgresql_where=sql_text("chatbot_id IS NULL"),
        ),
        Index(None, "source_id"),
        Index(None, "chatbot_id"),
        Index(None, "avg_satisfaction"),
        CheckConstraint(MONTH_RANGE, name="month_range"),
    )

    id: Mapped[str] = id_column()
    source_id: Mapped[str] = fk("source.id", ondelete="CASCADE")
    chatbot_id: Mapped[str | None] = fk("chatbot.id", ondelete="CASCADE", nullable=True)
    total_tokens: Mapped[int] = mapped_column(BigInteger(), default=0)
    conversation_count: Mapped[int] = mapped_column(Integer(), default=0)
    message_count: Mapped[int] = mapped_column(Integer(), default=0)
    avg_satisfaction: Mapped[float | None] = mapped_column(Float())
    confusion_rate: Mapped[float | None] = mapped_column(Float())
    clarification_rate: Mapped[float | None] = mapped_column(Float())
    copy_rate: Mapped[float | None] = mapped_column(Float())
    top_requests: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    month: Mapped[int] = mapped_column(Integer())
    year: Mapped[int] = mapped_column(Integer())


class ChunkPerformance(Timestamps, Base):
    """One chunk's monthly performance in one chatbot. ``chunk_id`` is the vector id (the
    ``chunk`` table's id); it has no foreign key because a chunk may be re-ingested while its
    history is kept."""

    __tablename__ = "chunk_performance"
    __table_args__ = (
        UniqueConstraint("chunk_id", "chatbot_id", "month", "year"),
        Index(None, "source_id"),
        Index(None, "chatbot_id", "month", "year"),
        Index(
            "ix_chunk_performance_satisfaction", "satisfaction_sum", "satisfaction_count", "response_count"
        ),
        CheckConstraint(MONTH_RANGE, name="month_range"),
    )

    id: Mapped[str] = id_column()
    chunk_id: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = fk("source.id", ondelete="CASCADE")
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")
    chunk_text: Mapped[str | None] = mapped_column(Text)
    chunk_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    times_used: Mapped[int] = mapped_column(Integer(), default=0)
    conversation_count: Mapped[int] = mapped_column(Integer(), default=0)
    satisfaction_sum: Mapped[float] = mapped_column(Float(), default=0.0)
    satisfaction_count: Mapped[int] = mapped_column(Integer(), default=0)
    confusion_count: Mapped[int] = mapped_column(Integer(), default=0)
    clarification_count: Mapped[int] = mapped_column(Integer(), default=0)
    response_count: Mapped[int] = mapped_column(Integer(), default=0)
    helpful_count: Mapped[int] = mapped_column(Integer(), default=0)
    not_helpful_count: Mapped[int] = mapped_column(Integer(), default=0)
    needs_scripts_count: Mapped[int] = mapped_column(Integer(), default=0)
    needs_examples_count: Mapped[int] = mapped_column(Integer(), default=0)
    needs_steps_count: Mapped[int] = mapped_column(Integer(), default=0)
    needs_case_study_count: Mapped[int] = mapped_column(Integer(), default=0)
    copy_count: Mapped[int] = mapped_column(Integer(), default=0)
    copy_to_use_now_count: Mapped[int] = mapped_column(Integer(), default=0)
    copy_to_adapt_count: Mapped[int] = mapped_column(Integer(), default=0)
    common_requests: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    user_situations: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    month: Mapped[int] = mapped_column(Integer())
    year: Mapped[int] = mapped_column(Integer())


class ChatbotAudienceProfile(Timestamps, Base):
    """Who uses a chatbot, aggregated per month."""

    __tablename__ = "chatbot_audience_profile"
    __table_args__ = (
        UniqueConstraint("chatbot_id", "year", "month"),
        Index(None, "chatbot_id"),
        CheckConstraint(MONTH_RANGE, name="month_range"),
        CheckConstraint("return_rate >= 0 AND return_rate <= 1", name="return_rate_range"),
    )

    id: Mapped[str] = id_column()
    chatbot_id: Mapped[str] = fk("chatbot.id", ondelete="CASCADE")
    industries: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    roles: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    stages: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    avg_conversation_length: Mapped[int] = mapped_column(Integer())
    avg_session_duration: Mapped[int] = mapped_column(Integer())
    return_rate: Mapped[float] = mapped_column(Float())
    common_goals: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    month: Mapped[int] = mapped_column(Integer())
    year: Mapped[int] = mapped_column(Integer())
