"""Creator dashboard aggregates.

Question clusters, content gaps, source and chunk performance, audience profiles.

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-06 00:03:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Column types as this revision wrote them. Plain SQLAlchemy only: a revision must not change
# when application code does. Enum types are made per column (they carry a CHECK constraint).
ID = sa.String(length=36)
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "chatbot_audience_profile",
        sa.Column("id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("industries", JSON, nullable=False),
        sa.Column("roles", JSON, nullable=False),
        sa.Column("stages", JSON, nullable=False),
        sa.Column("avg_conversation_length", sa.Integer(), nullable=False),
        sa.Column("avg_session_duration", sa.Integer(), nullable=False),
        sa.Column("return_rate", sa.Float(), nullable=False),
        sa.Column("common_goals", JSON, nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "month >= 1 AND month <= 12", name=op.f("ck_chatbot_audience_profile_month_range")
        ),
        sa.CheckConstraint(
            "return_rate >= 0 AND return_rate <= 1",
            name=op.f("ck_chatbot_audience_profile_return_rate_range"),
        ),
        sa.ForeignKeyConstraint(
            ["chatbot_id"],
            ["chatbot.id"],
            name=op.f("fk_chatbot_audience_profile_chatbot_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chatbot_audience_profile")),
        sa.UniqueConstraint(
            "chatbot_id", "year", "month", name=op.f("uq_chatbot_audience_profile_chatbot_id_year_month")
        ),
        sa.Index(op.f("ix_chatbot_audience_profile_chatbot_id"), "chatbot_id", unique=False),
    )
    op.create_table(
        "chunk_performance",
        sa.Column("id", ID, nullable=False),
        sa.Column("chunk_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("chunk_text", sa.Text(), nullable=True),
        sa.Column("chunk_metadata", JSON, nullable=True),
        sa.Column("times_used", sa.Integer(), nullable=False),
        sa.Column("conversation_count", sa.Integer(), nullable=False),
        sa.Column("satisfaction_sum", sa.Float(), nullable=False),
        sa.Column("satisfaction_count", sa.Integer(), nullable=False),
        sa.Column("confusion_count", sa.Integer(), nullable=False),
        sa.Column("clarification_count", sa.Integer(), nullable=False),
        sa.Column("response_count", sa.Integer(), nullable=False),
        sa.Column("helpful_count", sa.Integer(), nullable=False),
        sa.Column("not_helpful_count", sa.Integer(), nullable=False),
        sa.Column("needs_scripts_count", sa.Integer(), nullable=False),
        sa.Column("needs_examples_count", sa.Integer(), nullable=False),
        sa.Column("needs_steps_count", sa.Integer(), nullable=False),
        sa.Column("needs_case_study_count", sa.Integer(), nullable=False),
        sa.Column("copy_count", sa.Integer(), nullable=False),
        sa.Column("copy_to_use_now_count", sa.Integer(), nullable=False),
        sa.Column("copy_to_adapt_count", sa.Integer(), nullable=False),
        sa.Column("common_requests", JSON, nullable=True),
        sa.Column("user_situations", JSON, nullable=True),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("month >= 1 AND month <= 12", name=op.f("ck_chunk_performance_month_range")),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_chunk_performance_chatbot_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_chunk_performance_source_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chunk_performance")),
        sa.UniqueConstraint(
            "chunk_id",
            "chatbot_id",
            "month",
            "year",
            name=op.f("uq_chunk_performance_chunk_id_chatbot_id_month_year"),
        ),
        sa.Index(
            op.f("ix_chunk_performance_chatbot_id_month_year"), "chatbot_id", "month", "year", unique=False
        ),
        sa.Index(
            "ix_chunk_performance_satisfaction",
            "satisfaction_sum",
            "satisfaction_count",
            "response_count",
            unique=False,
        ),
        sa.Index(op.f("ix_chunk_performance_source_id"), "source_id", unique=False),
    )
    op.create_table(
        "content_gap",
        sa.Column("id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("topic_requested", sa.Text(), nullable=False),
        sa.Column("specific_question", sa.Text(), nullable=False),
        sa.Column("request_count", sa.Integer(), nullable=False),
        sa.Column("last_requested_at", TIMESTAMP, nullable=False),
        sa.Column("format_requested", JSON, nullable=False),
        sa.Column("user_contexts", JSON, nullable=False),
        sa.Column("related_chunk_ids", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'planned', 'created')", name=op.f("ck_content_gap_status_values")
        ),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_content_gap_chatbot_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_gap")),
        sa.UniqueConstraint(
            "chatbot_id", "topic_requested", name=op.f("uq_content_gap_chatbot_id_topic_requested")
        ),
        sa.Index(op.f("ix_content_gap_chatbot_id_status"), "chatbot_id", "status", unique=False),
        sa.Index(op.f("ix_content_gap_last_requested_at"), "last_requested_at", unique=False),
        sa.Index(op.f("ix_content_gap_request_count"), "request_count", unique=False),
    )
    op.create_table(
        "question_cluster_aggregate",
        sa.Column("id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("canonical_question", sa.Text(), nullable=False),
        sa.Column("times_asked", sa.Integer(), nullable=False),
        sa.Column("example_questions", JSON, nullable=False),
        sa.Column("avg_satisfaction", sa.Float(), nullable=True),
        sa.Column("related_source_ids", JSON, nullable=False),
        sa.Column("avg_response_quality", sa.Float(), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["chatbot_id"],
            ["chatbot.id"],
            name=op.f("fk_question_cluster_aggregate_chatbot_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_cluster_aggregate")),
        sa.UniqueConstraint(
            "chatbot_id", "date", "canonical_question", name="uq_question_cluster_aggregate_daily"
        ),
        sa.Index(op.f("ix_question_cluster_aggregate_chatbot_id"), "chatbot_id", unique=False),
        sa.Index(op.f("ix_question_cluster_aggregate_chatbot_id_date"), "chatbot_id", "date", unique=False),
        sa.Index(op.f("ix_question_cluster_aggregate_date"), "date", unique=False),
        sa.Index(op.f("ix_question_cluster_aggregate_times_asked"), "times_asked", unique=False),
    )
    op.create_table(
        "source_performance",
        sa.Column("id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=True),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("conversation_count", sa.Integer(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("avg_satisfaction", sa.Float(), nullable=True),
        sa.Column("confusion_rate", sa.Float(), nullable=True),
        sa.Column("clarification_rate", sa.Float(), nullable=True),
        sa.Column("copy_rate", sa.Float(), nullable=True),
        sa.Column("top_requests", JSON, nullable=True),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("month >= 1 AND month <= 12", name=op.f("ck_source_performance_month_range")),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_source_performance_chatbot_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_source_performance_source_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_performance")),
        sa.UniqueConstraint(
            "source_id",
            "chatbot_id",
            "year",
            "month",
            name=op.f("uq_source_performance_source_id_chatbot_id_year_month"),
        ),
        sa.Index(op.f("ix_source_performance_avg_satisfaction"), "avg_satisfaction", unique=False),
        sa.Index(op.f("ix_source_performance_chatbot_id"), "chatbot_id", unique=False),
        sa.Index(op.f("ix_source_performance_source_id"), "source_id", unique=False),
        sa.Index(
            "uq_source_performance_overall",
            "source_id",
            "year",
            "month",
            unique=True,
            sqlite_where=sa.text("chatbot_id IS NULL"),
            postgresql_where=sa.text("chatbot_id IS NULL"),
        ),
    )


def downgrade() -> None:
    op.drop_table("source_performance")
    op.drop_table("question_cluster_aggregate")
    op.drop_table("content_gap")
    op.drop_table("chunk_performance")
    op.drop_table("chatbot_audience_profile")
