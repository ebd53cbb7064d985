"""Column types that behave the same on SQLite and PostgreSQL.

Every type here exists because the obvious SQLAlchemy type behaves differently on the two
databases we support, and a difference near money or time is a bug that only shows up in
production:

- ``JSONType``: JSON on SQLite, JSONB (indexable, deduplicated keys) on PostgreSQL. Python
  ``None`` is stored as SQL NULL, not the JSON literal ``null``, so ``IS NULL`` means "absent".
- ``UTCDateTime``: SQLite has no time zone type and would silently drop ``tzinfo``; this type
  refuses naive datetimes, stores UTC, and always hands back aware UTC datetimes.
- ``ExactDecimal``: SQLite's NUMERIC affinity stores REAL, which turns 0.3333 into a binary
  float; this type keeps the exact text on SQLite and NUMERIC(p, s) on PostgreSQL, and refuses
  a value that would need rounding instead of rounding it quietly.
- ``enum_type``: enums are short strings guarded by a named CHECK constraint rather than a
  native PostgreSQL enum, so adding a value is the same migration on both databases.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Enum, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

JSONType: TypeEngine[Any] = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
"""Portable JSON column type (JSONB on PostgreSQL). Assign a new value to change it: in-place
mutation of a loaded dict or list is not tracked."""

ENUM_LENGTH = 32
"""Every enum column is VARCHAR(32) so a new, longer value never needs a column type change."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored in UTC on both databases.

    Naive datetimes are rejected: guessing their zone is how a refund window ends up an hour
    off. On SQLite the value is stored as naive UTC text (fixed width, so it sorts correctly)
    and returned with ``tzinfo=UTC``; on PostgreSQL it is a ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware (UTC) datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal with a fixed scale: NUMERIC(precision, scale) on PostgreSQL, text on
    SQLite (e.g. ``"0.3333"``), never a float on the way in or out.

    A value with more decimal places than ``scale``, or more integer digits than
    ``precision - scale`` allows, is refused rather than rounded: shares must sum to exactly
    one, so any rounding belongs in the domain code that can see all of them. Floats are refused
    outright. On SQLite, compare and aggregate these columns in Python (or ``CAST(... AS
    NUMERIC)`` in SQL), since the stored text only sorts numerically for non-negative values.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__()
        if not 0 <= scale <= precision:
            raise ValueError("scale must be between 0 and precision")
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))
        # sign + digits + decimal point
        return dialect.type_descriptor(String(self.precision + 2))

    def _exact(self, value: Decimal | int | str) -> Decimal:
        if isinstance(value, (float, bool)):
            raise TypeError("exact decimal columns refuse floats and bools: pass a Decimal")
        try:
            number = Decimal(value)
        except (InvalidOperation, TypeError) as exc:
            raise ValueError(f"{value!r} is not a decimal number") from exc
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a finite decimal")
        quantized = number.quantize(self._quantum)
        if quantized != number:
            raise ValueError(f"{number} has more than {self.scale} decimal places; round it explicitly first")
        if len(quantized.as_tuple().digits) > self.precision and quantized != 0:
            raise ValueError(f"{number} does not fit NUMERIC({self.precision}, {self.scale})")
        return quantized

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = self._exact(value)
        if dialect.name == "postgresql":
            return exact
        return f"{exact:f}"

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):  # only reachable if someone wrote a REAL through raw SQL
            raise TypeError("an exact decimal column held a float; the row was written around the ORM")
        return Decimal(value).quantize(self._quantum)

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        return f"{self._exact(value):f}"

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


def enum_type(enum_class: type[enum.StrEnum], name: str) -> Enum:
    """A string column limited to ``enum_class``'s values by a CHECK constraint named
    ``ck_<table>_<name>`` (through the naming convention)."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=ENUM_LENGTH,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )
