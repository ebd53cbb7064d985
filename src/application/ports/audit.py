"""The audit trail port: sensitive actions are recorded in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from application.identity.principal import Principal


class AuditLog(Protocol):
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
        """Appends one entry (role changes, share changes, API keys, payouts, refunds,
        moderation). Never pass secrets in ``before``/``after``."""
        ...
