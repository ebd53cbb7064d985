"""Listing cursors: opaque, bound to the sort they were issued for, refused when tampered with."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.chatbots.discovery_ports import ListedChatbot, ListingPage, ListingSort
from application.chatbots.list_public_chatbots import (
    ListPublicChatbots,
    ListPublicChatbotsQuery,
    decode_cursor,
    encode_cursor,
)
from application.errors import InvalidInput


def item(key: int, chatbot_id: str) -> ListedChatbot:
    return ListedChatbot(
        id=chatbot_id,
        slug="s",
        title="t",
        description=None,
        type="FRAMEWORK",
        price_cents=0,
        currency="USD",
        creator_ids=(),
        rating_count=0,
        rating_average_milli=None,
        conversation_count=0,
        sort_key=key,
    )


@given(st.sampled_from(list(ListingSort)), st.integers(-(2**62), 2**62), st.text(min_size=1, max_size=40))
def test_a_cursor_round_trips_for_its_own_sort(sort: ListingSort, key: int, chatbot_id: str) -> None:
    assert decode_cursor(sort, encode_cursor(sort, item(key, chatbot_id))) == (key, chatbot_id)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(json.dumps(["rating", "1", "x"]).encode()).decode(),
        encode_cursor(ListingSort.POPULARITY, item(3, "x")),  # another sort's cursor
    ],
)
def test_foreign_or_tampered_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(ListingSort.RATING, cursor)
    assert caught.value.errors == {"cursor": "is invalid"}


class OnePage:
    def __init__(self, items: list[ListedChatbot], has_more: bool) -> None:
        self.page = ListingPage(items=items, has_more=has_more)
        self.asked: list[object] = []

    async def list_public(self, listing: object) -> ListingPage:
        self.asked.append(listing)
        return self.page


async def test_next_cursor_only_when_there_is_more_and_bad_queries_are_field_errors() -> None:
    more = OnePage([item(5, "a"), item(4, "b")], has_more=True)
    page = await ListPublicChatbots(more)(ListPublicChatbotsQuery(sort="rating", limit=2))  # type: ignore[arg-type]
    assert page.next_cursor is not None
    assert decode_cursor(ListingSort.RATING, page.next_cursor) == (4, "b")
    last = OnePage([item(1, "c")], has_more=False)
    assert (await ListPublicChatbots(last)(ListPublicChatbotsQuery())).next_cursor is None  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as caught:
        await ListPublicChatbots(last)(  # type: ignore[arg-type]
            ListPublicChatbotsQuery(sort="newest", chatbot_type="ROBOT", limit=0, query="x" * 201)
        )
    assert set(caught.value.errors) == {"sort", "type", "limit", "q"}
    assert len(last.asked) == 1  # the refused query never reached the adapter
