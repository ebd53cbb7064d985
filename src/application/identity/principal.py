"""Who is calling (``Principal``) and what they are acting on (``Resource``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from application.identity.permissions import API_KEY_GRANTABLE, Action, ResourceKind, Role


class PrincipalKind(StrEnum):
    USER = "user"
    API_KEY = "api-key"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """The authenticated caller. Build one with :meth:`user`, :meth:`api_key` or :meth:`anonymous`.

    - a user: ``user_id`` (ours, not the identity provider's); ``is_operator`` for platform staff;
      ``anonymous_id`` when the browser still carries the id it used before signing in (so the
      user can claim those conversations).
    - an API key: acts for ``creator_id`` as that creator's owner would, but only for
      ``api_key_actions`` (always a subset of ``API_KEY_GRANTABLE``).
    - an anonymous visitor: only a verified ``anonymous_id``.
    """

    kind: PrincipalKind
    user_id: str | None = None
    anonymous_id: str | None = None
    api_key_id: str | None = None
    creator_id: str | None = None
    api_key_actions: frozenset[Action] = field(default_factory=frozenset)
    is_operator: bool = False

    def __post_init__(self) -> None:
        kind = self.kind
        ok = {
            PrincipalKind.USER: bool(self.user_id) and not self.api_key_id and not self.creator_id,
            PrincipalKind.API_KEY: bool(self.api_key_id and self.creator_id)
            and not self.user_id
            and not self.anonymous_id
            and not self.is_operator,
            PrincipalKind.ANONYMOUS: bool(self.anonymous_id)
            and not self.user_id
            and not self.api_key_id
            and not self.creator_id
            and not self.is_operator,
        }[kind]
        if not ok:
            raise ValueError(f"inconsistent {kind} principal")
        if kind is not PrincipalKind.API_KEY and self.api_key_actions:
            raise ValueError("only an API key principal carries api_key_actions")
        extra = self.api_key_actions - API_KEY_GRANTABLE
        if extra:
            raise ValueError(f"actions an API key can never carry: {sorted(extra)}")

    @classmethod
    def user(cls, user_id: str, *, is_operator: bool = False, anonymous_id: str | None = None) -> Principal:
        return cls(
            kind=PrincipalKind.USER, user_id=user_id, is_operator=is_operator, anonymous_id=anonymous_id
        )

    @classmethod
    def api_key(cls, *, api_key_id: str, creator_id: str, actions: Iterable[Action]) -> Principal:
        return cls(
            kind=PrincipalKind.API_KEY,
            api_key_id=api_key_id,
            creator_id=creator_id,
            api_key_actions=frozenset(actions),
        )

    @classmethod
    def anonymous(cls, anonymous_id: str) -> Principal:
        return cls(kind=PrincipalKind.ANONYMOUS, anonymous_id=anonymous_id)

    @property
    def is_anonymous(self) -> bool:
        return self.kind is PrincipalKind.ANONYMOUS


@dataclass(frozen=True, slots=True)
class Participants:
    """Who holds a conversation: the user it belongs to, and the anonymous id that opened it
    (``user_id`` is None until a signed-in user claims it)."""

    user_id: str | None
    anonymous_id: str | None


@dataclass(frozen=True, slots=True)
class Resource:
    """What an action is checked against: a kind and an id (the platform has no id).

    A conversation may carry its ``participants`` when the caller has just read the
    conversation anyway: the roles on a conversation are decided from nothing else, so the
    authorizer then need not read them again (a chat turn does this on every message).
    """

    kind: ResourceKind
    id: str | None = None
    participants: Participants | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if (self.kind is ResourceKind.PLATFORM) != (self.id is None):
            raise ValueError("the platform has no id; every other resource needs one")
        if self.participants is not None and self.kind is not ResourceKind.CONVERSATION:
            raise ValueError("only a conversation has participants")

    @classmethod
    def platform(cls) -> Resource:
        return cls(ResourceKind.PLATFORM)

    @classmethod
    def creator(cls, creator_id: str) -> Resource:
        return cls(ResourceKind.CREATOR, creator_id)

    @classmethod
    def source(cls, source_id: str) -> Resource:
        return cls(ResourceKind.SOURCE, source_id)

    @classmethod
    def chatbot(cls, chatbot_id: str) -> Resource:
        return cls(ResourceKind.CHATBOT, chatbot_id)

    @classmethod
    def conversation(cls, conversation_id: str, *, participants: Participants | None = None) -> Resource:
        return cls(ResourceKind.CONVERSATION, conversation_id, participants)

    @classmethod
    def purchase(cls, purchase_id: str) -> Resource:
        return cls(ResourceKind.PURCHASE, purchase_id)

    @classmethod
    def enterprise(cls, subscription_id: str) -> Resource:
        return cls(ResourceKind.ENTERPRISE, subscription_id)

    @classmethod
    def user(cls, user_id: str) -> Resource:
        return cls(ResourceKind.USER, user_id)


def conversation_roles(principal: Principal, participants: Participants) -> frozenset[Role]:
    """The caller's roles on a conversation: its owner is the user it belongs to, or, while no
    user holds it, whoever carries the anonymous id that opened it (a signed-in user carrying it
    may also claim it)."""
    if principal.user_id is not None and participants.user_id == principal.user_id:
        return frozenset({Role.CONVERSATION_OWNER})
    if (
        participants.user_id is None
        and principal.anonymous_id is not None
        and participants.anonymous_id == principal.anonymous_id
    ):
        if principal.kind is PrincipalKind.USER:
            return frozenset({Role.CONVERSATION_OWNER, Role.CONVERSATION_CLAIMANT})
        return frozenset({Role.CONVERSATION_OWNER})
    return frozenset()
