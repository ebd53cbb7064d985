"""Alembic autogenerate settings shared by ``migrations/env.py`` and the schema tests.

Project column types are rendered as the plain SQLAlchemy types they emit, so revision files
never import application code that may change after they were written.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate.api import AutogenContext
from sqlalchemy import JSON

from adapters.persistence.types import ExactDecimal, UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, ExactDecimal):
        return (
            f"sa.Numeric(precision={obj.precision}, scale={obj.scale})"
            f".with_variant(sa.String(length={obj.precision + 2}), 'sqlite')"
        )
    if isinstance(obj, JSON) and "postgresql" in getattr(obj, "_variant_mapping", {}):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


CONTEXT_OPTIONS: dict[str, Any] = {
    "render_as_batch": True,
    "compare_type": True,
    "compare_server_default": True,
    "render_item": render_item,
}
"""Options for ``context.configure`` / ``MigrationContext.configure``."""
