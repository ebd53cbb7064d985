"""Chat.

Conversations, messages and their analysis, feedback, ratings, reports, conversation files,
source usage, user context and daily token usage.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-06 00:02:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
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
    # conversation.purchase_id gets its foreign key in 0005, where purchase is created.
    op.create_table(
        "daily_token_usage",
        sa.Column("id", ID, nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "input_tokens >= 0 AND output_tokens >= 0", name=op.f("ck_daily_token_usage_tokens_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_token_usage")),
        sa.UniqueConstraint("subject", "day", name=op.f("uq_daily_token_usage_subject_day")),
    )
    op.create_table(
        "user_context",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=True),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column(
            "source",
            enum("USER_PROVIDED", "INFERRED", "INTAKE_FORM", "PLATFORM_SYNC", name="source"),
            nullable=False,
        ),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("is_visible", sa.Boolean(), nullable=False),
        sa.Column("is_editable", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name=op.f("ck_user_context_confidence_range")
        ),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_user_context_chatbot_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_context_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_context")),
        sa.UniqueConstraint(
            "user_id", "chatbot_id", "key", name=op.f("uq_user_context_user_id_chatbot_id_key")
        ),
        sa.Index(op.f("ix_user_context_chatbot_id"), "chatbot_id", unique=False),
        sa.Index(op.f("ix_user_context_user_id"), "user_id", unique=False),
        sa.Index(
            "uq_user_context_global_key",
            "user_id",
            "key",
            unique=True,
            sqlite_where=sa.text("chatbot_id IS NULL"),
            postgresql_where=sa.text("chatbot_id IS NULL"),
        ),
    )
    op.create_table(
        "conversation",
        sa.Column("id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("chatbot_version_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("anonymous_id", sa.String(length=64), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("message_allowance", sa.Integer(), nullable=False),
        sa.Column("messages_used", sa.Integer(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column(
            "status",
            enum("ACTIVE", "COMPLETED", "EXPIRED", "ATTRIBUTED", "ARCHIVED", name="status"),
            nullable=False,
        ),
        sa.Column("completed_at", TIMESTAMP, nullable=True),
        sa.Column("attributed_at", TIMESTAMP, nullable=True),
        sa.Column("purchase_id", ID, nullable=True),
        sa.Column("token_counts", JSON, nullable=True),
        sa.Column("metadata", JSON, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("token_cap", sa.Integer(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "input_tokens >= 0 AND output_tokens >= 0", name=op.f("ck_conversation_tokens_non_negative")
        ),
        sa.CheckConstraint("messages_used >= 0", name=op.f("ck_conversation_messages_used_non_negative")),
        sa.CheckConstraint(
            "user_id IS NOT NULL OR anonymous_id IS NOT NULL", name=op.f("ck_conversation_has_participant")
        ),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_conversation_chatbot_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["chatbot_version_id"],
            ["chatbot_version.id"],
            name=op.f("fk_conversation_chatbot_version_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_conversation_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation")),
        sa.Index(op.f("ix_conversation_anonymous_id"), "anonymous_id", unique=False),
        sa.Index(op.f("ix_conversation_chatbot_id"), "chatbot_id", unique=False),
        sa.Index(op.f("ix_conversation_purchase_id"), "purchase_id", unique=False),
        sa.Index(op.f("ix_conversation_status"), "status", unique=False),
        sa.Index(op.f("ix_conversation_user_id"), "user_id", unique=False),
    )
    op.create_table(
        "conversation_feedback",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("user_goal", sa.Text(), nullable=True),
        sa.Column("goal_achieved", sa.String(length=16), nullable=True),
        sa.Column("still_need", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("rating >= 1 AND rating <= 5", name=op.f("ck_conversation_feedback_rating_range")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_conversation_feedback_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_conversation_feedback_user_id"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_feedback")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_conversation_feedback_conversation_id")),
        sa.Index(op.f("ix_conversation_feedback_conversation_id"), "conversation_id", unique=False),
        sa.Index(op.f("ix_conversation_feedback_created_at"), "created_at", unique=False),
        sa.Index(op.f("ix_conversation_feedback_goal_achieved"), "goal_achieved", unique=False),
        sa.Index(op.f("ix_conversation_feedback_user_id"), "user_id", unique=False),
    )
    op.create_table(
        "conversation_file",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("file_id", ID, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_conversation_file_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["file.id"], name=op.f("fk_conversation_file_file_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_file")),
        sa.UniqueConstraint(
            "conversation_id", "file_id", name=op.f("uq_conversation_file_conversation_id_file_id")
        ),
        sa.Index(op.f("ix_conversation_file_conversation_id"), "conversation_id", unique=False),
        sa.Index(op.f("ix_conversation_file_file_id"), "file_id", unique=False),
    )
    op.create_table(
        "conversation_source_usage",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("total_tokens", sa.Integer(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("first_used_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "total_tokens >= 0 AND message_count >= 0",
            name=op.f("ck_conversation_source_usage_counts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_conversation_source_usage_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("fk_conversation_source_usage_source_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_source_usage")),
        sa.UniqueConstraint(
            "conversation_id",
            "source_id",
            name=op.f("uq_conversation_source_usage_conversation_id_source_id"),
        ),
        sa.Index(op.f("ix_conversation_source_usage_conversation_id"), "conversation_id", unique=False),
        sa.Index(op.f("ix_conversation_source_usage_source_id"), "source_id", unique=False),
    )
    op.create_table(
        "message",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("role", enum("USER", "AI", "SYSTEM", name="role"), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=False),
        sa.Column("sender_user_id", ID, nullable=True),
        sa.Column("attribution", JSON, nullable=True),
        sa.Column("context", JSON, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("token_count >= 0", name=op.f("ck_message_token_count_non_negative")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_message_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_user_id"], ["user.id"], name=op.f("fk_message_sender_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.Index(op.f("ix_message_conversation_id"), "conversation_id", unique=False),
        sa.Index(
            op.f("ix_message_conversation_id_created_at"), "conversation_id", "created_at", unique=False
        ),
        sa.Index(op.f("ix_message_role"), "role", unique=False),
        sa.Index(op.f("ix_message_sender_user_id"), "sender_user_id", unique=False),
    )
    op.create_table(
        "rating",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("chatbot_version_id", ID, nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("hours_saved", sa.Integer(), nullable=True),
        sa.Column(
            "trigger",
            enum(
                "INLINE_RATING",
                "HIGH_RATING_FOLLOWUP",
                "NATURAL_ENDING",
                "GOAL_ACHIEVED",
                "OUTPUT_DOWNLOADED",
                "INACTIVITY_PROMPT",
                "MESSAGE_LIMIT",
                "TIME_EXPIRED",
                "RETURN_PROMPT",
                "EMAIL_FOLLOWUP",
                name="trigger",
            ),
            nullable=False,
        ),
        sa.Column("context_data", JSON, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("rating >= 1 AND rating <= 5", name=op.f("ck_rating_rating_range")),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_rating_chatbot_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["chatbot_version_id"],
            ["chatbot_version.id"],
            name=op.f("fk_rating_chatbot_version_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_rating_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_rating_user_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating")),
        sa.Index(op.f("ix_rating_chatbot_id"), "chatbot_id", unique=False),
        sa.Index(op.f("ix_rating_user_id"), "user_id", unique=False),
    )
    op.create_table(
        "message_analysis",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("analysis", JSON, nullable=False),
        sa.Column("analyzed_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_message_analysis_message_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_analysis")),
        sa.UniqueConstraint("message_id", name=op.f("uq_message_analysis_message_id")),
        sa.Index(op.f("ix_message_analysis_analyzed_at"), "analyzed_at", unique=False),
        sa.Index(op.f("ix_message_analysis_message_id"), "message_id", unique=False),
    )
    op.create_table(
        "message_feedback",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("feedback_type", sa.String(length=32), nullable=False),
        sa.Column("was_helpful", sa.Boolean(), nullable=True),
        sa.Column("helpful_reasons", JSON, nullable=False),
        sa.Column("not_helpful_reasons", JSON, nullable=False),
        sa.Column("needs_more", JSON, nullable=False),
        sa.Column("specific_situation", sa.Text(), nullable=True),
        sa.Column("copy_usage", sa.String(length=32), nullable=True),
        sa.Column("copy_context", sa.Text(), nullable=True),
        sa.Column("chunk_ids", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_message_feedback_message_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_message_feedback_user_id"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_feedback")),
        sa.Index(op.f("ix_message_feedback_created_at"), "created_at", unique=False),
        sa.Index(op.f("ix_message_feedback_feedback_type"), "feedback_type", unique=False),
        sa.Index(op.f("ix_message_feedback_message_id"), "message_id", unique=False),
        sa.Index(op.f("ix_message_feedback_user_id"), "user_id", unique=False),
    )
    op.create_table(
        "report",
        sa.Column("id", ID, nullable=False),
        sa.Column("reporter_user_id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("chatbot_version_id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "reason",
            enum(
                "INCORRECT_INFORMATION",
                "HALLUCINATION",
                "INAPPROPRIATE_CONTENT",
                "OFF_TOPIC",
                "HARMFUL_CONTENT",
                "COPYRIGHT_VIOLATION",
                "OTHER",
                name="reason",
            ),
            nullable=False,
        ),
        sa.Column(
            "status", enum("PENDING", "REVIEWED", "RESOLVED", "DISMISSED", name="status"), nullable=False
        ),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_report_chatbot_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["chatbot_version_id"],
            ["chatbot_version.id"],
            name=op.f("fk_report_chatbot_version_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_report_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_report_message_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reporter_user_id"], ["user.id"], name=op.f("fk_report_reporter_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
        sa.Index(op.f("ix_report_chatbot_id"), "chatbot_id", unique=False),
        sa.Index(op.f("ix_report_reporter_user_id"), "reporter_user_id", unique=False),
        sa.Index(op.f("ix_report_status"), "status", unique=False),
    )


def downgrade() -> None:
    op.drop_table("report")
    op.drop_table("message_feedback")
    op.drop_table("message_analysis")
    op.drop_table("rating")
    op.drop_table("message")
    op.drop_table("conversation_source_usage")
    op.drop_table("conversation_file")
    op.drop_table("conversation_feedback")
    op.drop_table("conversation")
    op.drop_table("user_context")
    op.drop_table("daily_token_usage")
