"""`canon chat` and `canon conversations expire` against a real SQLite data directory."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.llm.scripted_model import ScriptedAnswerModel
from adapters.persistence.engine import create_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.models import Conversation, Message
from entrypoints.cli import commands
from entrypoints.cli.main import cli

if TYPE_CHECKING:
    from tests.application.conversations.chat_turn_rig import ChatRig
else:
    if "chat_turn_rig" not in sys.modules:
        _spec = importlib.util.spec_from_file_location(
            "chat_turn_rig", Path(__file__).with_name("chat_turn_rig.py")
        )
        assert _spec is not None
        assert _spec.loader is not None
        sys.modules["chat_turn_rig"] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules["chat_turn_rig"])
    ChatRig = sys.modules["chat_turn_rig"].ChatRig


def test_chat_one_shot_streams_an_answer_and_counts_the_message(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'canon.db'}"

    async def prepare() -> None:
        await upgrade(url)
        engine = create_engine(url)
        rig = ChatRig(engine, async_sessionmaker(engine, expire_on_commit=False), ScriptedAnswerModel())
        await rig.seed(slug="cli", message_allowance=3)
        await engine.dispose()

    asyncio.run(prepare())
    if "chat" not in cli.commands:
        commands.register(cli)
    runner = CliRunner()
    env = {"CANON_VECTOR_BACKEND": "memory", "CANON_LOG_FORMAT": "console"}
    result = runner.invoke(
        cli, ["--data-dir", str(tmp_path), "chat", "cli-bot", "-m", "What is remarkable?"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "conversation " in result.output
    assert "(2 messages left" in result.output

    missing = runner.invoke(cli, ["--data-dir", str(tmp_path), "chat", "nope-bot", "-m", "hi"], env=env)
    assert missing.exit_code != 0
    assert "chatbot-not-found" in missing.output

    expired = runner.invoke(cli, ["--data-dir", str(tmp_path), "conversations", "expire"], env=env)
    assert expired.exit_code == 0, expired.output
    assert "expired 0 conversations" in expired.output

    async def counts() -> tuple[int, int]:
        engine = create_engine(url)
        async with engine.connect() as conn:
            messages = await conn.scalar(select(func.count()).select_from(Message))
            used = await conn.scalar(select(Conversation.messages_used))
        await engine.dispose()
        return int(messages or 0), int(used or 0)

    assert asyncio.run(counts()) == (2, 1)
