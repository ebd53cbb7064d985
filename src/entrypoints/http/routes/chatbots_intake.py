"""Intake over HTTP: a chatbot's questions, defined by its owners and answered by its users."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import get, post
from litestar.params import JSONBody

from application.chatbots.define_intake_question import DefineIntakeQuestion, DefineIntakeQuestionCommand
from application.chatbots.get_intake_form import GetIntakeForm, GetIntakeFormQuery
from application.chatbots.intake import IntakeQuestion
from application.chatbots.submit_intake import SubmitIntake, SubmitIntakeCommand
from application.identity.principal import Principal

TAGS = ["chatbots"]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class QuestionBody(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    type: Annotated[str, msgspec.Meta(pattern="^(TEXT|NUMBER|SELECT|MULTI_SELECT|FILE|DATE|BOOLEAN)$")]
    display_order: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0
    required: bool = False
    helper_text: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    options: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=200)]], msgspec.Meta(max_length=50)
    ] = []


class QuestionOut(msgspec.Struct):
    id: str
    slug: str
    text: str
    type: str
    display_order: int
    required: bool
    helper_text: str | None
    options: list[str]


class FormOut(msgspec.Struct):
    questions: list[QuestionOut]
    prefilled: dict[str, Any]


class AnswersBody(msgspec.Struct, forbid_unknown_fields=True):
    answers: Annotated[dict[Slug, Any], msgspec.Meta(max_length=100)]
    reusable: Annotated[list[Slug], msgspec.Meta(max_length=100)] = []


class AnswerOut(msgspec.Struct):
    slug: str
    value: Any
    reusable: bool


def question_out(q: IntakeQuestion) -> QuestionOut:
    return QuestionOut(
        id=q.id,
        slug=q.slug,
        text=q.text,
        type=q.type.value,
        display_order=q.display_order,
        required=q.required,
        helper_text=q.helper_text,
        options=list(q.options),
    )


@get(
    "/v1/chatbots/{chatbot_id:str}/intake",
    tags=TAGS,
    summary="The intake form",
    description=GetIntakeForm.__doc__,
)
@inject
async def intake_form(
    chatbot_id: str, principal: FromDishka[Principal], uc: FromDishka[GetIntakeForm]
) -> FormOut:
    form = await uc(GetIntakeFormQuery(principal=principal, chatbot_id=chatbot_id))
    return FormOut(questions=[question_out(q) for q in form.questions], prefilled=form.prefilled)


@post(
    "/v1/chatbots/{chatbot_id:str}/intake/questions",
    tags=TAGS,
    summary="Add an intake question",
    status_code=201,
    description=DefineIntakeQuestion.__doc__,
)
@inject
async def add_question(
    chatbot_id: str,
    data: JSONBody[QuestionBody],
    principal: FromDishka[Principal],
    uc: FromDishka[DefineIntakeQuestion],
) -> QuestionOut:
    question = await uc(
        DefineIntakeQuestionCommand(
            principal=principal,
            chatbot_id=chatbot_id,
            slug=data.slug,
            text=data.text,
            type=data.type,
            display_order=data.display_order,
            required=data.required,
            helper_text=data.helper_text,
            options=data.options,
        )
    )
    return question_out(question)


@post(
    "/v1/chatbots/{chatbot_id:str}/intake/answers",
    tags=TAGS,
    summary="Answer the intake questions",
    status_code=201,
    description=SubmitIntake.__doc__,
)
@inject
async def answer(
    chatbot_id: str,
    data: JSONBody[AnswersBody],
    principal: FromDishka[Principal],
    uc: FromDishka[SubmitIntake],
) -> list[AnswerOut]:
    stored = await uc(
        SubmitIntakeCommand(
            principal=principal, chatbot_id=chatbot_id, answers=data.answers, reusable=data.reusable
        )
    )
    return [AnswerOut(slug=a.question.slug, value=a.value, reusable=a.reusable) for a in stored]


HANDLERS = [intake_form, add_question, answer]
