"""Chatbot discovery over HTTP: the public listing, categories, favourites, JSON-LD."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, delete, get, put
from litestar.params import JSONBody, QueryParameter

from application.chatbots.categorize_chatbot import CategorizeChatbot, CategorizeChatbotCommand
from application.chatbots.chatbot_json_ld import GetChatbotJsonLd, GetChatbotJsonLdQuery
from application.chatbots.discovery_ports import CategoryType, ChatbotDiscovery, ListedChatbot
from application.chatbots.favorite_chatbot import FavoriteChatbot, FavoriteChatbotCommand
from application.chatbots.list_creator_chatbots import ListCreatorChatbots, ListCreatorChatbotsQuery
from application.chatbots.list_favorites import ListFavorites, ListFavoritesQuery
from application.chatbots.list_public_chatbots import ListPublicChatbots, ListPublicChatbotsQuery
from application.identity.principal import Principal
from entrypoints.http.routes.chatbots import ChatbotOut, chatbot_out
from entrypoints.settings import Settings

TAGS = ["chatbots"]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class ListedOut(msgspec.Struct):
    id: str
    slug: str
    title: str
    description: str | None
    type: str
    price_cents: int
    currency: str
    creator_ids: list[str]
    rating_count: int
    rating_average: str | None  # exact, two decimals ("4.50"); null when unrated
    conversation_count: int


class ListingOut(msgspec.Struct):
    items: list[ListedOut]
    next_cursor: str | None


class CategoryOut(msgspec.Struct):
    id: str
    type: str
    label: str
    slug: str
    icon: str | None
    color: str | None


class RelevanceBody(msgspec.Struct, forbid_unknown_fields=True):
    relevance: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None


class FavoriteOut(msgspec.Struct):
    chatbot_id: str
    favorite: bool
    changed: bool


def listed_out(item: ListedChatbot) -> ListedOut:
    milli = item.rating_average_milli
    return ListedOut(
        id=item.id,
        slug=item.slug,
        title=item.title,
        description=item.description,
        type=item.type,
        price_cents=item.price_cents,
        currency=item.currency,
        creator_ids=list(item.creator_ids),
        rating_count=item.rating_count,
        rating_average=f"{milli // 1000}.{(milli % 1000) // 10:02d}" if milli is not None else None,
        conversation_count=item.conversation_count,
    )


@get("/v1/chatbots", tags=TAGS, summary="Discover public chatbots")
@inject
async def list_public(
    uc: FromDishka[ListPublicChatbots],
    category: Annotated[str | None, QueryParameter(max_length=64)] = None,
    chatbot_type: Annotated[str | None, QueryParameter(name="type", max_length=32)] = None,
    creator: Annotated[str | None, QueryParameter(max_length=64)] = None,
    q: Annotated[str | None, QueryParameter(max_length=200)] = None,
    sort: Annotated[str, QueryParameter(pattern="^(relevance|rating|popularity)$")] = "relevance",
    cursor: Annotated[str | None, QueryParameter(max_length=400)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
) -> ListingOut:
    """Public, active chatbots; filter by category, type, creator and text; sort by relevance,
    rating or popularity; follow ``next_cursor`` for the next page."""
    page = await uc(
        ListPublicChatbotsQuery(
            category_id=category,
            chatbot_type=chatbot_type,
            creator_id=creator,
            query=q,
            sort=sort,
            cursor=cursor,
            limit=limit,
        )
    )
    return ListingOut(items=[listed_out(i) for i in page.items], next_cursor=page.next_cursor)


@get("/v1/categories", tags=TAGS, summary="Discovery categories")
@inject
async def list_categories(
    discovery: FromDishka[ChatbotDiscovery],
    category_type: Annotated[
        str | None, QueryParameter(name="type", pattern="^(ROLE|CHALLENGE|STAGE)$")
    ] = None,
) -> list[CategoryOut]:
    """Every category (ROLE, CHALLENGE, STAGE), ordered by type and label. Public."""
    found = await discovery.categories(CategoryType(category_type) if category_type else None)
    return [
        CategoryOut(id=c.id, type=c.type.value, label=c.label, slug=c.slug, icon=c.icon, color=c.color)
        for c in found
    ]


@put("/v1/chatbots/{chatbot_id:str}/categories/{category_id:str}", tags=TAGS, summary="Place in a category")
@inject
async def categorize(
    chatbot_id: str,
    category_id: str,
    principal: FromDishka[Principal],
    uc: FromDishka[CategorizeChatbot],
    data: JSONBody[RelevanceBody],
) -> dict[str, Any]:
    relevance = data.relevance
    await uc(
        CategorizeChatbotCommand(
            principal=principal, chatbot_id=chatbot_id, category_id=category_id, relevance=relevance
        )
    )
    return {"chatbot_id": chatbot_id, "category_id": category_id, "relevance": relevance}


@delete(
    "/v1/chatbots/{chatbot_id:str}/categories/{category_id:str}",
    tags=TAGS,
    summary="Take out of a category",
    status_code=200,
)
@inject
async def uncategorize(
    chatbot_id: str, category_id: str, principal: FromDishka[Principal], uc: FromDishka[CategorizeChatbot]
) -> dict[str, Any]:
    removed = await uc(
        CategorizeChatbotCommand(
            principal=principal, chatbot_id=chatbot_id, category_id=category_id, remove=True
        )
    )
    return {"chatbot_id": chatbot_id, "category_id": category_id, "removed": removed}


@get("/v1/chatbots/{chatbot_id:str}/json-ld", tags=TAGS, summary="schema.org JSON-LD of a public chatbot")
@inject
async def json_ld(
    chatbot_id: str, uc: FromDishka[GetChatbotJsonLd], settings: FromDishka[Settings]
) -> Response[dict[str, Any]]:
    """Public (no credentials needed): search engines read it."""
    doc = await uc(GetChatbotJsonLdQuery(chatbot_id=chatbot_id, base_url=settings.effective_public_base_url))
    return Response(doc, media_type="application/ld+json")


async def _favorite(
    uc: FavoriteChatbot, principal: Principal, chatbot_id: str, favorite: bool
) -> FavoriteOut:
    result = await uc(FavoriteChatbotCommand(principal=principal, chatbot_id=chatbot_id, favorite=favorite))
    return FavoriteOut(chatbot_id=result.chatbot_id, favorite=result.favorite, changed=result.changed)


@put("/v1/me/favorites/{chatbot_id:str}", tags=TAGS, summary="Favourite a chatbot")
@inject
async def add_favorite(
    chatbot_id: str, principal: FromDishka[Principal], uc: FromDishka[FavoriteChatbot]
) -> FavoriteOut:
    return await _favorite(uc, principal, chatbot_id, True)


@delete("/v1/me/favorites/{chatbot_id:str}", tags=TAGS, summary="Unfavourite a chatbot", status_code=200)
@inject
async def remove_favorite(
    chatbot_id: str, principal: FromDishka[Principal], uc: FromDishka[FavoriteChatbot]
) -> FavoriteOut:
    return await _favorite(uc, principal, chatbot_id, False)


@get("/v1/me/favorites", tags=TAGS, summary="My favourite chatbots")
@inject
async def list_favorites(principal: FromDishka[Principal], uc: FromDishka[ListFavorites]) -> list[ListedOut]:
    return [listed_out(i) for i in await uc(ListFavoritesQuery(principal=principal))]


@get("/v1/creators/{creator_id:str}/chatbots", tags=TAGS, summary="A creator's chatbots")
@inject
async def creator_chatbots(
    creator_id: str, principal: FromDishka[Principal], uc: FromDishka[ListCreatorChatbots]
) -> list[ChatbotOut]:
    found = await uc(ListCreatorChatbotsQuery(principal=principal, creator_id=creator_id))
    return [chatbot_out(d) for d in found]


HANDLERS = [
    list_public,
    list_categories,
    categorize,
    uncategorize,
    json_ld,
    add_favorite,
    remove_favorite,
    list_favorites,
    creator_chatbots,
]
