"""Shared by the owner use cases: reading roles from input, describing rosters for the audit."""

from __future__ import annotations

from application.errors import InvalidInput
from domain.roles import ChatbotOwnerRole, ChatbotOwners


def parse_role(raw: str) -> ChatbotOwnerRole:
    try:
        return ChatbotOwnerRole(raw)
    except ValueError:
        allowed = ", ".join(r.value for r in ChatbotOwnerRole)
        raise InvalidInput(
            f"unknown owner role {raw!r}", errors={"role": f"must be one of {allowed}"}
        ) from None


def roster_dict(owners: ChatbotOwners) -> dict[str, str]:
    return {creator_id: role.value for creator_id, role in owners}
