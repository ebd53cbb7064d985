"""SendMessage: one chat turn, streamed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import NoReturn

from application.chat.model_port import AnswerModel, AnswerRequest, ChatTurn
from application.chat.pricing import ModelPricing
from application.chatbots.ports import ChatbotRepository
from application.conversations import turn_building as build
from application.conversations.chat_ports import ChatLog, PromptReader, SourceDirectory
from application.conversations.pinned_versions import PinnedVersions
from application.conversations.ports import ConversationGuard, ConversationRepository
from application.conversations.turn_stream import PreparedTurn, TurnRecorder
from application.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Participants, Principal, Resource
from application.ingestion.visible_index import search_width, visible_hits
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from application.retrieval.ports import Embedder, SearchHit, VectorIndex
from domain.chatbots import ChatbotConfig, ChatbotType
from domain.conversations import Conversation, ConversationStatus

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 8_000
DEFAULT_CONVERSATION_TOKEN_CAP = 50_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SendMessageCommand:
    principal: Principal
    conversation_id: str
    content: str


class SendMessage:
    """Answers one user message from the conversation's pinned chatbot version.

    - Refused with 409, nothing kept and nothing spent, when the conversation is not ACTIVE
      (``conversation-completed``/``-archived``/...), has expired (``conversation-expired``,
      and the expiry is saved), has no allowance left (``message-allowance-exhausted``), has
      used its token cap (``conversation-token-cap-reached``; the version's, else 50k), or the
      user used their daily cap (``daily-token-cap-reached``).
    - The message is reserved first, by one guarded update that applies by itself and returns
      the conversation (nothing is read before it, and no transaction is held open): of
      concurrent sends for the last message exactly one wins; the others get a 409
      (``conversation-completed``, ``message-allowance-exhausted`` or ``message-conflict``)
      and never retrieve anything or call the model. Whatever refuses or fails after it, before
      the model is called (a cap, a failing search), gives the message back.
    - Retrieval searches only the version's sources (its selection, or its owners' sources).
    - The prompt: the version's system prompt, the user's visible unexpired context, attached
      files, the history trimmed to a token budget, the retrieved chunks numbered for citation.
    - When the answer completes, one transaction stores both messages (attribution and
      generation context on the answer), source usage per source (tokens of its chunks in the
      context), the conversation's and the user's daily token counts and the call's cost.
    - A failed or cancelled answer gives the reserved message back and records nothing.
    """

    def __init__(
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
        *,
        versions: PinnedVersions | None = None,
    ) -> None:
        self._conversations = conversations
        self._chatbots = chatbots
        self._log = chat_log
        self._prompt = prompt
        self._directory = directory
        self._embedder = embedder
        self._index = index
        self._model = model
        self._pricing = pricing
        self._authorizer = authorizer
        self._clock = clock
        self._uow = uow
        self._versions = versions if versions is not None else PinnedVersions()
        self._turns: list[TurnRecorder] = []

    async def __call__(self, command: SendMessageCommand) -> TurnRecorder:
        question = command.content.strip()
        if not question or len(question) > MAX_QUESTION_CHARS:
            raise InvalidInput(
                "Invalid message.", errors={"content": f"must be 1..{MAX_QUESTION_CHARS} characters"}
            )
        principal = command.principal
        # Until the reservation is done, every statement stands on its own: nothing is locked
        # across them (on SQLite a transaction would hold the one write lock through the
        # search), and the reservation is one guarded update that applies by itself.
        await self._uow.autocommit()
        # Reserve first: one statement takes the message and reads the conversation, if it is
        # open, has a message left and is the caller's. Only a refusal reads more, to say why.
        conversation = await self._reserve(command.conversation_id, principal)
        if conversation is None:
            await self._refuse(command.conversation_id, principal)
        try:
            # The matrix stays the authority: the reservation's owner rule is what it allows.
            await self._authorizer.require(
                principal, Action.CONVERSATION_SEND_MESSAGE, _resource(conversation)
            )
            config = await self._versions.config_of(conversation.version_id, self._chatbots)
            if config is None:
                raise NotFound("chatbot version not found", code="chatbot-version-not-found")
            subject = _subject(conversation)
            await self._check_caps(conversation, config, subject)
            turn = await self._prepare(conversation, config, question, conversation.messages_used, subject)
        except BaseException:
            # Refused or failed before the model was called: the message goes back.
            await asyncio.shield(self._give_back(conversation))
            raise
        # The reservation is durable before the model streams: no lock (SQLite's write lock, a
        # pooled connection) is held while it does, and concurrent sends see it. This only ends
        # the statement-by-statement mode: there is nothing left to commit.
        await self._uow.commit()
        recorder = TurnRecorder(
            turn,
            model=self._model,
            conversations=self._conversations,
            log_=self._log,
            pricing=self._pricing,
            clock=self._clock,
            uow=self._uow,
        )
        self._turns.append(recorder)
        return recorder

    async def close_unfinished(self) -> None:
        """Releases the reservation of every turn of this request that did not finish (the
        composition root calls it when the request scope ends)."""
        turns, self._turns = self._turns, []
        for turn in turns:
            await turn.close()

    def _model_for(self, config: ChatbotConfig) -> str | None:
        """The version's model when it names the configured provider's model; otherwise the
        deployment's default (a version written for another provider still gets answered)."""
        return config.model_name if _provider_of(self._model) == config.model_provider else None

    async def _reserve(self, conversation_id: str, principal: Principal) -> Conversation | None:
        """The guarded update that takes one message. It applies by itself, so once sent it
        stands even if this task is cancelled while waiting for its answer: it is then waited
        for, and a reservation it made is given back before the cancellation goes on."""
        update = asyncio.ensure_future(
            self._conversations.reserve_message(
                conversation_id,
                user_id=principal.user_id,
                anonymous_id=principal.anonymous_id,
                at=self._clock.now(),
            )
        )
        try:
            return await asyncio.shield(update)
        except asyncio.CancelledError:
            reserved = await update
            if reserved is not None:
                await self._give_back(reserved)
            raise

    async def _give_back(self, reserved: Conversation) -> None:
        """Undoes this turn's reservation (only while the count is still the reserved one). It
        runs while another error is on its way, so its own failure is logged, not raised: the
        message then stays used, never counted twice."""
        try:
            await self._uow.rollback()
            await self._log.release_message(reserved.id, reserved_used=reserved.messages_used)
            await self._uow.commit()
        except Exception:
            log.exception("could not give back the reserved message of %s", reserved.id)

    async def _refuse(self, conversation_id: str, principal: Principal) -> NoReturn:
        """Says why no message was taken, from the conversation as it is now: 404 when it is
        missing or not the caller's (exactly alike), else the 409 of its state (an expiry that
        is due is saved), else ``message-conflict``: it changed between the two statements."""
        conversation = await self._conversations.get(conversation_id)
        resource = (
            _resource(conversation) if conversation is not None else Resource.conversation(conversation_id)
        )
        await self._authorizer.require(principal, Action.CONVERSATION_SEND_MESSAGE, resource)
        if conversation is None:
            raise NotFound("conversation not found", code="conversation-not-found")
        await self._refuse_if_closed(conversation)
        raise Conflict(
            "another message was sent at the same time; reload the conversation", code="message-conflict"
        )

    async def _search(self, question: str, source_ids: Collection[str], top_k: int) -> list[SearchHit]:
        """The raw index's best ``search_width(top_k)`` hits (``visible_hits`` keeps the
        searchable ones)."""
        if not source_ids:
            return []
        query = await self._embedder.embed_query(question)
        try:
            return await self._index.search(query, source_ids=source_ids, top_k=search_width(top_k))
        except ServiceUnavailable as exc:
            # Nothing was ever indexed (the collection is made by the first ingestion): the
            # truthful answer is "no passages", not an outage.
            if exc.code != "vector-collection-missing":
                raise
            return []

    async def _refuse_if_closed(self, conversation: Conversation) -> None:
        guard = ConversationGuard.of(conversation)
        if conversation.expire_if_due(self._clock.now()):
            await self._uow.rollback()  # the expiry is saved in a transaction of its own
            if await self._conversations.save(conversation, guard=guard):
                await self._uow.commit()
            raise Conflict("this conversation has expired", code="conversation-expired")
        if conversation.status is not ConversationStatus.ACTIVE:
            raise Conflict(
                f"this conversation is {conversation.status.value.lower()}",
                code=f"conversation-{conversation.status.value.lower()}",
            )
        if conversation.is_exhausted:
            raise Conflict("all messages of this conversation are used", code="message-allowance-exhausted")

    async def _check_caps(self, conversation: Conversation, config: ChatbotConfig, subject: str) -> None:
        cap = config.conversation_token_cap or DEFAULT_CONVERSATION_TOKEN_CAP
        if conversation.total_tokens >= cap:
            raise Conflict(f"this conversation used its {cap} tokens", code="conversation-token-cap-reached")
        daily = config.daily_user_token_cap
        if daily is not None:
            used = await self._log.daily_tokens(subject, self._clock.now().date())
            if used >= daily:
                raise Conflict(f"you used today's {daily} tokens", code="daily-token-cap-reached")

    async def _prepare(
        self, conversation: Conversation, config: ChatbotConfig, question: str, reserved: int, subject: str
    ) -> PreparedTurn:
        source_ids = config.rag.resolve(
            await self._directory.creator_source_ids(conversation.chatbot_id)
            if not config.rag.source_ids
            else ()
        )
        found = await self._search(question, source_ids, config.rag.top_k)
        # One read for everything else the prompt needs, the passages' facts included.
        material = await self._prompt.prompt_material(
            conversation.id,
            user_id=conversation.user_id,
            chatbot_id=conversation.chatbot_id,
            now=self._clock.now(),
            history_limit=build.HISTORY_MESSAGES,
            passage_source_ids={hit.source_id for hit in found},
        )
        hits = visible_hits(found, material.searchable_file_ids, config.rag.top_k)
        owners = material.owners
        user_context, files = material.user_context, material.files
        history = build.trim_history(material.history)
        cap = config.conversation_token_cap or DEFAULT_CONVERSATION_TOKEN_CAP
        remaining = max(1, cap - conversation.total_tokens)
        request = AnswerRequest(
            system_prompt=build.system_prompt(config.system_prompt, user_context, files),
            messages=(*history, ChatTurn(role="user", content=question)),
            context=build.context_chunks(hits, owners),
            max_output_tokens=min(config.max_output_tokens, remaining),
            model=self._model_for(config),
            advisor_board=config.type is ChatbotType.ADVISOR_BOARD,
        )
        return PreparedTurn(
            conversation=conversation,
            reserved_used=reserved,
            question=question,
            sender_user_id=conversation.user_id,
            daily_subject=subject,
            request=request,
            hits=hits,
            owners=owners,
            user_context=user_context,
            files=files,
            top_k=config.rag.top_k,
            source_count=len(source_ids),
        )


def _provider_of(model: AnswerModel) -> str | None:
    provider = getattr(model, "provider", None)
    return provider if isinstance(provider, str) else None


def _resource(conversation: Conversation) -> Resource:
    """The conversation with its participants, read already: authorized without a read."""
    participants = Participants(user_id=conversation.user_id, anonymous_id=conversation.anonymous_id)
    return Resource.conversation(conversation.id, participants=participants)


def _subject(conversation: Conversation) -> str:
    return f"user:{conversation.user_id}" if conversation.user_id else f"anon:{conversation.anonymous_id}"
