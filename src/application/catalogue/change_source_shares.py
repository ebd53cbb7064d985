"""ChangeSourceShares: re-split a source's revenue among its co-creators, from now on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from application.catalogue.ports import ShareSetVersion, SourceRepository
from application.errors import NotAuthenticated, NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.audit import AuditLog
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.shares import ShareSet


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeSourceSharesCommand:
    principal: Principal
    source_id: str
    shares: Mapping[str, Decimal | str]  # creator id -> share


class ChangeSourceShares:
    """Replaces a source's revenue split.

    - Only an OWNER of a creator holding a share may (``source.change-shares``): shares decide
      who is paid. Admins, members and API keys are refused.
    - The new split must add up to exactly 1 with at most four decimals; every creator must exist.
    - It applies to revenue attributed from now on: the history keeps every earlier split and
      nothing already attributed is recomputed. Two changes at the same instant: Conflict.
    - Audited (``source.shares-changed``) with the split before and after.
    """

    def __init__(
        self,
        authorizer: Authorizer,
        sources: SourceRepository,
        audit: AuditLog,
        clock: Clock,
        uow: UnitOfWork,
    ) -> None:
        self._authorizer = authorizer
        self._sources = sources
        self._audit = audit
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: ChangeSourceSharesCommand) -> list[ShareSetVersion]:
        await self._authorizer.require(
            command.principal, Action.SOURCE_CHANGE_SHARES, Resource.source(command.source_id)
        )
        changed_by = command.principal.user_id
        if changed_by is None:
            raise NotAuthenticated("shares are changed by a signed-in person", code="login-required")
        shares = ShareSet.of(dict(command.shares))
        source = await self._sources.get(command.source_id)
        if source is None:
            raise NotFound("source not found", code="not-found")
        await self._sources.change_shares(
            command.source_id, shares, effective_from=self._clock.now(), changed_by=changed_by
        )
        await self._audit.record(
            command.principal,
            "source.shares-changed",
            subject_type="source",
            subject_id=command.source_id,
            before={cid: str(share) for cid, share in source.shares},
            after={cid: str(share) for cid, share in shares},
        )
        await self._uow.commit()
        return await self._sources.share_history(command.source_id)
