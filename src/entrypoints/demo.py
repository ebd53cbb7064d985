"""The demo content: a creator whose sources are Canon's own documentation, a chatbot over them,
and a sandbox purchase of a conversation. Everything goes through the same use cases, jobs and
adapters as production (ingestion runs as jobs; the purchase goes through the sandbox processor's
signed webhook), and loading is idempotent: a second run finds what the first created.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dishka import AsyncContainer
from sqlalchemy.ext.asyncio import AsyncSession

from application.catalogue.create_creator import CreateCreator, CreateCreatorCommand
from application.catalogue.create_source import CreateSource, CreateSourceCommand
from application.catalogue.ports import CreatorRepository, SourceRepository
from application.catalogue.upload_source_file import UploadSourceFile, UploadSourceFileCommand
from application.chatbots.create_chatbot import CreateChatbot, CreateChatbotCommand
from application.chatbots.ports import ChatbotRepository
from application.chatbots.set_visibility import SetChatbotVisibility, SetChatbotVisibilityCommand
from application.identity.authenticate import UserMirror
from application.identity.ports import Claims
from application.identity.principal import Principal
from domain.catalogue import SourceType
from domain.money import Money
from entrypoints.di import build_container
from entrypoints.settings import Settings

log = logging.getLogger("canon.demo")

DEMO_EMAIL = "demo-creator@canon.local"
BUYER_EMAIL = "demo-reader@canon.local"
CREATOR_SLUG = "canon-docs"
CHATBOT_SLUG = "ask-canon"
DOCS = Path(__file__).resolve().parents[2] / "docs"
README = Path(__file__).resolve().parents[2] / "README.md"

SYSTEM_PROMPT = (
    "You are Canon's own documentation. Answer only from the passages given, cite every claim, "
    "and say so when the documentation does not cover the question."
)


@dataclass
class DemoSummary:
    creator_id: str = ""
    chatbot_slug: str = CHATBOT_SLUG
    sources: list[str] = field(default_factory=list)
    chunks_ready: int = 0
    files_failed: list[str] = field(default_factory=list)
    purchase: str = ""

    def render(self, settings: Settings) -> str:
        url = settings.effective_public_base_url
        lines = [
            "Demo content is loaded:",
            f"  creator '{CREATOR_SLUG}' ({self.creator_id}), {len(self.sources)} sources from Canon's docs",
            f"  chatbot '{self.chatbot_slug}' over them: {url}/v1/chatbots/{self.chatbot_slug}",
        ]
        if self.files_failed:
            lines.append(f"  files that failed to ingest: {', '.join(self.files_failed)}")
        if self.purchase:
            lines.append(f"  {self.purchase}")
        lines += [
            f"Sign in as the demo creator:  canon users token {DEMO_EMAIL}",
            f"Sign in as the demo reader:   canon users token {BUYER_EMAIL}",
        ]
        return "\n".join(lines)


def local_claims(email: str) -> Claims:
    from entrypoints.cli.users import local_subject

    return Claims(
        subject=local_subject(email), issuer="canon-local", expires_at=datetime.now(UTC), email=email
    )


async def _user(container: AsyncContainer, email: str) -> Principal:
    async with container() as request:
        mirror = await request.get(UserMirror)
        user = await mirror.upsert_from_claims(local_claims(email))
        await (await request.get(AsyncSession)).commit()
    return Principal.user(user.user_id)


def demo_documents() -> list[Path]:
    return [README, *sorted(p for p in DOCS.glob("*.md") if p.is_file())]


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 64 * 1024):
        yield data[start : start + 64 * 1024]


async def _catalogue(container: AsyncContainer, owner: Principal, summary: DemoSummary) -> list[str]:
    async with container() as request:
        creators = await request.get(CreatorRepository)
        creator = await creators.get_by_slug(CREATOR_SLUG)
        if creator is None:
            creator = await (await request.get(CreateCreator))(
                CreateCreatorCommand(
                    principal=owner,
                    name="Canon Docs",
                    slug=CREATOR_SLUG,
                    bio="Canon's own documentation as a creator: try the platform on text it owns.",
                )
            )
    summary.creator_id = creator.id
    source_ids: list[str] = []
    for path in demo_documents():
        title = "Canon README" if path == README else f"Canon docs: {path.stem.replace('-', ' ')}"
        async with container() as request:
            sources = await request.get(SourceRepository)
            existing = {s.title: s for s in await sources.list_by_creator(creator.id)}
            source = existing.get(title)
            if source is None:
                source = await (await request.get(CreateSource))(
                    CreateSourceCommand(
                        principal=owner, creator_id=creator.id, title=title, type=SourceType.DOCUMENT,
                        author="The Canon project", description=f"{path.name} from the Canon repository",
                    )
                )  # fmt: skip
            files = await sources.files_of(source.id)
        if not files:
            async with container() as request:
                await (await request.get(UploadSourceFile))(
                    UploadSourceFileCommand(
                        principal=owner,
                        source_id=source.id,
                        file_name=path.name,
                        content=_chunks(path.read_bytes()),
                        declared_type="text/markdown",
                    )
                )
        source_ids.append(source.id)
        summary.sources.append(title)
    return source_ids


async def _chatbot(container: AsyncContainer, owner: Principal, creator_id: str) -> str:
    async with container() as request:
        chatbot = await (await request.get(ChatbotRepository)).get_by_slug(CHATBOT_SLUG)
        if chatbot is None:
            created = await (await request.get(CreateChatbot))(
                CreateChatbotCommand(
                    principal=owner,
                    creator_id=creator_id,
                    slug=CHATBOT_SLUG,
                    settings={
                        "title": "Ask Canon",
                        "description": "Questions about Canon, answered from its docs with citations.",
                        "type": "CREATOR",
                        "system_prompt": SYSTEM_PROMPT,
                        "price_cents": 500,
                        "currency": "USD",
                        "message_allowance": 100,
                        "expiry_seconds": int(timedelta(days=30).total_seconds()),
                        "allow_anonymous": True,
                        "top_k": 6,
                    },
                )
            )
            chatbot = created.chatbot
    if not chatbot.is_public:
        async with container() as request:
            await (await request.get(SetChatbotVisibility))(
                SetChatbotVisibilityCommand(principal=owner, chatbot_id=chatbot.id, public=True)
            )
    return chatbot.id


async def _purchase(container: AsyncContainer, buyer: Principal, chatbot_id: str) -> str:
    """The demo reader buys a conversation through the sandbox processor: checkout, the signed
    webhook through the same ReceiveWebhook use case as the HTTP endpoint, and the job that
    completes the purchase and opens the conversation. Once: a reader who has one keeps it."""
    from application.conversations.ports import ConversationRepository
    from application.money.ports import PaymentGateways
    from application.money.receive_webhook import ReceiveWebhook, ReceiveWebhookCommand
    from application.money.start_checkout import StartCheckout, StartCheckoutCommand

    assert buyer.user_id is not None
    async with container() as request:
        mine = await (await request.get(ConversationRepository)).list_for_user(buyer.user_id)
    bought = [c for c in mine if c.purchase_id is not None and c.chatbot_id == chatbot_id]
    if bought:
        return f"the demo reader's bought conversation: {bought[0].id}"
    async with container() as request:
        started = await (await request.get(StartCheckout))(
            StartCheckoutCommand(principal=buyer, chatbot_id=chatbot_id)
        )
    checkout_id = started.checkout_url.rstrip("/").rsplit("/", 1)[-1]
    async with container() as request:
        sandbox = (await request.get(PaymentGateways)).get("SANDBOX")
        if sandbox is None or not hasattr(sandbox, "complete"):
            return "no sandbox purchase: the payment processor is not the sandbox"
        delivery = await sandbox.complete(checkout_id, succeed=True)
        await (await request.get(ReceiveWebhook))(
            ReceiveWebhookCommand(processor="sandbox", headers=delivery.headers, raw_body=delivery.body)
        )
    return (
        f"the demo reader bought a conversation: purchase {started.purchase_id},"
        f" {Money.of(started.amount, started.currency)} through the sandbox processor"
    )


async def load_demo(settings: Settings) -> str:
    """Creates (or finds) the demo content; returns a summary for the terminal."""
    from entrypoints.runtime import make_job_runner

    container = build_container(settings)
    summary = DemoSummary()
    try:
        owner = await _user(container, DEMO_EMAIL)
        buyer = await _user(container, BUYER_EMAIL)
        await _catalogue(container, owner, summary)
        runner = await make_job_runner(container, settings)
        await runner.run_until_idle()  # ingestion jobs: the docs become cited, searchable chunks
        chatbot_id = await _chatbot(container, owner, summary.creator_id)
        if settings.payment_processor == "sandbox":
            summary.purchase = await _purchase(container, buyer, chatbot_id)
            await runner.run_until_idle()  # the webhook job completes it and opens the conversation
    finally:
        await container.close()
    return summary.render(settings)
