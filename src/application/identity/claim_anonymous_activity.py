"""ClaimAnonymousActivity: what a visitor did before signing in becomes their account's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.errors import Conflict, InvalidInput, NotAuthenticated
from application.identity.principal import Principal, PrincipalKind
from application.ports.audit import AuditLog
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork


class AnonymousActivity(Protocol):
    async def claim(self, anonymous_id: str, user_id: str, at: datetime) -> str:
        """Records that ``user_id`` owns ``anonymous_id`` (once, race-safe); returns the user
        that owns it now, which differs from ``user_id`` when someone else claimed it first."""
        ...

    async def move_conversations(self, anonymous_id: str, user_id: str) -> int:
        """Gives every conversation started with the anonymous id and not yet owned to the user;
        returns how many moved."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimAnonymousActivityCommand:
    principal: Principal


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimResult:
    anonymous_id: str
    conversations_claimed: int


class ClaimAnonymousActivity:
    """Claims a signed-in user's earlier anonymous conversations.

    - Only the holder of the signed anonymous id can claim it: the id comes from the verified
      header or cookie of a signed-in request, never from the request body.
    - Exactly once and atomically: the claim row is unique per anonymous id, so of two
      concurrent claims by different accounts one wins and the other gets 409; the same account
      claiming again is harmless and picks up anything started since.
    - Purchases are always made signed in (a checkout needs an account for receipts and refunds),
      so there are no anonymous purchases to move; conversations are moved.
    - Audited (``anonymous.claimed``).
    """

    def __init__(self, activity: AnonymousActivity, audit: AuditLog, clock: Clock, uow: UnitOfWork) -> None:
        self._activity = activity
        self._audit = audit
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: ClaimAnonymousActivityCommand) -> ClaimResult:
        principal = command.principal
        if principal.kind is not PrincipalKind.USER or principal.user_id is None:
            raise NotAuthenticated("sign in to claim anonymous activity", code="login-required")
        if principal.anonymous_id is None:
            raise InvalidInput(
                "send the signed anonymous id (X-Canon-Anonymous-Id header or canon_anon cookie)",
                errors={"X-Canon-Anonymous-Id": "missing"},
                code="anonymous-id-missing",
            )
        owner = await self._activity.claim(principal.anonymous_id, principal.user_id, self._clock.now())
        if owner != principal.user_id:
            raise Conflict("this anonymous id was claimed by another account", code="anonymous-id-claimed")
        moved = await self._activity.move_conversations(principal.anonymous_id, principal.user_id)
        if moved:
            await self._audit.record(
                principal,
                "anonymous.claimed",
                subject_type="user",
                subject_id=principal.user_id,
                after={"anonymous_id": principal.anonymous_id, "conversations": moved},
            )
        await self._uow.commit()
        return ClaimResult(anonymous_id=principal.anonymous_id, conversations_claimed=moved)
