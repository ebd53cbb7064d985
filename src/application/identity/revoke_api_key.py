"""RevokeApiKey: a key stops working at once; the record stays."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound
from application.identity.key_ports import ApiKeyInfo, ApiKeyRegistry
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.audit import AuditLog
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeApiKeyCommand:
    principal: Principal
    creator_id: str
    key_id: str


class RevokeApiKey:
    """Revokes a key of the creator.

    - A key of another creator answers like a missing one (404).
    - Revoking twice is harmless and keeps the first revocation time (idempotent).
    - Audited (``api-key.revoked``).
    """

    def __init__(
        self, authorizer: Authorizer, keys: ApiKeyRegistry, audit: AuditLog, clock: Clock, uow: UnitOfWork
    ) -> None:
        self._authorizer = authorizer
        self._keys = keys
        self._audit = audit
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: RevokeApiKeyCommand) -> ApiKeyInfo:
        await self._authorizer.require(
            command.principal, Action.CREATOR_MANAGE_API_KEYS, Resource.creator(command.creator_id)
        )
        info = await self._keys.get(command.creator_id, command.key_id)
        if info is None:
            raise NotFound("no such API key", code="api-key-not-found")
        if info.revoked_at is not None:
            return info
        now = self._clock.now()
        await self._keys.revoke(info.id, now)
        await self._audit.record(
            command.principal,
            "api-key.revoked",
            subject_type="creator",
            subject_id=info.creator_id,
            before={"api_key_id": info.id, "prefix": info.prefix},
        )
        await self._uow.commit()
        return ApiKeyInfo(**{**{f: getattr(info, f) for f in info.__dataclass_fields__}, "revoked_at": now})
