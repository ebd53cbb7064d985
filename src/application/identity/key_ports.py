"""The API key registry port (creating, listing and revoking a creator's keys)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.identity.permissions import Action


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyInfo:
    """What a creator sees of a key: never the key, never its hash."""

    id: str
    creator_id: str
    name: str
    prefix: str
    actions: frozenset[Action]
    created_at: datetime
    created_by_user_id: str | None
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyRegistry(Protocol):
    async def add(self, info: ApiKeyInfo, *, key_hash: str) -> None: ...

    async def list_for_creator(self, creator_id: str) -> list[ApiKeyInfo]: ...

    async def get(self, creator_id: str, key_id: str) -> ApiKeyInfo | None: ...

    async def revoke(self, key_id: str, at: datetime) -> None: ...
