"""A money rig for use-case tests: the money use cases wired on real repositories (SQLite or
PostgreSQL), the real sandbox processor (in-memory ledger) and a fake clock. Imported as a plain
module (the test directory is on sys.path)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.clock import FakeClock
from adapters.jobs.outbox import OutboxJobQueue
from adapters.payments.directory import StaticPaymentGateways
from adapters.payments.sandbox_gateway import SandboxPaymentGateway
from adapters.persistence import enums
from adapters.persistence.models import (
    Conversation,
    ConversationSourceUsage,
    OutboxMessage,
    Purchase,
    RevenuePerConversation,
)
from adapters.persistence.repositories import (
    SqlAlchemyChatbotRepository,
    SqlAlchemyConversationRepository,
    SqlAlchemyCreatorRepository,
    SqlAlchemySourceRepository,
    SqlAlchemyUserRepository,
)
from adapters.persistence.repositories.audit import SqlAuditLog
from adapters.persistence.repositories.chat import SqlPurchaseLookup
from adapters.persistence.repositories.money import (
    SqlPayoutRepository,
    SqlPurchaseRepository,
    SqlWebhookInbox,
)
from adapters.persistence.repositories.money_ledger import SqlRevenueLedger
from adapters.persistence.repositories.roles import SqlRoleResolver
from adapters.persistence.uow import SqlAlchemyUnitOfWork
from application.conversations.open_conversation import OpenConversation
from application.identity.authorizer import MatrixAuthorizer
from application.identity.principal import Principal
from application.money.attribute_conversations import AttributeConversations, AttributeConversationsCommand
from application.money.get_statement import GetStatement
from application.money.open_purchased import OpenPurchasedConversation
from application.money.ports import MoneySettings, PayoutAccount
from application.money.process_webhook import ProcessWebhook, ProcessWebhookCommand
from application.money.receive_webhook import ReceiveWebhook, ReceiveWebhookCommand
from application.money.run_payouts import RunPayouts
from application.money.start_checkout import StartCheckout, StartCheckoutCommand
from application.money.summarize_revenue import SummarizeRevenue
from application.payments.ports import WebhookDelivery
from domain.catalogue import Source, SourceType
from domain.chatbots import Chatbot, RagSettings, VersionHistory
from domain.ids import new_id
from domain.money import Money
from domain.roles import ChatbotOwnerRole, ChatbotOwners
from domain.shares import ShareSet
from domain.slug import Slug

SECRET = "whsec_money_tests"


def _load(name: str, path: Path) -> ModuleType:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


harness = _load(
    "repository_harness", Path(__file__).resolve().parents[2] / "contracts" / "repository_harness.py"
)
T0: datetime = harness.T0


@dataclass
class Seeded:
    buyer_id: str
    owner_id: str
    creator_a: str
    creator_b: str
    source_shared: str
    source_b: str
    chatbot_id: str
    version_id: str


@dataclass
class Units:
    session: AsyncSession
    uow: SqlAlchemyUnitOfWork
    receive: ReceiveWebhook
    process: ProcessWebhook
    checkout: StartCheckout
    attribute: AttributeConversations
    payouts: RunPayouts
    summarize: SummarizeRevenue
    statement: GetStatement
    ledger: SqlRevenueLedger
    payout_repo: SqlPayoutRepository


class MoneyRig:
    def __init__(
        self, engine: AsyncEngine, factory: async_sessionmaker[AsyncSession], *, platform_bps: int = 2000
    ) -> None:
        self.engine = engine
        self.factory = factory
        self.clock = FakeClock(T0 + timedelta(minutes=1))
        self.sandbox = SandboxPaymentGateway(
            public_base_url="http://127.0.0.1:9", webhook_secret=SECRET, clock=self.clock
        )
        self.gateways = StaticPaymentGateways(self.sandbox)
        self.settings = MoneySettings(
            platform_share_bps=platform_bps, refund_window_days=7, payout_minimum=100
        )

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Units]:
        async with self.factory() as s:
            uow = SqlAlchemyUnitOfWork(s)
            authorizer = MatrixAuthorizer(SqlRoleResolver(s))
            purchases = SqlPurchaseRepository(s)
            ledger = SqlRevenueLedger(s)
            payouts = SqlPayoutRepository(s)
            opener = OpenPurchasedConversation(
                OpenConversation(
                    SqlAlchemyChatbotRepository(s),
                    SqlAlchemyConversationRepository(s),
                    SqlPurchaseLookup(s),
                    authorizer,
                    self.clock,
                    uow,
                )
            )
            yield Units(
                session=s,
                uow=uow,
                receive=ReceiveWebhook(
                    self.gateways, SqlWebhookInbox(s), OutboxJobQueue(s, self.clock), self.clock, uow
                ),
                process=ProcessWebhook(
                    SqlWebhookInbox(s),
                    purchases,
                    ledger,
                    payouts,
                    self.gateways,
                    opener,
                    self.clock,
                    uow,
                    self.settings,
                ),
                checkout=StartCheckout(
                    SqlAlchemyChatbotRepository(s), purchases, self.gateways, authorizer, uow, self.settings
                ),
                attribute=AttributeConversations(
                    ledger, purchases, authorizer, self.clock, uow, self.settings
                ),
                payouts=RunPayouts(
                    ledger,
                    payouts,
                    self.gateways,
                    authorizer,
                    SqlAuditLog(s, self.clock),
                    self.clock,
                    uow,
                    self.settings,
                ),
                summarize=SummarizeRevenue(ledger, authorizer, uow),
                statement=GetStatement(ledger, authorizer),
                ledger=ledger,
                payout_repo=payouts,
            )

    # ---- world -------------------------------------------------------------------------

    async def seed(self, *, price: int = 1000, currency: str = "USD") -> Seeded:
        """Creators A and B; source "shared" split A 0.6 / B 0.4 and source "b" owned by B; a
        public chatbot selecting both at ``price``; a buyer."""
        owner = harness.a_user(f"owner-{new_id()[:8]}")
        buyer = harness.a_user(f"buyer-{new_id()[:8]}")
        creator_a = harness.a_creator(f"a-{new_id()[:8]}", owner)
        creator_b = harness.a_creator(f"b-{new_id()[:8]}", owner)
        shared = Source(
            id=new_id(),
            title="Shared book",
            type=SourceType.BOOK,
            created_by=owner.id,
            shares=ShareSet.of({creator_a.id: "0.6", creator_b.id: "0.4"}),
        )
        only_b = Source(
            id=new_id(),
            title="B's book",
            type=SourceType.BOOK,
            created_by=owner.id,
            shares=ShareSet.sole(creator_b.id),
        )
        config = harness.a_config(
            rag=RagSettings.selected([shared.id, only_b.id], top_k=4), price=Money.of(price, currency)
        )
        chatbot_id = new_id()
        history = VersionHistory(chatbot_id)
        version = history.publish(config, at=T0, by=owner.id).version
        chatbot = Chatbot(
            id=chatbot_id,
            slug=Slug(f"bot-{new_id()[:8]}"),
            type=config.type,
            owners=ChatbotOwners({creator_a.id: ChatbotOwnerRole.PRIMARY_OWNER}),
        )
        chatbot.point_to(version)
        chatbot.make_public()
        async with self.factory() as s:
            await SqlAlchemyUserRepository(s).add(owner)
            await SqlAlchemyUserRepository(s).add(buyer)
            await SqlAlchemyCreatorRepository(s).add(creator_a)
            await SqlAlchemyCreatorRepository(s).add(creator_b)
            for source in (shared, only_b):
                await SqlAlchemySourceRepository(s).add(source, effective_from=T0)
            await SqlAlchemyChatbotRepository(s).add(chatbot, version)
            await SqlAlchemyUnitOfWork(s).commit()
        return Seeded(
            buyer_id=buyer.id,
            owner_id=owner.id,
            creator_a=creator_a.id,
            creator_b=creator_b.id,
            source_shared=shared.id,
            source_b=only_b.id,
            chatbot_id=chatbot_id,
            version_id=version.id,
        )

    # ---- steps -------------------------------------------------------------------------

    async def start_checkout(self, world: Seeded) -> tuple[str, str]:
        async with self.unit() as u:
            started = await u.checkout(
                StartCheckoutCommand(principal=Principal.user(world.buyer_id), chatbot_id=world.chatbot_id)
            )
        checkout_id = started.checkout_url.rsplit("/", 1)[1]
        return started.purchase_id, checkout_id

    async def deliver(self, delivery: WebhookDelivery) -> tuple[str, bool]:
        async with self.unit() as u:
            received = await u.receive(
                ReceiveWebhookCommand(processor="sandbox", headers=delivery.headers, raw_body=delivery.body)
            )
        return received.inbox_id, received.duplicate

    async def process(self, inbox_id: str) -> Any:
        async with self.unit() as u:
            return await u.process(ProcessWebhookCommand(inbox_id=inbox_id))

    async def deliver_and_process(self, delivery: WebhookDelivery) -> Any:
        inbox_id, _ = await self.deliver(delivery)
        return await self.process(inbox_id)

    async def pending_sandbox_events(self) -> list[WebhookDelivery]:
        """The webhooks the sandbox queued (refunds, disputes, payouts), signed now; dequeued."""
        deliveries = []
        for event in self.sandbox.pending_events():
            deliveries.append(self.sandbox.sign(event))
            self.sandbox.ledger.remove_from_outbox(event["id"])
        return deliveries

    async def buy(self, world: Seeded) -> tuple[str, str]:
        """Checkout, pay, deliver and process the webhook: (purchase id, conversation id)."""
        purchase_id, checkout_id = await self.start_checkout(world)
        outcome = await self.deliver_and_process(await self.sandbox.complete(checkout_id, succeed=True))
        assert outcome.conversation_id is not None
        return purchase_id, outcome.conversation_id

    async def use_and_end(
        self, conversation_id: str, tokens: dict[str, int], *, ended_at: datetime | None = None
    ) -> None:
        """Records the sources' token usage and ends the conversation (as chat would)."""
        at = ended_at or self.clock.now()
        async with self.factory() as s:
            for source_id, total in tokens.items():
                s.add(
                    ConversationSourceUsage(
                        conversation_id=conversation_id,
                        source_id=source_id,
                        total_tokens=total,
                        message_count=1,
                        first_used_at=at,
                        last_used_at=at,
                    )
                )
            await s.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(
                    status=enums.ConversationStatus.COMPLETED,
                    completed_at=at,
                    ended_at=at,
                    messages_used=Conversation.message_allowance,
                )
            )
            await s.commit()

    async def attribute(self) -> Any:
        async with self.unit() as u:
            return await u.attribute(AttributeConversationsCommand(limit=1000))

    async def set_payout_account(self, creator_id: str, destination: str = "acct_sbx_ok") -> None:
        async with self.unit() as u:
            await u.payout_repo.set_account(
                PayoutAccount(
                    id=new_id(),
                    creator_id=creator_id,
                    processor="SANDBOX",
                    external_account_id=destination,
                    payouts_enabled=True,
                )
            )
            await u.uow.commit()

    # ---- reading -----------------------------------------------------------------------

    async def rows(self, **where: Any) -> list[RevenuePerConversation]:
        async with self.factory() as s:
            stmt = select(RevenuePerConversation).order_by(RevenuePerConversation.id)
            for name, value in where.items():
                stmt = stmt.where(getattr(RevenuePerConversation, name) == value)
            return list(await s.scalars(stmt))

    async def purchase(self, purchase_id: str) -> Purchase:
        async with self.factory() as s:
            row = await s.get(Purchase, purchase_id)
            assert row is not None
            return row

    async def conversation(self, conversation_id: str) -> Conversation:
        async with self.factory() as s:
            row = await s.get(Conversation, conversation_id)
            assert row is not None
            return row

    async def outbox_jobs(self, name: str) -> int:
        async with self.factory() as s:
            return int(
                await s.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == name)
                )
                or 0
            )

    def creators_total(self, rows: list[RevenuePerConversation]) -> int:
        return sum(r.amount_cents for r in rows)

    @staticmethod
    def share(value: str) -> Decimal:
        return Decimal(value)


def with_price(rig: MoneyRig, **changes: Any) -> MoneySettings:
    return replace(rig.settings, **changes)
