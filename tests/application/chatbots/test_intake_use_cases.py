"""Intake questions and answers on the in-memory fakes: types, options, required answers,
reuse across frameworks, and who may do what."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from adapters.memory.intake import InMemoryIntakeRepository
from application.chatbots.create_chatbot import CreateChatbotCommand
from application.chatbots.define_intake_question import DefineIntakeQuestion, DefineIntakeQuestionCommand
from application.chatbots.get_intake_form import GetIntakeForm, GetIntakeFormQuery
from application.chatbots.set_visibility import SetChatbotVisibilityCommand
from application.chatbots.submit_intake import SubmitIntake, SubmitIntakeCommand
from application.errors import Conflict, InvalidInput, NotAuthenticated, PermissionDenied
from application.identity.authorizer import MatrixAuthorizer
from application.identity.principal import Principal


def _load(name: str, path: Path) -> Any:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


kit = _load("chatbots_usecase_kit", Path(__file__).with_name("chatbots_usecase_kit.py"))
h = kit.load_harness()


@pytest.fixture
async def world() -> dict[str, Any]:
    env = kit.Env(h.MemoryBackend(), kit.RecordingAudit(), kit.SteppingClock(h.T0))
    ana, fan = h.a_user("ana"), h.a_user("fan")
    creator = h.a_creator("ana", ana)
    async with env.backend.unit() as r:
        await r.users.add(ana)
        await r.users.add(fan)
        await r.creators.add(creator)
        await r.uow.commit()
    owner, user = Principal.user(ana.id), Principal.user(fan.id)
    bots = []
    for title in ("Pricing Framework", "Hiring Framework"):
        async with env.unit() as k:
            made = await k.create(
                CreateChatbotCommand(principal=owner, creator_id=creator.id, settings={"title": title})
            )
            await k.visibility(
                SetChatbotVisibilityCommand(principal=owner, chatbot_id=made.chatbot.id, public=True)
            )
            bots.append(made.chatbot.id)
    intake = InMemoryIntakeRepository()
    return {"env": env, "owner": owner, "user": user, "bots": bots, "intake": intake}


async def define(world: dict[str, Any], bot: str, slug: str, kind: str, **more: Any) -> Any:
    async with world["env"].backend.unit() as r:
        define_uc = DefineIntakeQuestion(MatrixAuthorizer(kit.RepoRoleResolver(r)), world["intake"], r.uow)
        return await define_uc(
            DefineIntakeQuestionCommand(
                principal=more.pop("principal", world["owner"]),
                chatbot_id=bot,
                slug=slug,
                text=f"{slug}?",
                type=kind,
                **more,
            )
        )


async def submit(world: dict[str, Any], bot: str, answers: dict[str, Any], **more: Any) -> Any:
    async with world["env"].backend.unit() as r:
        submit_uc = SubmitIntake(MatrixAuthorizer(kit.RepoRoleResolver(r)), world["intake"], r.uow)
        return await submit_uc(
            SubmitIntakeCommand(
                principal=more.pop("principal", world["user"]), chatbot_id=bot, answers=answers, **more
            )
        )


async def test_every_type_is_checked_and_required_answers_are_enforced(world: dict[str, Any]) -> None:
    bot = world["bots"][0]
    await define(world, bot, "role", "SELECT", options=["founder", "cfo"], required=True, display_order=1)
    await define(world, bot, "goals", "MULTI_SELECT", options=["grow", "price", "hire"], display_order=2)
    await define(world, bot, "revenue", "NUMBER", display_order=3)
    await define(world, bot, "launch", "DATE", display_order=4)
    await define(world, bot, "b2b", "BOOLEAN", display_order=5)
    await define(world, bot, "story", "TEXT", display_order=6)
    await define(world, bot, "deck", "FILE", display_order=7)
    with pytest.raises(InvalidInput) as caught:
        await submit(
            world,
            bot,
            {
                "goals": ["grow", "grow"],
                "revenue": "5",
                "launch": "2025-13-01",
                "b2b": "yes",
                "story": "  ",
                "deck": "",
                "colour": "red",
            },
        )
    assert set(caught.value.errors) == {
        "answers.role",
        "answers.goals",
        "answers.revenue",
        "answers.launch",
        "answers.b2b",
        "answers.story",
        "answers.deck",
        "answers.colour",
    }
    assert caught.value.errors["answers.role"] == "is required"
    assert world["intake"].responses == []  # nothing stored unless everything passes
    with pytest.raises(InvalidInput) as caught:
        await submit(world, bot, {"role": "cfo", "deck": "someone-elses"})
    assert caught.value.errors == {"answers.deck": "is not a file you uploaded"}
    world["intake"].files["file-1"] = world["user"].user_id
    stored = await submit(
        world,
        bot,
        {
            "role": "cfo",
            "goals": ["price", "grow"],
            "revenue": 1200000,
            "launch": "2025-03-01",
            "b2b": True,
            "story": " We sell SaaS ",
            "deck": "file-1",
        },
    )
    values = {a.question.slug: a.value for a in stored}
    assert values["story"] == "We sell SaaS"
    assert values["goals"] == ["price", "grow"]
    assert [a.file_id for a in stored if a.question.slug == "deck"] == ["file-1"]
    user_id = world["user"].user_id
    assert world["intake"].context[(user_id, bot, "role")] == "cfo"  # not reusable: this bot only


async def test_reusable_answers_serve_other_frameworks(world: dict[str, Any]) -> None:
    pricing, hiring = world["bots"]
    await define(world, pricing, "company-stage", "SELECT", options=["seed", "growth"], required=True)
    await define(world, hiring, "company-stage", "SELECT", options=["seed", "growth"], required=True)
    await submit(world, pricing, {"company-stage": "growth"}, reusable={"company-stage"})
    async with world["env"].backend.unit() as r:
        form = await GetIntakeForm(MatrixAuthorizer(kit.RepoRoleResolver(r)), world["intake"])(
            GetIntakeFormQuery(principal=world["user"], chatbot_id=hiring)
        )
    assert [q.slug for q in form.questions] == ["company-stage"]
    assert form.prefilled == {"company-stage": "growth"}
    assert await submit(world, hiring, {}) == []  # the reusable answer satisfies "required"


async def test_who_may_define_and_answer(world: dict[str, Any]) -> None:
    bot = world["bots"][0]
    with pytest.raises(PermissionDenied):
        await define(world, bot, "role", "TEXT", principal=world["user"])
    with pytest.raises(InvalidInput) as caught:
        await define(world, bot, "Bad Slug", "SELECT", options=["only-one"])
    assert set(caught.value.errors) == {"slug", "options"}
    with pytest.raises(InvalidInput):
        await define(world, bot, "age", "NUMBER", options=["1", "2"])
    await define(world, bot, "age", "NUMBER")
    with pytest.raises(Conflict):
        await define(world, bot, "age", "TEXT")
    with pytest.raises(NotAuthenticated):
        await submit(world, bot, {"age": 3}, principal=Principal.anonymous("anon-1"))
