"""Operational tables: the webhook inbox, the outbox, background job runs, the audit log and
the cost of every AI call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from adapters.persistence.enums import ActorKind, JobStatus, PaymentProcessor, WebhookEventStatus
from adapters.persistence.models.base import (
    ID_LENGTH,
    Base,
    CreatedAt,
    Timestamps,
    currency,
    enum_column,
    fk,
    id_column,
    utcnow,
)
from adapters.persistence.types import JSONType, UTCDateTime


class WebhookEvent(Base):
    """The inbox of events received from payment processors. The unique
    (processor, external_event_id) makes receiving idempotent: a redelivered event is found,
    not processed again. The raw body is kept so a failed event can be re-processed (or its
    signature re-checked) after a fix."""

    __tablename__ = "webhook_event"
    __table_args__ = (
        UniqueConstraint("processor", "external_event_id"),
        Index(None, "status", "received_at"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    id: Mapped[str] = id_column()
    processor: Mapped[PaymentProcessor] = enum_column(PaymentProcessor, "processor")
    external_event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    raw_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[WebhookEventStatus] = enum_column(
        WebhookEventStatus, "status", default=WebhookEventStatus.RECEIVED
    )
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """Work that must follow a commit (a job, a vector upsert, a mail), written in the same
    transaction as the change that needs it and dispatched after commit. ``dedup_key`` (unique,
    optional) stops the same work being recorded twice; NULL keys never conflict."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(None, "dispatched_at", "available_at"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    id: Mapped[str] = id_column()
    topic: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    dedup_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class JobRun(Timestamps, Base):
    """A background job and its retries. ``key`` (unique, optional) makes enqueueing
    idempotent; ``locked_until`` is the lease of the worker running it, after which another
    worker may claim it again (at-least-once)."""

    __tablename__ = "job_run"
    __table_args__ = (
        Index(None, "status", "scheduled_for"),
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts_valid"),
    )

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(128))
    key: Mapped[str | None] = mapped_column(String(255), unique=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[JobStatus] = enum_column(JobStatus, "status", default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    max_attempts: Mapped[int] = mapped_column(Integer(), default=5)
    last_error: Mapped[str | None] = mapped_column(Text)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditLog(Base):
    """Who did what to which subject, with the state before and after. Append-only: the ORM
    refuses to update or delete a row (see the listeners below). Actor and subject ids are
    plain strings, not foreign keys, so the trail outlives what it talks about."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index(None, "subject_type", "subject_id"),
        Index(None, "at"),
        Index(None, "actor_user_id"),
    )

    id: Mapped[str] = id_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_kind: Mapped[ActorKind] = enum_column(ActorKind, "actor_kind")
    actor_user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    actor_api_key_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(128))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    request_id: Mapped[str | None] = mapped_column(String(64))


class AppendOnlyViolation(Exception):
    """An audit log row was about to be changed or removed through the ORM."""


@event.listens_for(AuditLog, "before_update")
def _refuse_audit_update(mapper: Mapper[AuditLog], connection: Any, target: AuditLog) -> None:
    raise AppendOnlyViolation("audit_log rows are append-only")


@event.listens_for(AuditLog, "before_delete")
def _refuse_audit_delete(mapper: Mapper[AuditLog], connection: Any, target: AuditLog) -> None:
    raise AppendOnlyViolation("audit_log rows are append-only")


class AiCallCost(CreatedAt, Base):
    """What one call to a model provider cost, in millionths of ``currency``'s major unit
    (micro-dollars for USD) so sub-cent token prices stay integers. ``purpose`` says which part
    of the product made the call ("answer", "embedding", "analysis"...); ``message_id`` is set
    for calls that produced or analysed a message."""

    __tablename__ = "ai_call_cost"
    __table_args__ = (
        Index(None, "message_id"),
        Index(None, "conversation_id"),
        Index(None, "created_at"),
        CheckConstraint("input_tokens >= 0 AND output_tokens >= 0", name="tokens_non_negative"),
        CheckConstraint("cost_micros >= 0", name="cost_non_negative"),
    )

    id: Mapped[str] = id_column()
    message_id: Mapped[str | None] = fk("message.id", ondelete="SET NULL", nullable=True)
    conversation_id: Mapped[str | None] = fk("conversation.id", ondelete="SET NULL", nullable=True)
    purpose: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(128))
    input_tokens: Mapped[int] = mapped_column(Integer())
    output_tokens: Mapped[int] = mapped_column(Integer())
    cost_micros: Mapped[int] = mapped_column(BigInteger())
    currency: Mapped[str] = currency()
