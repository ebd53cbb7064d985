"""Conversations and chat: the answer model chosen from Settings, the chat's repositories and
the conversation use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.repositories.chat import (
    SqlChatLog,
    SqlConversationFiles,
    SqlPromptReader,
    SqlPurchaseLookup,
    SqlSourceDirectory,
    SqlUserKnowledge,
)
from application.catalogue.blobs import BlobStore
from application.chat.model_port import AnswerModel
from application.chat.pricing import ModelPricing
from application.chatbots.ports import ChatbotRepository
from application.conversations.archive_conversation import ArchiveConversation
from application.conversations.attach_file import AttachFile
from application.conversations.chat_ports import (
    ChatLog,
    ConversationFiles,
    PromptReader,
    PurchaseLookup,
    SourceDirectory,
    UserKnowledge,
)
from application.conversations.expire_conversations import ExpireConversations
from application.conversations.get_conversation import GetConversation
from application.conversations.list_conversations import ListConversations
from application.conversations.open_conversation import OpenConversation
from application.conversations.pinned_versions import PinnedVersions
from application.conversations.ports import ConversationRepository
from application.conversations.send_message import SendMessage
from application.identity.ports import Authorizer
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from application.retrieval.ports import Embedder, VectorIndex
from entrypoints.settings import Settings


class SendMessageFactory(SendMessage):
    """The plain use case, before the request-scope wrapper that settles unfinished turns."""


def build_answer_model(settings: Settings, provider: str) -> AnswerModel:
    """One adapter per provider name; keys and base urls come from Settings (validated there)."""
    if provider == "anthropic":
        from adapters.llm.anthropic_model import AnthropicAnswerModel

        return AnthropicAnswerModel(
            api_key=settings.anthropic_api_key,
            base_url=settings.anthropic_base_url or None,
            timeout_seconds=settings.llm_timeout_seconds,
        )
    if provider == "openai":
        from adapters.llm.openai_model import OpenAIAnswerModel

        return OpenAIAnswerModel(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url or None,
            timeout_seconds=settings.llm_timeout_seconds,
        )
    from adapters.llm.extractive_model import ExtractiveAnswerModel

    return ExtractiveAnswerModel()


async def _close(model: object) -> None:
    close = getattr(model, "close", None)
    if close is not None:
        await close()


class ChatProvider(Provider):
    @provide(scope=Scope.APP)
    async def answer_model(self, settings: Settings) -> AsyncIterator[AnswerModel]:
        primary = build_answer_model(settings, settings.llm_provider)
        if not settings.llm_fallback:
            yield primary
            await _close(primary)
            return
        from adapters.llm.fallback_model import FallbackAnswerModel

        fallback = build_answer_model(settings, settings.llm_fallback)
        yield FallbackAnswerModel(primary, fallback)
        await _close(primary)
        await _close(fallback)

    @provide(scope=Scope.APP)
    def pricing(self) -> ModelPricing:
        return ModelPricing()

    @provide(scope=Scope.APP)
    def pinned_versions(self) -> PinnedVersions:
        # one per process: version configs never change (see the module)
        return PinnedVersions()

    chat_log = provide(SqlChatLog, scope=Scope.REQUEST, provides=ChatLog)
    knowledge = provide(SqlUserKnowledge, scope=Scope.REQUEST, provides=UserKnowledge)
    directory = provide(SqlSourceDirectory, scope=Scope.REQUEST, provides=SourceDirectory)
    purchases = provide(SqlPurchaseLookup, scope=Scope.REQUEST, provides=PurchaseLookup)

    @provide(scope=Scope.REQUEST)
    def conversation_files(self, session: AsyncSession, blobs: BlobStore) -> ConversationFiles:
        return SqlConversationFiles(session, blobs.read)

    @provide(scope=Scope.REQUEST)
    def prompt_reader(self, session: AsyncSession, blobs: BlobStore) -> PromptReader:
        # one statement for the history, the user's context and attached files of a turn
        return SqlPromptReader(session, blobs.read)

    open_conversation = provide(OpenConversation, scope=Scope.REQUEST)

    @provide(scope=Scope.REQUEST)
    def send_message_factory(
        self,
        conversations: ConversationRepository,
        chatbots: ChatbotRepository,
        chat_log: ChatLog,
        prompt: PromptReader,
        directory: SourceDirectory,
        embedder: Embedder,
        index: VectorIndex,
        model: AnswerModel,
        pricing: ModelPricing,
        authorizer: Authorizer,
        clock: Clock,
        uow: UnitOfWork,
        versions: PinnedVersions,
    ) -> SendMessageFactory:
        # The raw index: the turn keeps only chunks of active READY files itself, from the same
        # read as its prompt material (application/ingestion/visible_index.py).
        return SendMessageFactory(
            conversations, chatbots, chat_log, prompt, directory, embedder, index, model,
            pricing, authorizer, clock, uow, versions=versions,
        )  # fmt: skip

    @provide(scope=Scope.REQUEST)
    async def send_message(self, made: SendMessageFactory) -> AsyncIterator[SendMessage]:
        # A streamed turn outlives its handler; when the request ends (stream done, client gone
        # before the first byte, or a handler error) any unfinished turn gives its message back.
        yield made
        await made.close_unfinished()

    expire_conversations = provide(ExpireConversations, scope=Scope.REQUEST)
    archive_conversation = provide(ArchiveConversation, scope=Scope.REQUEST)
    get_conversation = provide(GetConversation, scope=Scope.REQUEST)
    list_conversations = provide(ListConversations, scope=Scope.REQUEST)
    attach_file = provide(AttachFile, scope=Scope.REQUEST)
