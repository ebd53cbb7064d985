"""Chatbots.

Chatbots and their immutable versions, ownership, categories, favourites and intake
questions and responses.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-06 00:01:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
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
        "category",
        sa.Column("id", ID, nullable=False),
        sa.Column("type", enum("ROLE", "CHALLENGE", "STAGE", name="type"), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("icon", sa.Text(), nullable=True),
        sa.Column("color", sa.String(length=32), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("type", "slug", name=op.f("uq_category_type_slug")),
        sa.Index(op.f("ix_category_type"), "type", unique=False),
    )
    op.create_table(
        "chatbot",
        sa.Column("id", ID, nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("meta_description", sa.Text(), nullable=True),
        sa.Column("seo_schema", JSON, nullable=True),
        sa.Column("system_prompt", sa.Text(), nullable=False),
        sa.Column("model_provider", sa.String(length=64), nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("pinecone_ns", sa.String(length=255), nullable=False),
        sa.Column("vector_namespace", sa.String(length=255), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("allow_anonymous", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "type", enum("CREATOR", "FRAMEWORK", "DEEP_DIVE", "ADVISOR_BOARD", name="type"), nullable=False
        ),
        sa.Column("current_version_id", ID, nullable=True),
        sa.Column("persona_creator_id", ID, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "(type = 'CREATOR' AND persona_creator_id IS NOT NULL)"
            " OR (type <> 'CREATOR' AND persona_creator_id IS NULL)",
            name=op.f("ck_chatbot_persona_matches_type"),
        ),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_chatbot_price_non_negative")),
        sa.ForeignKeyConstraint(
            ["persona_creator_id"], ["creator.id"], name=op.f("fk_chatbot_persona_creator_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chatbot")),
        sa.UniqueConstraint("persona_creator_id", name=op.f("uq_chatbot_persona_creator_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_chatbot_slug")),
        sa.Index(op.f("ix_chatbot_is_active"), "is_active", unique=False),
        sa.Index(op.f("ix_chatbot_is_public"), "is_public", unique=False),
        sa.Index(op.f("ix_chatbot_slug"), "slug", unique=False),
    )
    op.create_table(
        "chatbot_category",
        sa.Column("id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("category_id", ID, nullable=False),
        sa.Column("relevance_score", sa.Float(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "relevance_score >= 0 AND relevance_score <= 1",
            name=op.f("ck_chatbot_category_relevance_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_chatbot_category_category_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_chatbot_category_chatbot_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chatbot_category")),
        sa.UniqueConstraint(
            "chatbot_id", "category_id", name=op.f("uq_chatbot_category_chatbot_id_category_id")
        ),
        sa.Index(op.f("ix_chatbot_category_category_id"), "category_id", unique=False),
        sa.Index(op.f("ix_chatbot_category_chatbot_id"), "chatbot_id", unique=False),
    )
    op.create_table(
        "chatbot_creator",
        sa.Column("id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("role", enum("PRIMARY_OWNER", "CO_OWNER", "CONTRIBUTOR", name="role"), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_chatbot_creator_chatbot_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creator.id"], name=op.f("fk_chatbot_creator_creator_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chatbot_creator")),
        sa.UniqueConstraint(
            "chatbot_id", "creator_id", name=op.f("uq_chatbot_creator_chatbot_id_creator_id")
        ),
        sa.Index(op.f("ix_chatbot_creator_chatbot_id"), "chatbot_id", unique=False),
        sa.Index(op.f("ix_chatbot_creator_creator_id"), "creator_id", unique=False),
    )
    op.create_table(
        "chatbot_version",
        sa.Column("id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("meta_description", sa.Text(), nullable=True),
        sa.Column("seo_schema", JSON, nullable=True),
        sa.Column("system_prompt", sa.Text(), nullable=False),
        sa.Column("model_provider", sa.String(length=64), nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("pinecone_ns", sa.String(length=255), nullable=False),
        sa.Column("vector_namespace", sa.String(length=255), nullable=False),
        sa.Column("config_json", JSON, nullable=True),
        sa.Column("rag_settings_json", JSON, nullable=True),
        sa.Column("ingestion_run_ids", JSON, nullable=False),
        sa.Column("allow_anonymous", sa.Boolean(), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "type", enum("CREATOR", "FRAMEWORK", "DEEP_DIVE", "ADVISOR_BOARD", name="type"), nullable=False
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("changelog", sa.Text(), nullable=True),
        sa.Column("created_by_user_id", ID, nullable=False),
        sa.Column("activated_at", TIMESTAMP, nullable=True),
        sa.Column("deactivated_at", TIMESTAMP, nullable=True),
        sa.Column("max_output_tokens", sa.Integer(), nullable=True),
        sa.Column("conversation_token_cap", sa.Integer(), nullable=True),
        sa.Column("daily_user_token_cap", sa.Integer(), nullable=True),
        sa.Column("message_allowance", sa.Integer(), nullable=False),
        sa.Column("expiry_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("expiry_seconds > 0", name=op.f("ck_chatbot_version_expiry_seconds_positive")),
        sa.CheckConstraint(
            "message_allowance > 0", name=op.f("ck_chatbot_version_message_allowance_positive")
        ),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_chatbot_version_price_non_negative")),
        sa.CheckConstraint("version_number >= 1", name=op.f("ck_chatbot_version_version_number_positive")),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_chatbot_version_chatbot_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["user.id"], name=op.f("fk_chatbot_version_created_by_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chatbot_version")),
        sa.UniqueConstraint(
            "chatbot_id", "version_number", name=op.f("uq_chatbot_version_chatbot_id_version_number")
        ),
        sa.Index(op.f("ix_chatbot_version_activated_at"), "activated_at", unique=False),
        sa.Index(op.f("ix_chatbot_version_chatbot_id"), "chatbot_id", unique=False),
    )

    # chatbot.current_version_id -> chatbot_version closes a cycle (chatbot_version.chatbot_id
    # points back), so it can only be added once both tables exist.
    with op.batch_alter_table("chatbot", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_chatbot_current_version_id"), "chatbot_version", ["current_version_id"], ["id"]
        )
    op.create_table(
        "favorited_chatbots",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_favorited_chatbots_chatbot_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_favorited_chatbots_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_favorited_chatbots")),
        sa.UniqueConstraint("user_id", "chatbot_id", name=op.f("uq_favorited_chatbots_user_id_chatbot_id")),
        sa.Index(op.f("ix_favorited_chatbots_chatbot_id"), "chatbot_id", unique=False),
        sa.Index(op.f("ix_favorited_chatbots_user_id"), "user_id", unique=False),
    )
    op.create_table(
        "intake_question",
        sa.Column("id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("question_text", sa.Text(), nullable=False),
        sa.Column("helper_text", sa.Text(), nullable=True),
        sa.Column(
            "response_type",
            enum("TEXT", "NUMBER", "SELECT", "MULTI_SELECT", "FILE", "DATE", "BOOLEAN", name="response_type"),
            nullable=False,
        ),
        sa.Column("display_order", sa.Integer(), nullable=False),
        sa.Column("is_required", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_intake_question_chatbot_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_question")),
        sa.UniqueConstraint("chatbot_id", "slug", name=op.f("uq_intake_question_chatbot_id_slug")),
        sa.Index(op.f("ix_intake_question_chatbot_id"), "chatbot_id", unique=False),
    )
    op.create_table(
        "intake_response",
        sa.Column("id", ID, nullable=False),
        sa.Column("intake_question_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=True),
        sa.Column("file_id", ID, nullable=True),
        sa.Column("value", JSON, nullable=False),
        sa.Column("reusable_across_frameworks", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["chatbot_id"], ["chatbot.id"], name=op.f("fk_intake_response_chatbot_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["file.id"], name=op.f("fk_intake_response_file_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["intake_question_id"],
            ["intake_question.id"],
            name=op.f("fk_intake_response_intake_question_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_intake_response_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_response")),
        sa.Index(op.f("ix_intake_response_intake_question_id"), "intake_question_id", unique=False),
        sa.Index(op.f("ix_intake_response_user_id"), "user_id", unique=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("chatbot", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_chatbot_current_version_id"), type_="foreignkey")

    op.drop_table("intake_response")
    op.drop_table("intake_question")
    op.drop_table("favorited_chatbots")
    op.drop_table("chatbot_version")
    op.drop_table("chatbot_creator")
    op.drop_table("chatbot_category")
    op.drop_table("chatbot")
    op.drop_table("category")
