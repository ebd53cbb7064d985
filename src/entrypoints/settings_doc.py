"""Renders docs/configuration.md from the Settings dataclass, so the doc cannot drift from the
code (a test compares them). Run: python -m entrypoints.settings_doc > docs/configuration.md"""

from __future__ import annotations

import ast
import inspect
from dataclasses import MISSING, fields
from typing import Any, Literal, get_args, get_origin, get_type_hints

from entrypoints import settings as settings_module
from entrypoints.settings import Settings


def _comments() -> dict[str, str]:
    """Trailing `# comment` of each field in the Settings class body, and section headings."""
    source = inspect.getsource(settings_module.Settings)
    out: dict[str, str] = {}
    lines = source.splitlines()
    tree = ast.parse(source)
    cls = tree.body[0]
    assert isinstance(cls, ast.ClassDef)
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            line = lines[node.lineno - 1]
            if "#" in line:
                out[node.target.id] = line.split("#", 1)[1].strip()
    return out


def _kind(annotation: Any) -> str:
    values: list[str] = []
    parts = get_args(annotation) if get_origin(annotation) is not Literal else (annotation,)
    for part in parts or (annotation,):
        if get_origin(part) is Literal:
            values.extend(repr(v) for v in get_args(part) if v != "")
    if values:
        return "one of " + ", ".join(f"`{v.strip(chr(39))}`" for v in values)
    if get_origin(annotation) is tuple:
        return "comma-separated list"
    return {int: "integer", float: "number", str: "text", bool: "boolean"}.get(annotation, "path")


def render() -> str:
    notes = _comments()
    hints = get_type_hints(Settings)
    rows = []
    for f in fields(Settings):
        if f.name == "extra":
            continue
        default = (
            f.default
            if f.default is not MISSING
            else (f.default_factory() if f.default_factory is not MISSING else "")
        )
        shown = "(empty)" if default in ("", ()) else f"`{default}`"
        kind = _kind(hints[f.name])
        rows.append(f"| `CANON_{f.name.upper()}` | {kind} | {shown} | {notes.get(f.name, '')} |")
    return (
        "# Configuration\n\n"
        "Every setting is an environment variable `CANON_<NAME>` or a key `<name>` in a TOML file\n"
        "(`canon.toml` in the working directory, or the file named by `CANON_CONFIG`; keys may sit at the\n"
        "top level or in a `[canon]` table). The environment wins over the file. Nothing is needed for the\n"
        "embedded default. Every wrong value is reported at start-up, one line each, naming the variable.\n\n"
        "| variable | type | default | note |\n| --- | --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )


if __name__ == "__main__":
    print(render(), end="")
