"""`canon`: run, migrate, demo and manage Canon from the command line.

Errors print one line (``canon: error[<code>]: <message>``) to stderr and exit non-zero:
1 for a refused operation, 2 for bad usage or bad settings.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from application.errors import ApplicationError
from domain.errors import DomainError
from entrypoints.settings import Settings, SettingsError, load_settings

T = TypeVar("T")

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail(message: str, *, code: str = "error", exit_code: int = 1) -> None:
    click.echo(f"canon: error[{code}]: {message}", err=True)
    sys.exit(exit_code)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine, turning application and domain errors into one-line messages."""
    try:
        return asyncio.run(coro)
    except (ApplicationError, DomainError) as exc:
        fail(exc.message, code=exc.code)
        raise  # unreachable: fail exits


def settings_from(ctx: click.Context, **overrides: object) -> Settings:
    base: Settings = ctx.obj["settings"]
    if not overrides:
        return base
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return load_settings(config_file=ctx.obj.get("config"), **{**_as_dict(base), **clean})
    except SettingsError as exc:
        for line in exc.problems:
            click.echo(f"canon: error[bad-setting]: {line}", err=True)
        sys.exit(2)


def _as_dict(s: Settings) -> dict[str, object]:
    from dataclasses import fields

    return {f.name: getattr(s, f.name) for f in fields(s) if f.name != "extra"}


@click.group(context_settings=CONTEXT)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, exists=True),
    envvar="CANON_CONFIG",
    help="A TOML settings file (default: canon.toml in the working directory, if present).",
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False), help="Where the embedded default keeps its data."
)
@click.version_option(package_name="canon", prog_name="canon")
@click.pass_context
def cli(ctx: click.Context, config: str | None, data_dir: str | None) -> None:
    """Canon: a creator's body of work as paid, cited AI chatbots.

    Runs fully offline by default (SQLite, in-process jobs, offline embedder, extractive answers,
    sandbox payments). Every setting is an environment variable CANON_<NAME> or a key in canon.toml;
    see docs/configuration.md.

    \b
    Start here:
      canon demo              create the database, load demo content and serve it
      canon serve             serve the API (run `canon db upgrade` first)
      canon worker            run background jobs in their own process
    """
    from pathlib import Path

    overrides: dict[str, object] = {}
    if data_dir:
        overrides["data_dir"] = Path(data_dir)
    try:
        settings = load_settings(config_file=Path(config) if config else None, **overrides)
    except SettingsError as exc:
        for line in exc.problems:
            click.echo(f"canon: error[bad-setting]: {line}", err=True)
        sys.exit(2)
    ctx.ensure_object(dict)
    ctx.obj["settings"] = settings
    ctx.obj["config"] = Path(config) if config else None


def main() -> None:
    from entrypoints.cli import commands

    commands.register(cli)
    cli(prog_name="canon")


if __name__ == "__main__":
    main()
