"""Kit for the chatbot use-case tests: the repository harness loaded by path, a role resolver
that reads owners from the repositories, a recording audit log and a settable clock.

(A plain module with a unique name: an installed SDK ships a top-level ``tests`` package.)
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from adapters.memory.chatbot_sources import InMemorySourceDirectory
from application.chatbots.add_owner import AddChatbotOwner
from application.chatbots.change_owner_role import ChangeChatbotOwnerRole
from application.chatbots.create_chatbot import CreateChatbot
from application.chatbots.diff_versions import DiffChatbotVersions
from application.chatbots.get_chatbot import GetChatbot
from application.chatbots.list_versions import ListChatbotVersions
from application.chatbots.remove_owner import RemoveChatbotOwner
from application.chatbots.resolve_sources import ResolveChatbotSources
from application.chatbots.rollback_chatbot import RollbackChatbot
from application.chatbots.set_activity import SetChatbotActivity
from application.chatbots.set_visibility import SetChatbotVisibility
from application.chatbots.source_ports import SourceDirectory
from application.chatbots.update_chatbot import UpdateChatbot
from application.identity.authorizer import MatrixAuthorizer
from application.identity.permissions import ResourceKind, Role, chatbot_role_for
from application.identity.principal import Principal, PrincipalKind, Resource

_MEMBER = {"OWNER": Role.CREATOR_OWNER, "ADMIN": Role.CREATOR_ADMIN, "MEMBER": Role.CREATOR_MEMBER}
_OWNER = {
    "PRIMARY_OWNER": Role.CHATBOT_PRIMARY_OWNER,
    "CO_OWNER": Role.CHATBOT_CO_OWNER,
    "CONTRIBUTOR": Role.CHATBOT_CONTRIBUTOR,
}


def load_harness() -> ModuleType:
    name = "repository_harness"
    if name not in sys.modules:
        path = Path(__file__).parents[2] / "contracts" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class RepoRoleResolver:
    """Roles from the repositories (creators' members, chatbots' owners), as the SQL resolver
    derives them from the tables."""

    def __init__(self, repos: Any) -> None:
        self._r = repos

    async def _members(self, principal: Principal, creator_ids: list[str]) -> dict[str, Role]:
        if principal.kind is not PrincipalKind.USER:
            return {}
        out: dict[str, Role] = {}
        for creator_id in creator_ids:
            creator = await self._r.creators.get(creator_id)
            role = creator.members.role_of(principal.user_id) if creator else None
            if role is not None:
                out[creator_id] = _MEMBER[role.value]
        return out

    async def roles_on(self, principal: Principal, resource: Resource) -> frozenset[Role] | None:
        people = {
            PrincipalKind.USER: {Role.AUTHENTICATED},
            PrincipalKind.ANONYMOUS: {Role.ANONYMOUS},
        }.get(principal.kind, set())
        assert resource.id is not None
        if resource.kind is ResourceKind.CREATOR:
            if await self._r.creators.get(resource.id) is None:
                return None
            return frozenset(people | set((await self._members(principal, [resource.id])).values()))
        if resource.kind is ResourceKind.CHATBOT:
            chatbot = await self._r.chatbots.get(resource.id)
            if chatbot is None:
                return None
            owners = {c: r.value for c, r in chatbot.owners}
            member = await self._members(principal, list(owners))
            roles = {chatbot_role_for(m, _OWNER[owners[c]]) for c, m in member.items()}
            if chatbot.is_public and chatbot.is_active:
                roles |= people
            return frozenset(roles)
        return frozenset()


@dataclass
class RecordingAudit:
    entries: list[dict[str, Any]] = field(default_factory=list)

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
        self.entries.append(
            {
                "actor": actor,
                "action": action,
                "subject": (subject_type, subject_id),
                "before": before,
                "after": after,
            }
        )


@dataclass
class SteppingClock:
    at: datetime

    def now(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


@dataclass
class Kit:
    repos: Any
    audit: RecordingAudit
    clock: SteppingClock
    sources: SourceDirectory

    def __post_init__(self) -> None:
        r = self.repos
        auth = MatrixAuthorizer(RepoRoleResolver(r))
        self.create = CreateChatbot(auth, r.chatbots, self.clock, r.uow)
        self.update = UpdateChatbot(auth, r.chatbots, self.clock, r.uow)
        self.visibility = SetChatbotVisibility(auth, r.chatbots, r.uow)
        self.activity = SetChatbotActivity(auth, r.chatbots, self.audit, r.uow)
        self.rollback = RollbackChatbot(auth, r.chatbots, self.clock, r.uow)
        self.diff = DiffChatbotVersions(auth, r.chatbots)
        self.versions = ListChatbotVersions(auth, r.chatbots)
        self.get = GetChatbot(auth, r.chatbots)
        self.add_owner = AddChatbotOwner(auth, r.chatbots, self.audit, r.uow)
        self.change_role = ChangeChatbotOwnerRole(auth, r.chatbots, self.audit, r.uow)
        self.remove_owner = RemoveChatbotOwner(auth, r.chatbots, self.audit, r.uow)
        self.resolve = ResolveChatbotSources(r.chatbots, self.sources)


@dataclass
class Env:
    """One backend, shared audit/clock/sources across units (like one process)."""

    backend: Any
    audit: RecordingAudit
    clock: SteppingClock
    sources: SourceDirectory = field(default_factory=InMemorySourceDirectory)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Kit]:
        async with self.backend.unit() as r:
            yield Kit(r, self.audit, self.clock, self.sources)
