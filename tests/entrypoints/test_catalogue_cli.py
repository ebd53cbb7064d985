"""`canon creators`, `canon sources` and `canon ingest` end to end on the embedded default
(SQLite, local blobs and embedded Qdrant in a temp data directory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from entrypoints.cli import commands
from entrypoints.cli.main import cli

commands.register(cli)
DOC = "# Notes\n\n" + "\n\n".join(
    f"Idea {i}: ship remarkable work, then tell people about it." for i in range(30)
)


@pytest.fixture
def canon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("CANON_DATABASE_URL", "CANON_CONFIG", "CANON_VECTOR_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    data = tmp_path / "data"

    def invoke(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(cli, ["--data-dir", str(data), *args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke("db", "upgrade")
    invoke("users", "create", "--email", "ana@cli.example")
    return invoke


def test_create_a_creator_and_source_then_ingest_and_replace(canon: Any, tmp_path: Path) -> None:
    creator_id = canon("creators", "create", "--as", "ana@cli.example", "--name", "Ana Author").output.strip()
    listed = canon("creators", "list", "--as", "ana@cli.example").output
    assert f"{creator_id}  ana-author  OWNER" in listed
    source_id = canon(
        "sources",
        "create",
        "--as",
        "ana@cli.example",
        "--creator",
        "ana-author",
        "--title",
        "Notes",
        "--type",
        "ARTICLE",
    ).output.strip()
    notes = tmp_path / "notes.md"
    notes.write_text(DOC)
    out = canon("ingest", str(notes), "--source", source_id, "--as", "ana@cli.example").output
    assert "notes.md: READY" in out
    assert "chunks " in out
    assert "tokens " in out
    assert "seconds " in out
    notes.write_text(DOC.replace("remarkable", "outstanding"))
    again = canon("ingest", str(notes), "--source", source_id, "--as", "ana@cli.example").output
    assert "replaced: " in again
    shown = canon("sources", "show", source_id, "--as", "ana@cli.example").output
    assert shown.count("READY") == 2
    assert "(replaced by " in shown


def test_failures_are_one_line_with_a_code(canon: Any, tmp_path: Path) -> None:
    creator = canon("creators", "create", "--as", "ana@cli.example", "--name", "Ana Author").output.strip()
    source_id = canon(
        "sources", "create", "--as", "ana@cli.example", "--creator", creator, "--title", "Scan"
    ).output.strip()
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    failed = canon("ingest", str(scan), "--source", source_id, "--as", "ana@cli.example", ok=False)
    assert failed.exit_code == 1
    assert "canon: error[ingestion-failed]: scan.pdf FAILED:" in failed.output
    nobody = canon("creators", "list", "--as", "nobody@cli.example", ok=False)
    assert nobody.exit_code == 1
    assert "error[unknown-user]" in nobody.output
    bad_share = canon(
        "sources",
        "create",
        "--as",
        "ana@cli.example",
        "--creator",
        creator,
        "--title",
        "X",
        "--share",
        f"{creator}=0.5",
        ok=False,
    )
    assert "error[shares-must-sum-to-one]" in bad_share.output
