"""A creator's body of work: sources, who shares in them, uploaded files and their chunks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.enums import FileStatus, SourceType
from adapters.persistence.models.base import Base, CreatedAt, Timestamps, enum_column, fk, id_column, utcnow
from adapters.persistence.types import ExactDecimal, JSONType, UTCDateTime

SHARE = ExactDecimal(5, 4)
"""A revenue share between 0 and 1 with four decimals, exact on both databases."""

# CAST keeps the range check numeric on SQLite, where the share is stored as text and a plain
# comparison with a number literal would compare strings ('1.0000' > '1').
_SHARE_IN_RANGE = "CAST({col} AS NUMERIC) >= 0 AND CAST({col} AS NUMERIC) <= 1"


class Source(Timestamps, Base):
    """One work: a book, a podcast episode, a video... Chunks in the vector index carry its id."""

    __tablename__ = "source"

    id: Mapped[str] = id_column()
    title: Mapped[str] = mapped_column(Text)
    type: Mapped[SourceType] = enum_column(SourceType, "type")
    author: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(Text)
    publication_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    isbn: Mapped[str | None] = mapped_column(String(32))
    url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    created_by_user_id: Mapped[str] = fk("user.id")


class SourceCreator(Timestamps, Base):
    """Who shares in a source's revenue. The shares of one source sum to 1 (checked by the
    application, which sees all of them; the database checks each is within [0, 1])."""

    __tablename__ = "source_creator"
    __table_args__ = (
        UniqueConstraint("source_id", "creator_id"),
        Index(None, "creator_id"),
        Index(None, "source_id"),
        Index(None, "added_by_user_id"),
        CheckConstraint(_SHARE_IN_RANGE.format(col="revenue_share"), name="revenue_share_range"),
    )

    id: Mapped[str] = id_column()
    source_id: Mapped[str] = fk("source.id", ondelete="CASCADE")
    creator_id: Mapped[str] = fk("creator.id", ondelete="CASCADE")
    added_by_user_id: Mapped[str] = fk("user.id")
    revenue_share: Mapped[Decimal | None] = mapped_column(SHARE)


class SourceCreatorShareHistory(CreatedAt, Base):
    """Every change of a creator's share in a source, so a payout statement can show which
    share applied when a conversation was attributed. Rows are only ever added."""

    __tablename__ = "source_creator_share_history"
    __table_args__ = (
        UniqueConstraint(
            "source_id", "creator_id", "effective_from", name="uq_source_creator_share_history_effective"
        ),
        Index(None, "source_id", "effective_from"),
        Index(None, "creator_id"),
        CheckConstraint(_SHARE_IN_RANGE.format(col="share"), name="share_range"),
    )

    id: Mapped[str] = id_column()
    source_id: Mapped[str] = fk("source.id", ondelete="CASCADE")
    creator_id: Mapped[str] = fk("creator.id", ondelete="CASCADE")
    share: Mapped[Decimal] = mapped_column(SHARE)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_by_user_id: Mapped[str | None] = fk("user.id", ondelete="SET NULL", nullable=True)


class File(Timestamps, Base):
    """An uploaded asset: either a source's content (chunked and embedded) or an audience
    member's own context file (never embedded). A better copy replaces an older one, which
    stays with ``is_active`` false and ``replaced_by_file_id`` set."""

    __tablename__ = "file"
    __table_args__ = (
        Index(None, "source_id"),
        Index(None, "owner_user_id"),
        Index(None, "creator_id"),
        Index(None, "creator_id", "checksum_sha256"),
        CheckConstraint("size_bytes >= 0", name="size_bytes_non_negative"),
    )

    id: Mapped[str] = id_column()
    source_id: Mapped[str | None] = fk("source.id", ondelete="SET NULL", nullable=True)
    owner_user_id: Mapped[str] = fk("user.id")
    creator_id: Mapped[str] = fk("creator.id")
    blob_url: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    mime_type: Mapped[str] = mapped_column(String(255))
    status: Mapped[FileStatus] = enum_column(FileStatus, "status", default=FileStatus.PENDING)
    size_bytes: Mapped[int] = mapped_column(BigInteger())
    is_active: Mapped[bool] = mapped_column(Boolean(), default=True)
    replaced_by_file_id: Mapped[str | None] = fk("file.id", ondelete="SET NULL", nullable=True)
    # Added for ingestion: integrity, failure reporting and what the ingestion produced.
    checksum_sha256: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    page_count: Mapped[int | None] = mapped_column(Integer())
    chunk_count: Mapped[int] = mapped_column(Integer(), default=0)
    token_count: Mapped[int] = mapped_column(BigInteger(), default=0)
    ingested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Chunk(Base):
    """The authoritative copy of one passage in the vector index: the index can be rebuilt from
    these rows, and citations are resolved against them (page, section, time range)."""

    __tablename__ = "chunk"
    __table_args__ = (
        UniqueConstraint("file_id", "ordinal"),
        Index(None, "source_id"),
        CheckConstraint("ordinal >= 0", name="ordinal_non_negative"),
        CheckConstraint("token_count >= 0", name="token_count_non_negative"),
    )

    id: Mapped[str] = id_column()
    file_id: Mapped[str] = fk("file.id", ondelete="CASCADE")
    source_id: Mapped[str] = fk("source.id", ondelete="CASCADE")
    ordinal: Mapped[int] = mapped_column(Integer())
    text: Mapped[str] = mapped_column(Text)
    token_count: Mapped[int] = mapped_column(Integer())
    page: Mapped[int | None] = mapped_column(Integer())
    section: Mapped[str | None] = mapped_column(Text)
    chapter: Mapped[str | None] = mapped_column(Text)
    start_seconds: Mapped[float | None] = mapped_column(Float())
    end_seconds: Mapped[float | None] = mapped_column(Float())
    checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
