"""Intake question options.

SELECT and MULTI_SELECT intake questions need the choices they offer; the seed schema has no
place for them. ``options`` is a JSON list of strings (NULL for the other response types).

Revision ID: 0007_intake
Revises: 0006
Create Date: 2025-01-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_intake"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("intake_question") as batch:
        batch.add_column(sa.Column("options", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intake_question") as batch:
        batch.drop_column("options")
