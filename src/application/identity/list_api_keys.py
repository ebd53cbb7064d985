"""ListApiKeys: a creator's keys, as their owner sees them (never the secret)."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.key_ports import ApiKeyInfo, ApiKeyRegistry
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource


@dataclass(frozen=True, slots=True, kw_only=True)
class ListApiKeysQuery:
    principal: Principal
    creator_id: str


class ListApiKeys:
    """Lists a creator's API keys, newest first, revoked ones included (so stale keys show)."""

    def __init__(self, authorizer: Authorizer, keys: ApiKeyRegistry) -> None:
        self._authorizer = authorizer
        self._keys = keys

    async def __call__(self, query: ListApiKeysQuery) -> list[ApiKeyInfo]:
        await self._authorizer.require(
            query.principal, Action.CREATOR_MANAGE_API_KEYS, Resource.creator(query.creator_id)
        )
        return await self._keys.list_for_creator(query.creator_id)
