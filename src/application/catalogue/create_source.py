"""CreateSource: a creator adds a work (book, article, episode...) with its revenue split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from application.catalogue.ports import SourceRepository
from application.errors import NotAuthenticated
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.catalogue import Source, SourceType
from domain.errors import RuleViolation
from domain.ids import new_id
from domain.shares import ShareSet


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateSourceCommand:
    principal: Principal
    creator_id: str
    title: str
    type: SourceType
    shares: Mapping[str, Decimal | str] | None = None  # creator id -> share; default: all to creator_id
    author: str | None = None
    publisher: str | None = None
    publication_date: date | None = None
    isbn: str | None = None
    url: str | None = None
    description: str | None = None
    metadata: Mapping[str, object] = field(default_factory=dict)


class CreateSource:
    """Creates a source owned (for revenue) by one or more creators.

    - Any member of the creator may (``source.create``), and an API key carrying it.
    - Without shares the creator gets the whole source; with shares, they must name the creator
      and add up to exactly 1 (``shares-must-sum-to-one``), four decimals at most; a co-creator
      that does not exist is Conflict ``missing-reference``.
    - The first split is recorded in the share history from now on.
    - Bibliographic fields are validated (ISBN check digit, absolute URL, lengths).
    """

    def __init__(
        self, authorizer: Authorizer, sources: SourceRepository, clock: Clock, uow: UnitOfWork
    ) -> None:
        self._authorizer = authorizer
        self._sources = sources
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: CreateSourceCommand) -> Source:
        await self._authorizer.require(
            command.principal, Action.SOURCE_CREATE, Resource.creator(command.creator_id)
        )
        created_by = command.principal.user_id
        if created_by is None:
            # an API key acts for its creator, but a source records the person who added it
            raise NotAuthenticated("sources are added by a signed-in person", code="login-required")
        if command.shares:
            shares = ShareSet.of(dict(command.shares))
            if command.creator_id not in shares.creator_ids:
                raise RuleViolation(
                    "the creator adding a source must hold a share of it", code="creator-not-in-shares"
                )
        else:
            shares = ShareSet.sole(command.creator_id)
        source = Source(
            id=new_id(),
            title=command.title.strip(),
            type=command.type,
            created_by=created_by,
            shares=shares,
            author=command.author,
            publisher=command.publisher,
            publication_date=command.publication_date,
            isbn=command.isbn,
            url=command.url,
            description=command.description,
            metadata=dict(command.metadata),
        )
        await self._sources.add(source, effective_from=self._clock.now())
        await self._uow.commit()
        return source
