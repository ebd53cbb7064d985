"""docs/security.md shows the role matrix exactly as the code has it."""

from __future__ import annotations

from pathlib import Path

from application.identity.permissions import render_markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "security.md"
BEGIN, END = "<!-- role-matrix:begin -->\n", "<!-- role-matrix:end -->"


def test_the_documented_matrix_is_the_generated_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1
    assert text.count(END) == 1
    documented = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert documented == render_markdown(), (
        "docs/security.md is out of date: paste the output of `python -m application.identity.permissions`"
    )
