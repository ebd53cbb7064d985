"""`canon attribution run`, `canon statements` and `canon payouts run` on the embedded default."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.persistence.engine import create_engine
from adapters.persistence.models import Payout
from entrypoints.cli import commands
from entrypoints.cli.main import cli

commands.register(cli)


def _rig_module() -> Any:
    name = "money_rig"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "application" / "money" / "money_rig.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def canon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("CANON_DATABASE_URL", "CANON_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    data = tmp_path / "data"

    def invoke(*args: str) -> str:
        result = runner.invoke(cli, ["--data-dir", str(data), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    invoke("db", "upgrade")
    return invoke, data


def _sold_and_ended(data: Path) -> Any:
    async def go() -> Any:
        engine = create_engine(f"sqlite+aiosqlite:///{(data / 'canon.db').resolve()}")
        rig = _rig_module().MoneyRig(engine, async_sessionmaker(engine, expire_on_commit=False))
        world = await rig.seed(price=2000)
        _, conversation_id = await rig.buy(world)
        await rig.use_and_end(
            conversation_id, {world.source_b: 10}, ended_at=datetime.now(UTC) - timedelta(days=8)
        )
        await rig.set_payout_account(world.creator_b)
        await engine.dispose()
        return world

    return asyncio.run(go())


def _payouts(data: Path) -> list[tuple[str, int]]:
    async def go() -> list[tuple[str, int]]:
        engine = create_engine(f"sqlite+aiosqlite:///{(data / 'canon.db').resolve()}")
        async with async_sessionmaker(engine)() as s:
            rows = [(p.status.value, p.amount_cents) for p in await s.scalars(select(Payout))]
        await engine.dispose()
        return rows

    return asyncio.run(go())


def test_attribution_statement_and_payout_from_the_command_line(canon: Any) -> None:
    invoke, data = canon
    assert "attributed 0" in invoke("attribution", "run")
    world = _sold_and_ended(data)
    assert "attributed 1," in invoke("attribution", "run")
    assert "attributed 0," in invoke("attribution", "run")

    month = datetime.now(UTC).strftime("%Y-%m")
    # 2000 - (58 + 30) fee = 1912 net, platform 382, creators 1530, all to source b (creator B)
    table = invoke("statements", world.creator_b, "--month", month)
    assert "15.30 USD" in table
    csv_text = invoke("statements", world.creator_b, "--month", month, "--csv")
    header, row, total = csv_text.splitlines()
    assert header.startswith("booked_at,kind,amount_minor")
    assert ",ATTRIBUTION,1530,15.30,USD," in row
    assert total.startswith("total,,1530,15.30,USD")

    assert "completed 0, failed 0, awaiting the processor 1" in invoke("payouts", "run")
    assert _payouts(data) == [("COMPLETED", 1530)]
    assert "completed 0, failed 0, awaiting the processor 0" in invoke("payouts", "run")
