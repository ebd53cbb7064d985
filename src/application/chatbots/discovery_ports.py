"""Ports of discovery: the public listing, categories, favourites and ratings summaries.

Listing pages are keyset-paginated: ``after`` is the last row's ``(sort key, id)`` of the
previous page, so pages stay stable while chatbots are added or rated (no skipped or repeated
rows, unlike offsets). Sort keys are integers so both databases compare them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ListingSort(StrEnum):
    RELEVANCE = "relevance"  # text match, then category relevance score
    RATING = "rating"  # average rating (unrated last)
    POPULARITY = "popularity"  # conversations started


class CategoryType(StrEnum):
    ROLE = "ROLE"
    CHALLENGE = "CHALLENGE"
    STAGE = "STAGE"


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    id: str
    type: CategoryType
    label: str
    slug: str
    icon: str | None = None
    color: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingFilter:
    category_id: str | None = None
    chatbot_type: str | None = None
    creator_id: str | None = None
    query: str | None = None
    sort: ListingSort = ListingSort.RELEVANCE
    after: tuple[int, str] | None = None  # (sort key, id) of the previous page's last row
    limit: int = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedChatbot:
    id: str
    slug: str
    title: str
    description: str | None
    type: str
    price_cents: int
    currency: str
    creator_ids: tuple[str, ...]
    rating_count: int
    rating_average_milli: int | None  # average stars x 1000, None when unrated
    conversation_count: int
    sort_key: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingPage:
    items: list[ListedChatbot]
    has_more: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Review:
    author_name: str
    rating: int
    body: str | None
    published_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingSummary:
    count: int
    total: int  # sum of stars; the average is total / count (exact)
    recent: list[Review] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicFacts:
    """What the JSON-LD of a public chatbot is filled from."""

    chatbot_id: str
    slug: str
    title: str
    description: str | None
    chatbot_type: str
    published_at: datetime  # version 1's activation
    modified_at: datetime  # the current version's activation
    version_number: int
    creator_names: list[str]


class ChatbotDiscovery(Protocol):
    async def list_public(self, listing: ListingFilter) -> ListingPage:
        """Public, active chatbots with a live version matching every given filter."""
        ...

    async def categories(self, category_type: CategoryType | None = None) -> list[Category]: ...

    async def add_category(self, category: Category) -> None:
        """Conflict if the (type, slug) pair exists."""
        ...

    async def set_chatbot_category(self, chatbot_id: str, category_id: str, relevance: float | None) -> None:
        """Insert or update the link (relevance 0..1). Conflict ``missing-reference``."""
        ...

    async def remove_chatbot_category(self, chatbot_id: str, category_id: str) -> bool: ...

    async def add_favorite(self, user_id: str, chatbot_id: str) -> bool:
        """True if added, False if it already was a favourite (idempotent, race-safe)."""
        ...

    async def remove_favorite(self, user_id: str, chatbot_id: str) -> bool: ...

    async def favorites(self, user_id: str) -> list[ListedChatbot]:
        """The user's favourites that are still public and active, newest favourite first."""
        ...

    async def rating_summary(self, chatbot_id: str, *, recent: int = 5) -> RatingSummary: ...

    async def public_facts(self, chatbot_id: str) -> PublicFacts | None:
        """None unless the chatbot is public, active and live."""
        ...
