"""The audit trail over the ``audit_log`` table (append-only: the ORM refuses updates/deletes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.models import AuditLog as AuditLogRow
from application.identity.principal import Principal, PrincipalKind
from application.ports.clock import Clock
from domain.ids import new_id


class SqlAuditLog:
    def __init__(self, session: AsyncSession, clock: Clock, request_id: str | None = None) -> None:
        self._s = session
        self._clock = clock
        self._request_id = request_id

    async def record(
        self,
        actor: Principal,
        action: str,
        *,
        subject_type: str,
        subject_id: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        # anonymous visitors never perform audited actions; anything without a person or key is SYSTEM
        kind = {PrincipalKind.USER: "USER", PrincipalKind.API_KEY: "API_KEY"}
        self._s.add(
            AuditLogRow(
                id=new_id(),
                at=self._clock.now(),
                actor_kind=kind.get(actor.kind, "SYSTEM"),
                actor_user_id=actor.user_id,
                actor_api_key_id=actor.api_key_id,
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                before=dict(before) if before is not None else None,
                after=dict(after) if after is not None else None,
                request_id=self._request_id,
            )
        )
        await self._s.flush()
