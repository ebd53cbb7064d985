"""Roles over the database: the ``RoleResolver`` port (see its docstring for the rules).

Each resource kind is one or two indexed queries; nothing is loaded that the decision does not
need. A resource that does not exist returns ``None``; the authorizer turns that, and "exists but
you may not see it", into the same 404.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.models import (
    Chatbot,
    ChatbotCreator,
    Conversation,
    Creator,
    CreatorUser,
    EnterpriseSubscription,
    EnterpriseUser,
    Purchase,
    Source,
    SourceCreator,
)
from application.identity.permissions import ResourceKind, Role, chatbot_role_for
from application.identity.principal import (
    Participants,
    Principal,
    PrincipalKind,
    Resource,
    conversation_roles,
)

_MEMBER_ROLE = {"OWNER": Role.CREATOR_OWNER, "ADMIN": Role.CREATOR_ADMIN, "MEMBER": Role.CREATOR_MEMBER}
_OWNER_ROLE = {
    "PRIMARY_OWNER": Role.CHATBOT_PRIMARY_OWNER,
    "CO_OWNER": Role.CHATBOT_CO_OWNER,
    "CONTRIBUTOR": Role.CHATBOT_CONTRIBUTOR,
}
_ENTERPRISE_ROLE = {"ADMIN": Role.ENTERPRISE_ADMIN, "MEMBER": Role.ENTERPRISE_MEMBER}
_RANK = [Role.CREATOR_OWNER, Role.CREATOR_ADMIN, Role.CREATOR_MEMBER]
_CONVERSATIONS = Conversation.__table__
# Checked on every chat message: built once, over the table.
_CONVERSATION_PARTICIPANTS = select(_CONVERSATIONS.c.user_id, _CONVERSATIONS.c.anonymous_id).where(
    _CONVERSATIONS.c.id == bindparam("id")
)


def _people(principal: Principal) -> frozenset[Role]:
    if principal.kind is PrincipalKind.USER:
        return frozenset({Role.AUTHENTICATED})
    if principal.kind is PrincipalKind.ANONYMOUS:
        return frozenset({Role.ANONYMOUS})
    return frozenset()


class SqlRoleResolver:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def roles_on(self, principal: Principal, resource: Resource) -> frozenset[Role] | None:
        kind, rid = resource.kind, resource.id
        assert rid is not None  # the platform never reaches the resolver
        if kind is ResourceKind.CREATOR:
            return await self._creator(principal, rid)
        if kind is ResourceKind.SOURCE:
            return await self._source(principal, rid)
        if kind is ResourceKind.CHATBOT:
            return await self._chatbot(principal, rid)
        if kind is ResourceKind.CONVERSATION:
            return await self._conversation(principal, rid)
        if kind is ResourceKind.PURCHASE:
            buyer = await self._s.scalar(select(Purchase.purchaser_user_id).where(Purchase.id == rid))
            if buyer is None:
                return None
            return frozenset({Role.PURCHASER}) if buyer == principal.user_id else frozenset()
        if kind is ResourceKind.ENTERPRISE:
            return await self._enterprise(principal, rid)
        if kind is ResourceKind.USER:
            return frozenset({Role.ACCOUNT_HOLDER}) if rid == principal.user_id else frozenset()
        return frozenset()

    async def _membership(self, principal: Principal, creator_ids: list[str]) -> dict[str, Role]:
        """The principal's member role in each of ``creator_ids`` it belongs to."""
        if principal.kind is PrincipalKind.API_KEY:
            return {principal.creator_id: Role.CREATOR_OWNER} if principal.creator_id in creator_ids else {}
        if principal.kind is not PrincipalKind.USER or not creator_ids:
            return {}
        rows = await self._s.execute(
            select(CreatorUser.creator_id, CreatorUser.role).where(
                CreatorUser.user_id == principal.user_id, CreatorUser.creator_id.in_(creator_ids)
            )
        )
        return {cid: _MEMBER_ROLE[str(role)] for cid, role in rows}

    async def _creator(self, principal: Principal, creator_id: str) -> frozenset[Role] | None:
        if await self._s.scalar(select(Creator.id).where(Creator.id == creator_id)) is None:
            return None
        roles = set(_people(principal))
        roles.update((await self._membership(principal, [creator_id])).values())
        return frozenset(roles)

    async def _source(self, principal: Principal, source_id: str) -> frozenset[Role] | None:
        if await self._s.scalar(select(Source.id).where(Source.id == source_id)) is None:
            return None
        holders = list(
            (
                await self._s.execute(
                    select(SourceCreator.creator_id).where(SourceCreator.source_id == source_id)
                )
            ).scalars()
        )
        member = await self._membership(principal, holders)
        best = [r for r in _RANK if r in member.values()]
        return frozenset(best[:1])

    async def _chatbot(self, principal: Principal, chatbot_id: str) -> frozenset[Role] | None:
        bot = (
            await self._s.execute(
                select(Chatbot.is_public, Chatbot.is_active).where(Chatbot.id == chatbot_id)
            )
        ).first()
        if bot is None:
            return None
        owners = dict(
            (
                await self._s.execute(
                    select(ChatbotCreator.creator_id, ChatbotCreator.role).where(
                        ChatbotCreator.chatbot_id == chatbot_id
                    )
                )
            ).all()
        )
        member = await self._membership(principal, list(owners))
        roles = {
            chatbot_role_for(member_role, _OWNER_ROLE[str(owners[cid])])
            for cid, member_role in member.items()
        }
        if bot.is_public and bot.is_active:
            roles |= _people(principal)
        return frozenset(roles)

    async def _conversation(self, principal: Principal, conversation_id: str) -> frozenset[Role] | None:
        row = (await self._s.execute(_CONVERSATION_PARTICIPANTS, {"id": conversation_id})).first()
        if row is None:
            return None
        return conversation_roles(principal, Participants(user_id=row.user_id, anonymous_id=row.anonymous_id))

    async def _enterprise(self, principal: Principal, subscription_id: str) -> frozenset[Role] | None:
        exists = await self._s.scalar(
            select(EnterpriseSubscription.id).where(EnterpriseSubscription.id == subscription_id)
        )
        if exists is None:
            return None
        if principal.user_id is None:
            return frozenset()
        role = await self._s.scalar(
            select(EnterpriseUser.role).where(
                EnterpriseUser.subscription_id == subscription_id, EnterpriseUser.user_id == principal.user_id
            )
        )
        return frozenset({_ENTERPRISE_ROLE[str(role)]}) if role is not None else frozenset()
