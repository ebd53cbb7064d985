"""Which purchase statuses open a conversation: what the buyer paid for and still holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.llm.scripted_model import ScriptedAnswerModel
from adapters.persistence.models import Conversation as ConversationRow
from adapters.persistence.models import Purchase
from application.conversations.open_conversation import OpenConversationCommand
from application.errors import Conflict
from application.identity.principal import Principal
from domain.ids import new_id
from domain.money import Money

if TYPE_CHECKING:
    from tests.application.conversations.chat_turn_rig import ChatRig
else:
    import importlib.util
    import sys

    _spec = importlib.util.spec_from_file_location(
        "chat_turn_rig", Path(__file__).with_name("chat_turn_rig.py")
    )
    assert _spec is not None
    assert _spec.loader is not None
    if "chat_turn_rig" not in sys.modules:
        sys.modules["chat_turn_rig"] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules["chat_turn_rig"])
    ChatRig = sys.modules["chat_turn_rig"].ChatRig


@pytest.fixture
def rig(engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]) -> ChatRig:
    return ChatRig(engine, session_factory, ScriptedAnswerModel(("ok",)))


async def _purchase(engine: AsyncEngine, *, buyer: str, chatbot_id: str, status: str) -> str:
    purchase_id = new_id()
    async with engine.begin() as conn:
        await conn.execute(
            insert(Purchase).values(
                id=purchase_id,
                purchaser_user_id=buyer,
                chatbot_id=chatbot_id,
                payment_processor="SANDBOX",
                external_payment_id=f"pay_{purchase_id}",
                processing_fee_cents=45,
                currency="USD",
                amount_cents=500,
                net_amount_cents=455 if status != "PARTIALLY_REFUNDED" else 255,
                refunded_cents=200 if status == "PARTIALLY_REFUNDED" else 0,
                status=status,
            )
        )
    return purchase_id


async def _conversations(engine: AsyncEngine, purchase_id: str) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).where(ConversationRow.purchase_id == purchase_id)
        return int(await conn.scalar(query) or 0)


@pytest.mark.parametrize("status", ["COMPLETED", "PARTIALLY_REFUNDED"])
async def test_a_paid_purchase_still_held_opens_one_conversation(
    rig: ChatRig, engine: AsyncEngine, status: str
) -> None:
    """A partial refund can even be seen before the payment (webhooks arrive in any order):
    the buyer still paid for the rest, so the conversation opens, once."""
    seeded = await rig.seed(price=Money.of(500, "USD"), allow_anonymous=False)
    buyer = await rig.add_user("buyer")
    purchase_id = await _purchase(engine, buyer=buyer, chatbot_id=seeded.chatbot_id, status=status)
    command = OpenConversationCommand(
        principal=Principal.user(buyer), chatbot_id=seeded.chatbot_id, purchase_id=purchase_id
    )
    async with rig.unit() as u:
        first = await u.open(command)
    async with rig.unit() as u:
        again = await u.open(command)
    assert (first.created, again.created) == (True, False)
    assert first.conversation.id == again.conversation.id
    assert await _conversations(engine, purchase_id) == 1


@pytest.mark.parametrize("status", ["PENDING", "FAILED", "REFUNDED", "DISPUTED"])
async def test_a_purchase_not_paid_or_taken_back_opens_nothing(
    rig: ChatRig, engine: AsyncEngine, status: str
) -> None:
    seeded = await rig.seed(price=Money.of(500, "USD"), allow_anonymous=False)
    buyer = await rig.add_user("buyer")
    purchase_id = await _purchase(engine, buyer=buyer, chatbot_id=seeded.chatbot_id, status=status)
    with pytest.raises(Conflict) as refused:
        async with rig.unit() as u:
            await u.open(
                OpenConversationCommand(
                    principal=Principal.user(buyer), chatbot_id=seeded.chatbot_id, purchase_id=purchase_id
                )
            )
    assert refused.value.code == "purchase-not-completed"
    assert status in str(refused.value)
    assert await _conversations(engine, purchase_id) == 0
