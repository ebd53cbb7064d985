"""Row builders for the persistence tests: the smallest valid rows, committed, with ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.enums import ChatbotType, PaymentProcessor, SourceType
from adapters.persistence.models import (
    Base,
    Chatbot,
    ChatbotVersion,
    Conversation,
    Creator,
    Purchase,
    Source,
    SourceCreator,
    User,
)
from domain.ids import new_id

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Rows:
    """Adds rows in their own committed transactions and returns them."""

    factory: async_sessionmaker[AsyncSession]

    async def add(self, *rows: Base) -> None:
        async with self.factory() as s:
            s.add_all(rows)
            await s.commit()

    async def user(self, **kw: Any) -> User:
        row = User(clerk_id=f"sub-{new_id()}", email="someone@example.com", **kw)
        await self.add(row)
        return row

    async def creator(self, **kw: Any) -> Creator:
        row = Creator(name="Ada", slug=f"ada-{new_id()}", **kw)
        await self.add(row)
        return row

    def chatbot(self, *, type: ChatbotType = ChatbotType.FRAMEWORK, persona: str | None = None) -> Chatbot:
        return Chatbot(
            slug=f"bot-{new_id()}",
            title="Bot",
            system_prompt="Answer from the sources.",
            model_provider="offline",
            model_name="echo",
            pinecone_ns="ns",
            vector_namespace="ns",
            price_cents=500,
            currency="USD",
            type=type,
            persona_creator_id=persona,
        )

    async def source(self, user: User, creator: Creator, share: Decimal | None = Decimal("1")) -> Source:
        source = Source(title="A book", type=SourceType.BOOK, created_by_user_id=user.id)
        await self.add(source)
        await self.add(
            SourceCreator(
                source_id=source.id, creator_id=creator.id, added_by_user_id=user.id, revenue_share=share
            )
        )
        return source

    async def conversation(self, user: User) -> tuple[Chatbot, ChatbotVersion, Conversation]:
        bot = self.chatbot()
        await self.add(bot)
        version = ChatbotVersion(
            chatbot_id=bot.id,
            version_number=1,
            title=bot.title,
            system_prompt=bot.system_prompt,
            model_provider="offline",
            model_name="echo",
            pinecone_ns="ns",
            vector_namespace="ns",
            price_cents=500,
            currency="USD",
            type=bot.type,
            created_by_user_id=user.id,
        )
        await self.add(version)
        conversation = Conversation(
            chatbot_id=bot.id,
            chatbot_version_id=version.id,
            user_id=user.id,
            message_allowance=100,
            expires_at=NOW + timedelta(days=7),
        )
        await self.add(conversation)
        return bot, version, conversation

    def purchase(
        self, user: User, bot: Chatbot, *, processor: PaymentProcessor, external_id: str
    ) -> Purchase:
        return Purchase(
            purchaser_user_id=user.id,
            chatbot_id=bot.id,
            payment_processor=processor,
            external_payment_id=external_id,
            processing_fee_cents=45,
            currency="USD",
            amount_cents=500,
            net_amount_cents=455,
        )
