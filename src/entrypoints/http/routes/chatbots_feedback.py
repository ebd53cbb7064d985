"""Ratings and reports over HTTP; both pin the chatbot and the version they are about."""

from __future__ import annotations

from typing import Annotated

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import post
from litestar.params import JSONBody

from application.chatbots.rate_conversation import RateConversation, RateConversationCommand
from application.chatbots.report_chatbot import ReportChatbot, ReportChatbotCommand
from application.identity.principal import Principal

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class RatingBody(msgspec.Struct, forbid_unknown_fields=True):
    stars: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=5000)] | None = None
    hours_saved: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | None = None
    trigger: Annotated[str, msgspec.Meta(pattern="^[A-Z_]{1,32}$")] = "INLINE_RATING"


class RatingOut(msgspec.Struct):
    id: str
    chatbot_id: str
    chatbot_version_id: str


class ReportBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(pattern="^[A-Z_]{1,32}$")]
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    conversation_id: Id | None = None
    message_id: Id | None = None


class ReportOut(msgspec.Struct):
    id: str
    chatbot_id: str
    chatbot_version_id: str
    status: str


@post(
    "/v1/conversations/{conversation_id:str}/rating",
    tags=["chatbots"],
    summary="Rate a conversation",
    status_code=201,
    description=RateConversation.__doc__,
)
@inject
async def rate(
    conversation_id: str,
    data: JSONBody[RatingBody],
    principal: FromDishka[Principal],
    uc: FromDishka[RateConversation],
) -> RatingOut:
    result = await uc(
        RateConversationCommand(
            principal=principal,
            conversation_id=conversation_id,
            stars=data.stars,
            comment=data.comment,
            hours_saved=data.hours_saved,
            trigger=data.trigger,
        )
    )
    return RatingOut(id=result.id, chatbot_id=result.chatbot_id, chatbot_version_id=result.chatbot_version_id)


@post(
    "/v1/chatbots/{chatbot_id:str}/reports",
    tags=["chatbots"],
    summary="Report a chatbot",
    status_code=201,
    description=ReportChatbot.__doc__,
)
@inject
async def report(
    chatbot_id: str,
    data: JSONBody[ReportBody],
    principal: FromDishka[Principal],
    uc: FromDishka[ReportChatbot],
) -> ReportOut:
    result = await uc(
        ReportChatbotCommand(
            principal=principal,
            chatbot_id=chatbot_id,
            reason=data.reason,
            description=data.description,
            conversation_id=data.conversation_id,
            message_id=data.message_id,
        )
    )
    return ReportOut(
        id=result.id,
        chatbot_id=result.chatbot_id,
        chatbot_version_id=result.chatbot_version_id,
        status=result.status,
    )


HANDLERS = [rate, report]
