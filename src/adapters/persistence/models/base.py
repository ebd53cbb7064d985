"""The declarative base, the constraint naming convention and small column helpers.

Why a naming convention: Alembic can only drop or alter a constraint it can name, and SQLite
batch migrations only carry over CHECK constraints that have names. With the convention every
index, unique, foreign key and check constraint gets the same deterministic name on SQLite and
PostgreSQL, e.g. ``uq_source_creator_source_id_creator_id``, ``fk_file_source_id`` or
``ck_file_status``. Names stay under PostgreSQL's 63-character limit (a test checks it).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

from adapters.persistence.types import JSONType, UTCDateTime, enum_type
from domain.ids import new_id

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 36


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
        list[dict[str, Any]]: JSONType,
        str: Text(),
        int: Integer(),
    }


def id_column() -> MappedColumn[str]:
    """Primary key: a UUIDv7 string made in the application (``domain.ids.new_id``)."""
    return mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)


def fk(
    target: str,
    *,
    ondelete: str | None = None,
    nullable: bool = False,
    index: bool = False,
    unique: bool = False,
    use_alter: bool = False,
) -> MappedColumn[Any]:
    """A String(36) foreign key column to ``target`` ("table.column")."""
    return mapped_column(
        String(ID_LENGTH),
        ForeignKey(target, ondelete=ondelete, use_alter=use_alter),
        nullable=nullable,
        index=index,
        unique=unique,
    )


def enum_column(
    enum_class: type[enum.StrEnum],
    name: str,
    *,
    default: enum.StrEnum | None = None,
    nullable: bool = False,
    index: bool = False,
) -> MappedColumn[Any]:
    """A string enum column with a CHECK constraint ``ck_<table>_<name>``."""
    return mapped_column(enum_type(enum_class, name), default=default, nullable=nullable, index=index)


def money() -> MappedColumn[int]:
    """Integer minor units (cents) as BIGINT."""
    return mapped_column(BigInteger(), nullable=False)


def currency() -> MappedColumn[str]:
    """ISO 4217 code, upper case."""
    return mapped_column(String(3), nullable=False)


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
