"""ListCreatorSources: the sources a creator holds a share in, a page at a time."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from application.catalogue.ports import SourceRepository
from application.errors import InvalidInput
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from domain.catalogue import Source

MAX_LIMIT = 100


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        return base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("the cursor is not one this API gave out", errors={"cursor": "invalid"}) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListCreatorSourcesQuery:
    principal: Principal
    creator_id: str
    limit: int = 20
    cursor: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcePage:
    items: list[Source]
    next_cursor: str | None


class ListCreatorSources:
    """Lists a creator's sources in creation order (ids are time-ordered), ``limit`` at a time.

    - Only members of the creator (``source.create`` on it: the same people who may add one)
      and API keys carrying it; sources are private, so the public sees none of them.
    - ``limit`` is 1 to 100; ``cursor`` is the opaque ``next_cursor`` of the previous page.
    """

    def __init__(self, authorizer: Authorizer, sources: SourceRepository) -> None:
        self._authorizer = authorizer
        self._sources = sources

    async def __call__(self, query: ListCreatorSourcesQuery) -> SourcePage:
        await self._authorizer.require(
            query.principal, Action.SOURCE_CREATE, Resource.creator(query.creator_id)
        )
        if not 1 <= query.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be 1 to {MAX_LIMIT}", errors={"limit": "out of range"})
        after = decode_cursor(query.cursor) if query.cursor else None
        ordered = sorted(await self._sources.list_by_creator(query.creator_id), key=lambda s: s.id)
        rest = [s for s in ordered if after is None or s.id > after]
        page = rest[: query.limit]
        more = len(rest) > query.limit
        return SourcePage(items=page, next_cursor=encode_cursor(page[-1].id) if more and page else None)
