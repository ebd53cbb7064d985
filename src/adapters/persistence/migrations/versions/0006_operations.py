"""Operations.

The webhook inbox, the outbox, background job runs, the audit log and AI call costs.

Revision ID: 0006
Revises: 0005
Create Date: 2025-01-06 00:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
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
        "audit_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor_kind", enum("USER", "API_KEY", "SYSTEM", name="actor_kind"), nullable=False),
        sa.Column("actor_user_id", ID, nullable=True),
        sa.Column("actor_api_key_id", ID, nullable=True),
        sa.Column("action", sa.String(length=128), nullable=False),
        sa.Column("subject_type", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.Index(op.f("ix_audit_log_actor_user_id"), "actor_user_id", unique=False),
        sa.Index(op.f("ix_audit_log_at"), "at", unique=False),
        sa.Index(op.f("ix_audit_log_subject_type_subject_id"), "subject_type", "subject_id", unique=False),
    )
    op.create_table(
        "job_run",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("args", JSON, nullable=False),
        sa.Column("status", enum("PENDING", "RUNNING", "SUCCEEDED", "FAILED", name="status"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("scheduled_for", TIMESTAMP, nullable=False),
        sa.Column("locked_until", TIMESTAMP, nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("attempts >= 0 AND max_attempts >= 1", name=op.f("ck_job_run_attempts_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
        sa.UniqueConstraint("key", name=op.f("uq_job_run_key")),
        sa.Index(op.f("ix_job_run_status_scheduled_for"), "status", "scheduled_for", unique=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("topic", sa.String(length=128), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("available_at", TIMESTAMP, nullable=False),
        sa.Column("dispatched_at", TIMESTAMP, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_attempts_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_outbox_dedup_key")),
        sa.Index(op.f("ix_outbox_dispatched_at_available_at"), "dispatched_at", "available_at", unique=False),
    )
    op.create_table(
        "webhook_event",
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "processor",
            enum("STRIPE", "PADDLE", "LEMON_SQUEEZY", "PAYPAL", "SANDBOX", name="processor"),
            nullable=False,
        ),
        sa.Column("external_event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("raw_body", sa.Text(), nullable=True),
        sa.Column(
            "status", enum("RECEIVED", "PROCESSED", "IGNORED", "FAILED", name="status"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("processed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_webhook_event_attempts_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_event")),
        sa.UniqueConstraint(
            "processor", "external_event_id", name=op.f("uq_webhook_event_processor_external_event_id")
        ),
        sa.Index(op.f("ix_webhook_event_status_received_at"), "status", "received_at", unique=False),
    )
    op.create_table(
        "ai_call_cost",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=True),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("cost_micros >= 0", name=op.f("ck_ai_call_cost_cost_non_negative")),
        sa.CheckConstraint(
            "input_tokens >= 0 AND output_tokens >= 0", name=op.f("ck_ai_call_cost_tokens_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_ai_call_cost_conversation_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_ai_call_cost_message_id"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_call_cost")),
        sa.Index(op.f("ix_ai_call_cost_conversation_id"), "conversation_id", unique=False),
        sa.Index(op.f("ix_ai_call_cost_created_at"), "created_at", unique=False),
        sa.Index(op.f("ix_ai_call_cost_message_id"), "message_id", unique=False),
    )


def downgrade() -> None:
    op.drop_table("ai_call_cost")
    op.drop_table("webhook_event")
    op.drop_table("outbox")
    op.drop_table("job_run")
    op.drop_table("audit_log")
