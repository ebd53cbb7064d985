"""Identity and catalogue.

Users, creators and their members, API keys, anonymous claims, sources and who shares in
them (with the share history), files and their chunks.

Revision ID: 0001
Revises:
Create Date: 2025-01-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Column types as this revision wrote them. Plain SQLAlchemy only: a revision must not change
# when application code does. Enum types are made per column (they carry a CHECK constraint).
ID = sa.String(length=36)
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def exact(precision: int, scale: int) -> sa.types.TypeEngine[object]:
    """NUMERIC on PostgreSQL; text on SQLite, so the value is never a float."""
    return sa.Numeric(precision=precision, scale=scale).with_variant(
        sa.String(length=precision + 2), "sqlite"
    )


def upgrade() -> None:
    op.create_table(
        "creator",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("social_links", JSON, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creator")),
        sa.UniqueConstraint("slug", name=op.f("uq_creator_slug")),
    )
    op.create_table(
        "user",
        sa.Column("id", ID, nullable=False),
        sa.Column("clerk_id", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("first_name", sa.String(length=255), nullable=True),
        sa.Column("last_name", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("metadata", JSON, nullable=True),
        sa.Column("platform_role", enum("OPERATOR", name="platform_role"), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("clerk_id", name=op.f("uq_user_clerk_id")),
        sa.Index(op.f("ix_user_email"), "email", unique=False),
    )
    op.create_table(
        "anonymous_claim",
        sa.Column("id", ID, nullable=False),
        sa.Column("anonymous_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("claimed_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_anonymous_claim_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anonymous_claim")),
        sa.UniqueConstraint("anonymous_id", name=op.f("uq_anonymous_claim_anonymous_id")),
        sa.Index(op.f("ix_anonymous_claim_user_id"), "user_id", unique=False),
    )
    op.create_table(
        "api_key",
        sa.Column("id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("permissions", JSON, nullable=False),
        sa.Column("created_by_user_id", ID, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["user.id"],
            name=op.f("fk_api_key_created_by_user_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creator.id"], name=op.f("fk_api_key_creator_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key_key_hash")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
        sa.Index(op.f("ix_api_key_creator_id"), "creator_id", unique=False),
    )
    op.create_table(
        "creator_user",
        sa.Column("id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("role", enum("OWNER", "ADMIN", "MEMBER", name="role"), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creator.id"], name=op.f("fk_creator_user_creator_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_creator_user_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creator_user")),
        sa.UniqueConstraint("creator_id", "user_id", name=op.f("uq_creator_user_creator_id_user_id")),
        sa.Index(op.f("ix_creator_user_creator_id"), "creator_id", unique=False),
        sa.Index(op.f("ix_creator_user_user_id"), "user_id", unique=False),
    )
    op.create_table(
        "source",
        sa.Column("id", ID, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column(
            "type",
            enum("BOOK", "ARTICLE", "PODCAST", "VIDEO", "DOCUMENT", "OTHER", name="type"),
            nullable=False,
        ),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("publisher", sa.Text(), nullable=True),
        sa.Column("publication_date", TIMESTAMP, nullable=True),
        sa.Column("isbn", sa.String(length=32), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("metadata", JSON, nullable=True),
        sa.Column("created_by_user_id", ID, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["user.id"], name=op.f("fk_source_created_by_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
    )
    op.create_table(
        "file",
        sa.Column("id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=True),
        sa.Column("owner_user_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("blob_url", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("mime_type", sa.String(length=255), nullable=False),
        sa.Column("status", enum("PENDING", "PROCESSING", "READY", "FAILED", name="status"), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("replaced_by_file_id", ID, nullable=True),
        sa.Column("checksum_sha256", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("token_count", sa.BigInteger(), nullable=False),
        sa.Column("ingested_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_file_size_bytes_non_negative")),
        sa.ForeignKeyConstraint(["creator_id"], ["creator.id"], name=op.f("fk_file_creator_id")),
        sa.ForeignKeyConstraint(["owner_user_id"], ["user.id"], name=op.f("fk_file_owner_user_id")),
        sa.ForeignKeyConstraint(
            ["replaced_by_file_id"],
            ["file.id"],
            name=op.f("fk_file_replaced_by_file_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_file_source_id"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file")),
        sa.Index(op.f("ix_file_creator_id"), "creator_id", unique=False),
        sa.Index(op.f("ix_file_creator_id_checksum_sha256"), "creator_id", "checksum_sha256", unique=False),
        sa.Index(op.f("ix_file_owner_user_id"), "owner_user_id", unique=False),
        sa.Index(op.f("ix_file_source_id"), "source_id", unique=False),
    )
    op.create_table(
        "source_creator",
        sa.Column("id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("added_by_user_id", ID, nullable=False),
        sa.Column("revenue_share", exact(5, 4), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "CAST(revenue_share AS NUMERIC) >= 0 AND CAST(revenue_share AS NUMERIC) <= 1",
            name=op.f("ck_source_creator_revenue_share_range"),
        ),
        sa.ForeignKeyConstraint(
            ["added_by_user_id"], ["user.id"], name=op.f("fk_source_creator_added_by_user_id")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creator.id"], name=op.f("fk_source_creator_creator_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_source_creator_source_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_creator")),
        sa.UniqueConstraint("source_id", "creator_id", name=op.f("uq_source_creator_source_id_creator_id")),
        sa.Index(op.f("ix_source_creator_added_by_user_id"), "added_by_user_id", unique=False),
        sa.Index(op.f("ix_source_creator_creator_id"), "creator_id", unique=False),
        sa.Index(op.f("ix_source_creator_source_id"), "source_id", unique=False),
    )
    op.create_table(
        "source_creator_share_history",
        sa.Column("id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("share", exact(5, 4), nullable=False),
        sa.Column("effective_from", TIMESTAMP, nullable=False),
        sa.Column("changed_by_user_id", ID, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "CAST(share AS NUMERIC) >= 0 AND CAST(share AS NUMERIC) <= 1",
            name=op.f("ck_source_creator_share_history_share_range"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_user_id"],
            ["user.id"],
            name=op.f("fk_source_creator_share_history_changed_by_user_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creator.id"],
            name=op.f("fk_source_creator_share_history_creator_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("fk_source_creator_share_history_source_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_creator_share_history")),
        sa.UniqueConstraint(
            "source_id", "creator_id", "effective_from", name="uq_source_creator_share_history_effective"
        ),
        sa.Index(op.f("ix_source_creator_share_history_creator_id"), "creator_id", unique=False),
        sa.Index(
            op.f("ix_source_creator_share_history_source_id_effective_from"),
            "source_id",
            "effective_from",
            unique=False,
        ),
    )
    op.create_table(
        "chunk",
        sa.Column("id", ID, nullable=False),
        sa.Column("file_id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("section", sa.Text(), nullable=True),
        sa.Column("chapter", sa.Text(), nullable=True),
        sa.Column("start_seconds", sa.Float(), nullable=True),
        sa.Column("end_seconds", sa.Float(), nullable=True),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("ordinal >= 0", name=op.f("ck_chunk_ordinal_non_negative")),
        sa.CheckConstraint("token_count >= 0", name=op.f("ck_chunk_token_count_non_negative")),
        sa.ForeignKeyConstraint(["file_id"], ["file.id"], name=op.f("fk_chunk_file_id"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_chunk_source_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chunk")),
        sa.UniqueConstraint("file_id", "ordinal", name=op.f("uq_chunk_file_id_ordinal")),
        sa.Index(op.f("ix_chunk_source_id"), "source_id", unique=False),
    )


def downgrade() -> None:
    op.drop_table("chunk")
    op.drop_table("source_creator_share_history")
    op.drop_table("source_creator")
    op.drop_table("file")
    op.drop_table("source")
    op.drop_table("creator_user")
    op.drop_table("api_key")
    op.drop_table("anonymous_claim")
    op.drop_table("user")
    op.drop_table("creator")
