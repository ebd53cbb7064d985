"""`canon chatbots` end to end on the embedded default (SQLite in a temp data directory)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.persistence.engine import create_engine
from adapters.persistence.models import Creator, CreatorUser, User
from domain.ids import new_id
from entrypoints.cli import commands
from entrypoints.cli.main import cli

commands.register(cli)


@pytest.fixture
def canon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("CANON_DATABASE_URL", "CANON_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    data = tmp_path / "data"

    def invoke(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(cli, ["--data-dir", str(data), *args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
            return (
                json.loads(result.output) if result.output.strip().startswith(("{", "[")) else result.output
            )
        return result

    invoke("db", "upgrade")
    invoke("users", "create", "--email", "ana@cli.example")
    invoke("users", "create", "--email", "bo@cli.example")
    return invoke, data


def add_creator(data: Path, email: str, slug: str) -> str:
    async def go() -> str:
        engine = create_engine(f"sqlite+aiosqlite:///{(data / 'canon.db').resolve()}")
        creator_id = new_id()
        async with engine.begin() as conn:
            user_id = (await conn.execute(User.__table__.select().where(User.email == email))).first().id
            await conn.execute(Creator.__table__.insert().values(id=creator_id, name=slug.title(), slug=slug))
            await conn.execute(
                CreatorUser.__table__.insert().values(
                    id=new_id(), creator_id=creator_id, user_id=user_id, role="OWNER"
                )
            )
        await engine.dispose()
        return creator_id

    return asyncio.run(go())


def test_create_update_diff_rollback_publish_list(canon: Any) -> None:
    invoke, data = canon
    ana_c = add_creator(data, "ana@cli.example", "ana")
    made = invoke(
        "chatbots", "create", "--as", "ana@cli.example", "--creator", "ana", "--title", "Purple Cow",
        "--type", "DEEP_DIVE", "--set", "price_cents=900",
    )  # fmt: skip
    assert made["slug"] == "purple-cow"
    assert made["config"]["price_cents"] == 900
    assert made["owners"] == [{"creator_id": ana_c, "role": "PRIMARY_OWNER"}]
    v2 = invoke(
        "chatbots", "update", "purple-cow", "--as", "ana@cli.example", "--set", "top_k=4", "--set", "notes=x"
    )
    assert v2["current_version_number"] == 2
    diff = invoke("chatbots", "diff", "purple-cow", "--as", "ana@cli.example", "--from", "1", "--to", "2")
    assert {c["field"] for c in diff["changes"]} == {"rag.top_k", "notes"}
    back = invoke("chatbots", "rollback", "purple-cow", "--as", "ana@cli.example", "--to", "1")
    assert back["current_version_number"] == 3
    assert back["config"]["top_k"] == 8
    assert [
        v["version_number"] for v in invoke("chatbots", "versions", "purple-cow", "--as", "ana@cli.example")
    ] == [
        1,
        2,
        3,
    ]
    assert invoke("chatbots", "list")["items"] == []
    assert invoke("chatbots", "publish", "purple-cow", "--as", "ana@cli.example")["is_public"] is True
    listed = invoke("chatbots", "list", "-q", "cow")
    assert [i["slug"] for i in listed["items"]] == ["purple-cow"]
    assert [b["slug"] for b in invoke("chatbots", "list", "--creator", "ana")] == ["purple-cow"]


def test_owners_and_refusals_are_one_line_errors(canon: Any) -> None:
    invoke, data = canon
    add_creator(data, "ana@cli.example", "ana")
    bo_c = add_creator(data, "bo@cli.example", "bo")
    invoke("chatbots", "create", "--as", "ana@cli.example", "--creator", "ana", "--title", "Board Bot")
    roster = invoke(
        "chatbots", "owners", "add", "board-bot", "bo", "--role", "CO_OWNER", "--as", "ana@cli.example"
    )
    assert {o["creator_id"]: o["role"] for o in roster}[bo_c] == "CO_OWNER"
    refused = invoke("chatbots", "owners", "remove", "board-bot", "ana", "--as", "ana@cli.example", ok=False)
    assert refused.exit_code == 1
    assert "error[last-primary-owner]" in refused.output
    denied = invoke(
        "chatbots", "update", "board-bot", "--as", "bo@cli.example", "--set", "price_cents=1", ok=False
    )
    assert "error[permission-denied]" in denied.output
    unknown = invoke("chatbots", "show", "board-bot", "--as", "nobody@cli.example", ok=False)
    assert "error[unknown-user]" in unknown.output
    invoke("chatbots", "category", "add", "--type", "ROLE", "--label", "Founders")
    assert [c["slug"] for c in invoke("chatbots", "category", "list")] == ["founders"]
