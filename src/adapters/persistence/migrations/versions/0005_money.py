"""Money.

Purchases, refunds, chargebacks, revenue attribution, payouts and payout accounts, revenue
summaries, enterprise subscriptions and their monthly allocations.

Revision ID: 0005
Revises: 0004
Create Date: 2025-01-06 00:04:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
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
        "enterprise_subscription",
        sa.Column("id", ID, nullable=False),
        sa.Column("company_name", sa.Text(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("starts_at", TIMESTAMP, nullable=False),
        sa.Column("ends_at", TIMESTAMP, nullable=False),
        sa.Column("status", enum("ACTIVE", "CANCELLED", "EXPIRED", name="status"), nullable=False),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount_cents >= 0", name=op.f("ck_enterprise_subscription_amount_non_negative")),
        sa.CheckConstraint("seats >= 0", name=op.f("ck_enterprise_subscription_seats_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_subscription")),
        sa.Index(op.f("ix_enterprise_subscription_status"), "status", unique=False),
        sa.Index(
            op.f("ix_enterprise_subscription_stripe_subscription_id"), "stripe_subscription_id", unique=False
        ),
    )
    op.create_table(
        "creator_payout_account",
        sa.Column("id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column(
            "processor",
            enum("STRIPE", "PADDLE", "LEMON_SQUEEZY", "PAYPAL", "SANDBOX", name="processor"),
            nullable=False,
        ),
        sa.Column("external_account_id", sa.String(length=255), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creator.id"],
            name=op.f("fk_creator_payout_account_creator_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creator_payout_account")),
        sa.UniqueConstraint(
            "creator_id", "processor", name=op.f("uq_creator_payout_account_creator_id_processor")
        ),
        sa.UniqueConstraint(
            "processor",
            "external_account_id",
            name=op.f("uq_creator_payout_account_processor_external_account_id"),
        ),
    )
    op.create_table(
        "creator_revenue_summary",
        sa.Column("id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_revenue_cents", sa.BigInteger(), nullable=False),
        sa.Column("creator_share_cents", sa.BigInteger(), nullable=False),
        sa.Column("platform_share_cents", sa.BigInteger(), nullable=False),
        sa.Column("conversation_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("month >= 1 AND month <= 12", name=op.f("ck_creator_revenue_summary_month_range")),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creator.id"],
            name=op.f("fk_creator_revenue_summary_creator_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creator_revenue_summary")),
        sa.UniqueConstraint(
            "creator_id",
            "year",
            "month",
            "currency",
            name=op.f("uq_creator_revenue_summary_creator_id_year_month_currency"),
        ),
        sa.Index(op.f("ix_creator_revenue_summary_creator_id"), "creator_id", unique=False),
    )
    op.create_table(
        "enterprise_allocation",
        sa.Column("id", ID, nullable=False),
        sa.Column("subscription_id", ID, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("status", enum("PENDING", "ALLOCATED", name="status"), nullable=False),
        sa.Column("allocated_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount_cents >= 0", name=op.f("ck_enterprise_allocation_amount_non_negative")),
        sa.CheckConstraint("month >= 1 AND month <= 12", name=op.f("ck_enterprise_allocation_month_range")),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["enterprise_subscription.id"],
            name=op.f("fk_enterprise_allocation_subscription_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_allocation")),
        sa.UniqueConstraint(
            "subscription_id",
            "year",
            "month",
            name=op.f("uq_enterprise_allocation_subscription_id_year_month"),
        ),
    )
    op.create_table(
        "enterprise_user",
        sa.Column("id", ID, nullable=False),
        sa.Column("subscription_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("role", enum("ADMIN", "MEMBER", name="role"), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["enterprise_subscription.id"],
            name=op.f("fk_enterprise_user_subscription_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_enterprise_user_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_user")),
        sa.UniqueConstraint(
            "subscription_id", "user_id", name=op.f("uq_enterprise_user_subscription_id_user_id")
        ),
        sa.Index(op.f("ix_enterprise_user_subscription_id"), "subscription_id", unique=False),
        sa.Index(op.f("ix_enterprise_user_user_id"), "user_id", unique=False),
    )
    op.create_table(
        "payout",
        sa.Column("id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("payout_account_id", ID, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "status", enum("PENDING", "PROCESSING", "COMPLETED", "FAILED", name="status"), nullable=False
        ),
        sa.Column(
            "processor",
            enum("STRIPE", "PADDLE", "LEMON_SQUEEZY", "PAYPAL", "SANDBOX", name="processor"),
            nullable=False,
        ),
        sa.Column("external_transfer_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", TIMESTAMP, nullable=True),
        sa.Column("completed_at", TIMESTAMP, nullable=True),
        sa.Column("failed_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payout_amount_positive")),
        sa.ForeignKeyConstraint(["creator_id"], ["creator.id"], name=op.f("fk_payout_creator_id")),
        sa.ForeignKeyConstraint(
            ["payout_account_id"],
            ["creator_payout_account.id"],
            name=op.f("fk_payout_payout_account_id"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payout_idempotency_key")),
        sa.UniqueConstraint(
            "processor", "external_transfer_id", name=op.f("uq_payout_processor_external_transfer_id")
        ),
        sa.Index(op.f("ix_payout_creator_id"), "creator_id", unique=False),
        sa.Index(op.f("ix_payout_status"), "status", unique=False),
    )
    op.create_table(
        "purchase",
        sa.Column("id", ID, nullable=False),
        sa.Column("purchaser_user_id", ID, nullable=False),
        sa.Column("chatbot_id", ID, nullable=False),
        sa.Column(
            "payment_processor",
            enum("STRIPE", "PADDLE", "LEMON_SQUEEZY", "PAYPAL", "SANDBOX", name="payment_processor"),
            nullable=False,
        ),
        sa.Column("external_payment_id", sa.String(length=255), nullable=False),
        sa.Column("external_checkout_id", sa.String(length=255), nullable=True),
        sa.Column("processing_fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("payment_metadata", JSON, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("net_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("refunded_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            enum(
                "PENDING", "COMPLETED", "REFUNDED", "PARTIALLY_REFUNDED", "DISPUTED", "FAILED", name="status"
            ),
            nullable=False,
        ),
        sa.Column("refunded_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount_cents >= 0", name=op.f("ck_purchase_amount_non_negative")),
        sa.CheckConstraint("processing_fee_cents >= 0", name=op.f("ck_purchase_fee_non_negative")),
        sa.CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= amount_cents",
            name=op.f("ck_purchase_refunded_within_amount"),
        ),
        sa.ForeignKeyConstraint(["chatbot_id"], ["chatbot.id"], name=op.f("fk_purchase_chatbot_id")),
        sa.ForeignKeyConstraint(
            ["purchaser_user_id"], ["user.id"], name=op.f("fk_purchase_purchaser_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase")),
        sa.UniqueConstraint(
            "payment_processor",
            "external_checkout_id",
            name=op.f("uq_purchase_payment_processor_external_checkout_id"),
        ),
        sa.UniqueConstraint(
            "payment_processor",
            "external_payment_id",
            name=op.f("uq_purchase_payment_processor_external_payment_id"),
        ),
        sa.Index(op.f("ix_purchase_chatbot_id"), "chatbot_id", unique=False),
        sa.Index(op.f("ix_purchase_purchaser_user_id"), "purchaser_user_id", unique=False),
        sa.Index(op.f("ix_purchase_status"), "status", unique=False),
    )
    op.create_table(
        "chargeback",
        sa.Column("id", ID, nullable=False),
        sa.Column("purchase_id", ID, nullable=False),
        sa.Column(
            "processor",
            enum("STRIPE", "PADDLE", "LEMON_SQUEEZY", "PAYPAL", "SANDBOX", name="processor"),
            nullable=False,
        ),
        sa.Column("external_dispute_id", sa.String(length=255), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", enum("OPEN", "WON", "LOST", name="status"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_chargeback_amount_positive")),
        sa.ForeignKeyConstraint(["purchase_id"], ["purchase.id"], name=op.f("fk_chargeback_purchase_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chargeback")),
        sa.UniqueConstraint(
            "processor", "external_dispute_id", name=op.f("uq_chargeback_processor_external_dispute_id")
        ),
        sa.Index(op.f("ix_chargeback_purchase_id"), "purchase_id", unique=False),
    )
    op.create_table(
        "refund",
        sa.Column("id", ID, nullable=False),
        sa.Column("purchase_id", ID, nullable=False),
        sa.Column(
            "processor",
            enum("STRIPE", "PADDLE", "LEMON_SQUEEZY", "PAYPAL", "SANDBOX", name="processor"),
            nullable=False,
        ),
        sa.Column("external_refund_id", sa.String(length=255), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status", enum("PENDING", "SUCCEEDED", "FAILED", "CANCELLED", name="status"), nullable=False
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("requested_by_user_id", ID, nullable=True),
        sa.Column("succeeded_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_refund_amount_positive")),
        sa.ForeignKeyConstraint(["purchase_id"], ["purchase.id"], name=op.f("fk_refund_purchase_id")),
        sa.ForeignKeyConstraint(
            ["requested_by_user_id"],
            ["user.id"],
            name=op.f("fk_refund_requested_by_user_id"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund")),
        sa.UniqueConstraint(
            "processor", "external_refund_id", name=op.f("uq_refund_processor_external_refund_id")
        ),
        sa.Index(op.f("ix_refund_purchase_id"), "purchase_id", unique=False),
    )
    op.create_table(
        "revenue_per_conversation",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("purchase_id", ID, nullable=True),
        sa.Column("enterprise_allocation_id", ID, nullable=True),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("purchaser_user_id", ID, nullable=False),
        sa.Column("kind", enum("ATTRIBUTION", "ENTERPRISE", "REVERSAL", name="kind"), nullable=False),
        sa.Column("reverses_id", ID, nullable=True),
        sa.Column("reversal_key", sa.String(length=255), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("token_count", sa.BigInteger(), nullable=False),
        sa.Column("token_percentage", exact(11, 10), nullable=False),
        sa.Column("share", exact(5, 4), nullable=False),
        sa.Column(
            "payout_status",
            enum("PENDING", "PROCESSING", "COMPLETED", "FAILED", name="payout_status"),
            nullable=False,
        ),
        sa.Column("payout_id", ID, nullable=True),
        sa.Column(
            "payout_processor",
            enum("STRIPE", "PADDLE", "LEMON_SQUEEZY", "PAYPAL", "SANDBOX", name="payout_processor"),
            nullable=True,
        ),
        sa.Column("external_transfer_id", sa.String(length=255), nullable=True),
        sa.Column("paid_out_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "(kind = 'ENTERPRISE' AND enterprise_allocation_id IS NOT NULL AND purchase_id IS NULL)"
            " OR (kind = 'ATTRIBUTION' AND purchase_id IS NOT NULL AND enterprise_allocation_id IS NULL)"
            " OR kind = 'REVERSAL'",
            name=op.f("ck_revenue_per_conversation_funding_matches_kind"),
        ),
        sa.CheckConstraint(
            "(kind = 'REVERSAL' AND reverses_id IS NOT NULL AND reversal_key <> '' AND amount_cents <= 0)"
            " OR (kind <> 'REVERSAL' AND reverses_id IS NULL AND reversal_key = '' AND amount_cents >= 0)",
            name=op.f("ck_revenue_per_conversation_reversal_shape"),
        ),
        sa.CheckConstraint(
            "token_count >= 0", name=op.f("ck_revenue_per_conversation_token_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversation.id"], name=op.f("fk_revenue_per_conversation_conversation_id")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creator.id"], name=op.f("fk_revenue_per_conversation_creator_id")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_allocation_id"],
            ["enterprise_allocation.id"],
            name=op.f("fk_revenue_per_conversation_enterprise_allocation_id"),
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payout.id"], name=op.f("fk_revenue_per_conversation_payout_id")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchase.id"], name=op.f("fk_revenue_per_conversation_purchase_id")
        ),
        sa.ForeignKeyConstraint(
            ["purchaser_user_id"], ["user.id"], name=op.f("fk_revenue_per_conversation_purchaser_user_id")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["revenue_per_conversation.id"],
            name=op.f("fk_revenue_per_conversation_reverses_id"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_revenue_per_conversation_source_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revenue_per_conversation")),
        sa.UniqueConstraint(
            "conversation_id",
            "source_id",
            "creator_id",
            "kind",
            "reversal_key",
            name="uq_revenue_per_conversation_exactly_once",
        ),
        sa.Index(op.f("ix_revenue_per_conversation_conversation_id"), "conversation_id", unique=False),
        sa.Index(op.f("ix_revenue_per_conversation_creator_id"), "creator_id", unique=False),
        sa.Index(op.f("ix_revenue_per_conversation_payout_id"), "payout_id", unique=False),
        sa.Index(op.f("ix_revenue_per_conversation_payout_status"), "payout_status", unique=False),
        sa.Index(op.f("ix_revenue_per_conversation_purchase_id"), "purchase_id", unique=False),
        sa.Index(op.f("ix_revenue_per_conversation_reverses_id"), "reverses_id", unique=False),
        sa.Index(op.f("ix_revenue_per_conversation_source_id"), "source_id", unique=False),
    )

    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_conversation_purchase_id"),
            "purchase",
            ["purchase_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_conversation_purchase_id"), type_="foreignkey")

    op.drop_table("revenue_per_conversation")
    op.drop_table("refund")
    op.drop_table("chargeback")
    op.drop_table("purchase")
    op.drop_table("payout")
    op.drop_table("enterprise_user")
    op.drop_table("enterprise_allocation")
    op.drop_table("creator_revenue_summary")
    op.drop_table("creator_payout_account")
    op.drop_table("enterprise_subscription")
