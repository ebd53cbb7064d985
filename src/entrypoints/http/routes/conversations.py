"""Conversations and chat: open, list, read, send (JSON or server-sent events), archive, attach."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import get, post
from litestar.params import JSONBody, Parameter
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from application.conversations.archive_conversation import ArchiveConversation, ArchiveConversationCommand
from application.conversations.attach_file import AttachFile, AttachFileCommand
from application.conversations.chat_ports import StoredMessage
from application.conversations.get_conversation import GetConversation, GetConversationQuery
from application.conversations.list_conversations import ListConversations, ListConversationsQuery
from application.conversations.open_conversation import OpenConversation, OpenConversationCommand
from application.conversations.send_message import MAX_QUESTION_CHARS, SendMessage, SendMessageCommand
from application.conversations.turn_events import CitationEvent, DoneEvent, ErrorEvent, TokenEvent, TurnEvent
from application.errors import ExternalServiceError, InvalidInput
from application.identity.principal import Principal
from domain.conversations import Conversation
from domain.ids import is_id

TAGS = ["conversations"]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Content = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_QUESTION_CHARS)]
Limit = Annotated[int, Parameter(ge=1, le=100)]


class OpenBody(msgspec.Struct, forbid_unknown_fields=True):
    purchase_id: Id | None = None


class MessageBody(msgspec.Struct, forbid_unknown_fields=True):
    content: Content


class AttachBody(msgspec.Struct, forbid_unknown_fields=True):
    file_id: Id


class ConversationOut(msgspec.Struct):
    id: str
    chatbot_id: str
    chatbot_version_id: str
    status: str
    message_allowance: int
    messages_used: int
    messages_remaining: int
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    purchase_id: str | None
    input_tokens: int
    output_tokens: int


class MessageOut(msgspec.Struct):
    id: str
    role: str
    content: str
    token_count: int
    created_at: datetime
    attribution: dict[str, Any] | None = None


class ConversationPageOut(msgspec.Struct):
    items: list[ConversationOut]
    next_cursor: str | None


class ConversationDetailOut(msgspec.Struct):
    conversation: ConversationOut
    messages: list[MessageOut]
    next_cursor: str | None


class CitationOut(msgspec.Struct):
    chunk_id: str
    source_id: str
    page: int | None = None
    timestamp: float | None = None
    quote: str | None = None


class AnswerOut(msgspec.Struct):
    conversation_id: str
    user_message_id: str
    message_id: str
    content: str
    citations: list[CitationOut]
    attribution: dict[str, Any]
    input_tokens: int
    output_tokens: int
    messages_used: int
    messages_remaining: int
    status: str
    stop_reason: str


def _out(c: Conversation) -> ConversationOut:
    return ConversationOut(
        id=c.id,
        chatbot_id=c.chatbot_id,
        chatbot_version_id=c.version_id,
        status=c.status.value,
        message_allowance=c.allowance.allowance,
        messages_used=c.messages_used,
        messages_remaining=c.allowance.remaining,
        started_at=c.started_at,
        expires_at=c.expires_at,
        ended_at=c.ended_at,
        purchase_id=c.purchase_id,
        input_tokens=c.input_tokens,
        output_tokens=c.output_tokens,
    )


def _message(m: StoredMessage) -> MessageOut:
    return MessageOut(
        id=m.id,
        role=m.role,
        content=m.content,
        token_count=m.token_count,
        created_at=m.created_at,
        attribution=dict(m.attribution) if m.attribution is not None else None,
    )


def _cursor(last_id: str | None) -> str | None:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=") if last_id else None


def _after(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if not is_id(decoded):
        raise InvalidInput("Invalid cursor.", errors={"cursor": "not a cursor this API issued"})
    return decoded


@post(
    "/v1/chatbots/{chatbot_id:str}/conversations",
    tags=TAGS,
    summary="Open a conversation",
    status_code=201,
    description=OpenConversation.__doc__,
)
@inject
async def open_conversation(
    chatbot_id: str,
    principal: FromDishka[Principal],
    uc: FromDishka[OpenConversation],
    data: JSONBody[OpenBody | None] = None,
) -> ConversationOut:
    # the body is optional: a free or anonymous conversation needs nothing but the chatbot
    purchase_id = data.purchase_id if data is not None else None
    opened = await uc(
        OpenConversationCommand(principal=principal, chatbot_id=chatbot_id, purchase_id=purchase_id)
    )
    return _out(opened.conversation)


@get("/v1/conversations", tags=TAGS, summary="My conversations", description=ListConversations.__doc__)
@inject
async def list_conversations(
    principal: FromDishka[Principal],
    uc: FromDishka[ListConversations],
    limit: Limit = 20,
    cursor: str | None = None,
) -> ConversationPageOut:
    page = await uc(ListConversationsQuery(principal=principal, limit=limit, before_id=_after(cursor)))
    return ConversationPageOut(items=[_out(c) for c in page.items], next_cursor=_cursor(page.next_before_id))


@get(
    "/v1/conversations/{conversation_id:str}",
    tags=TAGS,
    summary="A conversation and its messages",
    description=GetConversation.__doc__,
)
@inject
async def get_conversation(
    conversation_id: str,
    principal: FromDishka[Principal],
    uc: FromDishka[GetConversation],
    limit: Limit = 50,
    cursor: str | None = None,
) -> ConversationDetailOut:
    view = await uc(
        GetConversationQuery(
            principal=principal, conversation_id=conversation_id, limit=limit, after_message_id=_after(cursor)
        )
    )
    last = view.messages[-1].id if view.has_more and view.messages else None
    return ConversationDetailOut(
        conversation=_out(view.conversation),
        messages=[_message(m) for m in view.messages],
        next_cursor=_cursor(last),
    )


@post(
    "/v1/conversations/{conversation_id:str}/messages",
    tags=TAGS,
    summary="Send a message (JSON answer)",
    status_code=200,
    description=SendMessage.__doc__,
)
@inject
async def send_message(
    conversation_id: str,
    data: JSONBody[MessageBody],
    principal: FromDishka[Principal],
    uc: FromDishka[SendMessage],
) -> AnswerOut:
    turn = await uc(
        SendMessageCommand(principal=principal, conversation_id=conversation_id, content=data.content)
    )
    citations: list[CitationOut] = []
    async for event in turn.events():
        if isinstance(event, CitationEvent):
            citations.append(CitationOut(**asdict(event)))
        elif isinstance(event, ErrorEvent):
            raise ExternalServiceError(event.message, code=event.code)
        elif isinstance(event, DoneEvent):
            return AnswerOut(citations=citations, **asdict(event))
    raise ExternalServiceError("the answer ended without a result", code="llm-bad-response")


def _sse(event: TurnEvent) -> ServerSentEventMessage:
    if isinstance(event, TokenEvent):
        data: Any = {"text": event.text}
    else:
        data = asdict(event)
    return ServerSentEventMessage(event=event.event, data=json.dumps(data, ensure_ascii=False, default=str))


@post(
    "/v1/conversations/{conversation_id:str}/messages/stream",
    tags=TAGS,
    summary="Send a message (server-sent events)",
    status_code=200,
    description=(
        "Streams the answer as server-sent events: `token` (text), `citation` (chunk, source, page or "
        "timestamp), then `done` (the stored message ids, attribution, token usage, messages left) or "
        "`error` (code, message; nothing was consumed). Refusals (409) come before the stream starts."
    ),
)
@inject
async def stream_message(
    conversation_id: str,
    data: JSONBody[MessageBody],
    principal: FromDishka[Principal],
    uc: FromDishka[SendMessage],
) -> ServerSentEvent:
    turn = await uc(
        SendMessageCommand(principal=principal, conversation_id=conversation_id, content=data.content)
    )

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        async for event in turn.events():
            yield _sse(event)

    return ServerSentEvent(events())


@post(
    "/v1/conversations/{conversation_id:str}/archive",
    tags=TAGS,
    summary="Archive a conversation",
    status_code=200,
    description=ArchiveConversation.__doc__,
)
@inject
async def archive_conversation(
    conversation_id: str, principal: FromDishka[Principal], uc: FromDishka[ArchiveConversation]
) -> ConversationOut:
    return _out(await uc(ArchiveConversationCommand(principal=principal, conversation_id=conversation_id)))


@post(
    "/v1/conversations/{conversation_id:str}/files",
    tags=TAGS,
    summary="Attach my own file",
    status_code=200,
    description=AttachFile.__doc__,
)
@inject
async def attach_file(
    conversation_id: str,
    data: JSONBody[AttachBody],
    principal: FromDishka[Principal],
    uc: FromDishka[AttachFile],
) -> AttachBody:
    await uc(AttachFileCommand(principal=principal, conversation_id=conversation_id, file_id=data.file_id))
    return data


HANDLERS = [
    open_conversation,
    list_conversations,
    get_conversation,
    send_message,
    stream_message,
    archive_conversation,
    attach_file,
]
