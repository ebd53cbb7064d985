"""Discovery over SQLAlchemy: the public listing, categories, favourites, rating summaries.

The listing is one statement: counts of ratings and conversations come from grouped subqueries
joined to the chatbot rows, the sort key is computed in SQL as an integer (so keyset pages
compare exactly on SQLite and PostgreSQL alike), and the page is cut with ``(key, id)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, and_, case, cast, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from adapters.persistence import enums
from adapters.persistence.models import (
    Category as CategoryRow,
)
from adapters.persistence.models import (
    Chatbot,
    ChatbotCategory,
    ChatbotCreator,
    ChatbotVersion,
    Conversation,
    Creator,
    FavoritedChatbot,
    Rating,
    User,
)
from adapters.persistence.repositories._support import atomic, execute_update
from application.chatbots.discovery_ports import (
    Category,
    CategoryType,
    ListedChatbot,
    ListingFilter,
    ListingPage,
    ListingSort,
    PublicFacts,
    RatingSummary,
    Review,
)
from application.errors import Conflict
from domain.ids import new_id


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _live() -> ColumnElement[bool]:
    return and_(
        Chatbot.is_public.is_(True), Chatbot.is_active.is_(True), Chatbot.current_version_id.is_not(None)
    )


class SqlChatbotDiscovery:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # listing -------------------------------------------------------------------------------
    async def list_public(self, listing: ListingFilter) -> ListingPage:
        ratings = (
            select(
                Rating.chatbot_id.label("cid"),
                func.count(Rating.id).label("n"),
                func.sum(Rating.rating).label("total"),
            )
            .group_by(Rating.chatbot_id)
            .subquery()
        )
        conversations = (
            select(Conversation.chatbot_id.label("cid"), func.count(Conversation.id).label("c"))
            .group_by(Conversation.chatbot_id)
            .subquery()
        )
        n = func.coalesce(ratings.c.n, 0)
        avg_milli = case((n > 0, (func.coalesce(ratings.c.total, 0) * 1000) / n), else_=None)
        popularity = func.coalesce(conversations.c.c, 0)
        conditions: list[ColumnElement[bool]] = [_live()]
        text_score: ColumnElement[int] = literal(0)
        for word in (listing.query or "").split()[:8]:
            pattern = _like(word)
            in_title = func.lower(Chatbot.title).like(pattern, escape="\\")
            in_description = func.lower(func.coalesce(Chatbot.description, "")).like(pattern, escape="\\")
            conditions.append(or_(in_title, in_description))
            text_score = text_score + case((in_title, 2), else_=0) + case((in_description, 1), else_=0)
        relevance: ColumnElement[int] = text_score * 1000
        stmt = select(Chatbot.id)
        if listing.category_id is not None:
            stmt = stmt.join(
                ChatbotCategory,
                and_(
                    ChatbotCategory.chatbot_id == Chatbot.id,
                    ChatbotCategory.category_id == listing.category_id,
                ),
            )
            relevance = relevance + cast(func.coalesce(ChatbotCategory.relevance_score, 0) * 1000, Integer)
        if listing.chatbot_type is not None:
            conditions.append(Chatbot.type == enums.ChatbotType(listing.chatbot_type))
        if listing.creator_id is not None:
            owned = select(ChatbotCreator.chatbot_id).where(ChatbotCreator.creator_id == listing.creator_id)
            conditions.append(Chatbot.id.in_(owned))
        key = {
            ListingSort.RELEVANCE: relevance,
            ListingSort.RATING: func.coalesce(avg_milli, -1),
            ListingSort.POPULARITY: popularity,
        }[listing.sort]
        inner = (
            stmt.add_columns(
                Chatbot.slug,
                Chatbot.title,
                Chatbot.description,
                Chatbot.type,
                Chatbot.price_cents,
                Chatbot.currency,
                n.label("rating_count"),
                avg_milli.label("avg_milli"),
                popularity.label("popularity"),
                key.label("sort_key"),
            )
            .outerjoin(ratings, ratings.c.cid == Chatbot.id)
            .outerjoin(conversations, conversations.c.cid == Chatbot.id)
            .where(*conditions)
            .subquery()
        )
        page = select(inner)
        if listing.after is not None:
            last_key, last_id = listing.after
            page = page.where(
                or_(inner.c.sort_key < last_key, and_(inner.c.sort_key == last_key, inner.c.id > last_id))
            )
        limit = max(1, min(listing.limit, 100))
        rows = (
            await self._session.execute(page.order_by(inner.c.sort_key.desc(), inner.c.id).limit(limit + 1))
        ).all()
        items = await self._listed(rows[:limit])
        return ListingPage(items=items, has_more=len(rows) > limit)

    async def _listed(self, rows: Sequence[Any]) -> list[ListedChatbot]:
        owners = await self._owners([r.id for r in rows])
        return [
            ListedChatbot(
                id=r.id,
                slug=r.slug,
                title=r.title,
                description=r.description,
                type=str(r.type.value if hasattr(r.type, "value") else r.type),
                price_cents=r.price_cents,
                currency=r.currency,
                creator_ids=owners.get(r.id, ()),
                rating_count=int(r.rating_count),
                rating_average_milli=int(r.avg_milli) if r.avg_milli is not None else None,
                conversation_count=int(r.popularity),
                sort_key=int(r.sort_key),
            )
            for r in rows
        ]

    async def _owners(self, chatbot_ids: list[str]) -> dict[str, tuple[str, ...]]:
        if not chatbot_ids:
            return {}
        rank = case((ChatbotCreator.role == enums.ChatbotOwnerRole.PRIMARY_OWNER, 0), else_=1)
        rows = await self._session.execute(
            select(ChatbotCreator.chatbot_id, ChatbotCreator.creator_id)
            .where(ChatbotCreator.chatbot_id.in_(chatbot_ids))
            .order_by(ChatbotCreator.chatbot_id, rank, ChatbotCreator.creator_id)
        )
        out: dict[str, list[str]] = {}
        for chatbot_id, creator_id in rows:
            out.setdefault(chatbot_id, []).append(creator_id)
        return {k: tuple(v) for k, v in out.items()}

    # categories ----------------------------------------------------------------------------
    async def categories(self, category_type: CategoryType | None = None) -> list[Category]:
        stmt = select(CategoryRow).order_by(CategoryRow.type, CategoryRow.label, CategoryRow.id)
        if category_type is not None:
            stmt = stmt.where(CategoryRow.type == enums.CategoryType(category_type.value))
        return [
            Category(
                id=r.id,
                type=CategoryType(r.type.value),
                label=r.label,
                slug=r.slug,
                icon=r.icon,
                color=r.color,
            )
            for r in (await self._session.scalars(stmt)).all()
        ]

    async def add_category(self, category: Category) -> None:
        async with atomic(self._session):
            self._session.add(
                CategoryRow(
                    id=category.id,
                    type=enums.CategoryType(category.type.value),
                    label=category.label,
                    slug=category.slug,
                    icon=category.icon,
                    color=category.color,
                )
            )

    async def set_chatbot_category(self, chatbot_id: str, category_id: str, relevance: float | None) -> None:
        async with atomic(self._session):
            changed = await execute_update(
                self._session,
                update(ChatbotCategory)
                .where(ChatbotCategory.chatbot_id == chatbot_id, ChatbotCategory.category_id == category_id)
                .values(relevance_score=relevance),
            )
            if not changed:
                self._session.add(
                    ChatbotCategory(
                        id=new_id(), chatbot_id=chatbot_id, category_id=category_id, relevance_score=relevance
                    )
                )
                await self._session.flush()

    async def remove_chatbot_category(self, chatbot_id: str, category_id: str) -> bool:
        async with atomic(self._session):
            return bool(
                await execute_update(
                    self._session,
                    delete(ChatbotCategory).where(
                        ChatbotCategory.chatbot_id == chatbot_id, ChatbotCategory.category_id == category_id
                    ),
                )
            )

    # favourites ----------------------------------------------------------------------------
    async def add_favorite(self, user_id: str, chatbot_id: str) -> bool:
        exists = await self._session.scalar(
            select(FavoritedChatbot.id).where(
                FavoritedChatbot.user_id == user_id, FavoritedChatbot.chatbot_id == chatbot_id
            )
        )
        if exists is not None:
            return False
        try:
            async with atomic(self._session):
                self._session.add(FavoritedChatbot(id=new_id(), user_id=user_id, chatbot_id=chatbot_id))
                await self._session.flush()
        except Conflict as exc:
            if exc.code == "missing-reference":
                raise
            return False  # a concurrent request favourited it first: same outcome
        return True

    async def remove_favorite(self, user_id: str, chatbot_id: str) -> bool:
        async with atomic(self._session):
            return bool(
                await execute_update(
                    self._session,
                    delete(FavoritedChatbot).where(
                        FavoritedChatbot.user_id == user_id, FavoritedChatbot.chatbot_id == chatbot_id
                    ),
                )
            )

    async def favorites(self, user_id: str) -> list[ListedChatbot]:
        ratings = (
            select(
                Rating.chatbot_id.label("cid"),
                func.count(Rating.id).label("n"),
                func.sum(Rating.rating).label("total"),
            )
            .group_by(Rating.chatbot_id)
            .subquery()
        )
        n = func.coalesce(ratings.c.n, 0)
        rows = (
            await self._session.execute(
                select(
                    Chatbot.id,
                    Chatbot.slug,
                    Chatbot.title,
                    Chatbot.description,
                    Chatbot.type,
                    Chatbot.price_cents,
                    Chatbot.currency,
                    n.label("rating_count"),
                    case((n > 0, (func.coalesce(ratings.c.total, 0) * 1000) / n), else_=None).label(
                        "avg_milli"
                    ),
                    literal(0).label("popularity"),
                    literal(0).label("sort_key"),
                )
                .join(FavoritedChatbot, FavoritedChatbot.chatbot_id == Chatbot.id)
                .outerjoin(ratings, ratings.c.cid == Chatbot.id)
                .where(FavoritedChatbot.user_id == user_id, _live())
                .order_by(FavoritedChatbot.created_at.desc(), FavoritedChatbot.id.desc())
                .limit(500)
            )
        ).all()
        return await self._listed(rows)

    # ratings and public facts --------------------------------------------------------------
    async def rating_summary(self, chatbot_id: str, *, recent: int = 5) -> RatingSummary:
        count, total = (
            await self._session.execute(
                select(func.count(Rating.id), func.coalesce(func.sum(Rating.rating), 0)).where(
                    Rating.chatbot_id == chatbot_id
                )
            )
        ).one()
        rows = await self._session.execute(
            select(User.first_name, Rating.rating, Rating.comment, Rating.created_at)
            .join(User, User.id == Rating.user_id)
            .where(Rating.chatbot_id == chatbot_id, Rating.comment.is_not(None))
            .order_by(Rating.created_at.desc(), Rating.id.desc())
            .limit(recent)
        )
        reviews = [
            Review(author_name=first or "A Canon user", rating=stars, body=comment, published_at=at)
            for first, stars, comment, at in rows
        ]
        return RatingSummary(count=int(count), total=int(total), recent=reviews)

    async def public_facts(self, chatbot_id: str) -> PublicFacts | None:
        row = (
            await self._session.execute(
                select(
                    Chatbot.id, Chatbot.slug, Chatbot.title, Chatbot.description, Chatbot.type, ChatbotVersion
                )
                .join(ChatbotVersion, ChatbotVersion.id == Chatbot.current_version_id)
                .where(Chatbot.id == chatbot_id, _live())
            )
        ).first()
        if row is None:
            return None
        current: ChatbotVersion = row[5]
        first = await self._session.scalar(
            select(ChatbotVersion.activated_at).where(
                ChatbotVersion.chatbot_id == chatbot_id, ChatbotVersion.version_number == 1
            )
        )
        names = (
            await self._session.scalars(
                select(Creator.name)
                .join(ChatbotCreator, ChatbotCreator.creator_id == Creator.id)
                .where(ChatbotCreator.chatbot_id == chatbot_id)
                .order_by(
                    case((ChatbotCreator.role == enums.ChatbotOwnerRole.PRIMARY_OWNER, 0), else_=1),
                    Creator.name,
                )
            )
        ).all()
        modified = current.activated_at or current.created_at
        return PublicFacts(
            chatbot_id=row.id,
            slug=row.slug,
            title=row.title,
            description=row.description,
            chatbot_type=row.type.value,
            published_at=first or modified,
            modified_at=modified,
            version_number=current.version_number,
            creator_names=list(names),
        )
