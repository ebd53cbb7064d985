"""ListPublicChatbots: the public catalogue, filtered, sorted and paginated."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from application.chatbots.discovery_ports import ChatbotDiscovery, ListedChatbot, ListingFilter, ListingSort
from application.errors import InvalidInput
from domain.chatbots import ChatbotType

MAX_LIMIT = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class ListPublicChatbotsQuery:
    category_id: str | None = None
    chatbot_type: str | None = None
    creator_id: str | None = None
    query: str | None = None
    sort: str = ListingSort.RELEVANCE.value
    cursor: str | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicChatbotsPage:
    items: list[ListedChatbot]
    next_cursor: str | None


def encode_cursor(sort: ListingSort, item: ListedChatbot) -> str:
    raw = json.dumps([sort.value, item.sort_key, item.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: ListingSort, cursor: str) -> tuple[int, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_name, key, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise InvalidInput("the cursor is not one we issued", errors={"cursor": "is invalid"}) from None
    if sort_name != sort.value or type(key) is not int or not isinstance(last_id, str):
        raise InvalidInput("the cursor belongs to another listing", errors={"cursor": "is invalid"})
    return key, last_id


class ListPublicChatbots:
    """Public discovery: every chatbot that is public, active and live, for anyone.

    - Filters combine: category, type, owning creator, and a text query (every word must
      appear in the title or description).
    - Sorted by relevance (title matches over description matches, then the category's
      relevance score), by average rating (unrated last) or by popularity (conversations);
      ties broken by id, so the order is total.
    - Pages of ``limit`` (1..100, default 20); ``next_cursor`` is opaque, bound to the sort,
      and stable while chatbots are added.
    """

    def __init__(self, discovery: ChatbotDiscovery) -> None:
        self._discovery = discovery

    async def __call__(self, query: ListPublicChatbotsQuery) -> PublicChatbotsPage:
        errors: dict[str, str] = {}
        try:
            sort = ListingSort(query.sort)
        except ValueError:
            errors["sort"] = f"must be one of {', '.join(s.value for s in ListingSort)}"
            sort = ListingSort.RELEVANCE
        if query.chatbot_type is not None and query.chatbot_type not in {t.value for t in ChatbotType}:
            errors["type"] = f"must be one of {', '.join(t.value for t in ChatbotType)}"
        if not 1 <= query.limit <= MAX_LIMIT:
            errors["limit"] = f"must be 1..{MAX_LIMIT}"
        if query.query is not None and len(query.query) > 200:
            errors["q"] = "must be at most 200 characters"
        if errors:
            raise InvalidInput("the listing request is not valid", errors=errors)
        after = decode_cursor(sort, query.cursor) if query.cursor else None
        page = await self._discovery.list_public(
            ListingFilter(
                category_id=query.category_id,
                chatbot_type=query.chatbot_type,
                creator_id=query.creator_id,
                query=query.query,
                sort=sort,
                after=after,
                limit=query.limit,
            )
        )
        cursor = encode_cursor(sort, page.items[-1]) if page.has_more and page.items else None
        return PublicChatbotsPage(items=page.items, next_cursor=cursor)
