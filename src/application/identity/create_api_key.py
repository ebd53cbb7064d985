"""CreateApiKey: a creator's key for automation, shown once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from application.errors import InvalidInput
from application.identity.api_keys import generate_api_key
from application.identity.key_ports import ApiKeyInfo, ApiKeyRegistry
from application.identity.permissions import API_KEY_GRANTABLE, Action
from application.identity.ports import ApiKeyHasher, Authorizer
from application.identity.principal import Principal, Resource
from application.ports.audit import AuditLog
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.ids import new_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateApiKeyCommand:
    principal: Principal
    creator_id: str
    name: str
    actions: Collection[str]
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedApiKey:
    info: ApiKeyInfo
    plaintext: str  # shown exactly once; only its hash is stored


class CreateApiKey:
    """Creates an API key scoped to one creator and a set of actions.

    - Only who may manage the creator's API keys (its owner) may create one; an API key cannot
      mint keys (that action is never grantable to a key).
    - Every action must be one a key can carry; an empty set is refused.
    - The key is shown once; only a peppered hash and the visible prefix are stored.
    - Audited (``api-key.created``), without the secret.
    """

    def __init__(
        self,
        authorizer: Authorizer,
        keys: ApiKeyRegistry,
        hasher: ApiKeyHasher,
        audit: AuditLog,
        clock: Clock,
        uow: UnitOfWork,
    ) -> None:
        self._authorizer = authorizer
        self._keys = keys
        self._hasher = hasher
        self._audit = audit
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: CreateApiKeyCommand) -> CreatedApiKey:
        await self._authorizer.require(
            command.principal, Action.CREATOR_MANAGE_API_KEYS, Resource.creator(command.creator_id)
        )
        known = {a.value: a for a in Action}
        errors: dict[str, str] = {}
        wanted: set[Action] = set()
        for raw in command.actions:
            action = known.get(raw)
            if action is None or action not in API_KEY_GRANTABLE:
                errors[f"actions.{raw}"] = "is not an action an API key can carry"
            else:
                wanted.add(action)
        if not wanted and not errors:
            errors["actions"] = "name at least one action"
        name = command.name.strip()
        if not 1 <= len(name) <= 200:
            errors["name"] = "must be 1 to 200 characters"
        now = self._clock.now()
        if command.expires_at is not None and command.expires_at <= now:
            errors["expires_at"] = "must be in the future"
        if errors:
            raise InvalidInput("the API key request is not valid", errors=errors)
        generated = generate_api_key(self._hasher)
        info = ApiKeyInfo(
            id=new_id(),
            creator_id=command.creator_id,
            name=name,
            prefix=generated.prefix,
            actions=frozenset(wanted),
            created_at=now,
            created_by_user_id=command.principal.user_id,
            last_used_at=None,
            expires_at=command.expires_at,
            revoked_at=None,
        )
        await self._keys.add(info, key_hash=generated.key_hash)
        await self._audit.record(
            command.principal,
            "api-key.created",
            subject_type="creator",
            subject_id=command.creator_id,
            after={"api_key_id": info.id, "prefix": info.prefix, "actions": sorted(a.value for a in wanted)},
        )
        await self._uow.commit()
        return CreatedApiKey(info=info, plaintext=generated.plaintext)
