"""`canon creators`, `canon sources` and `canon ingest`: the catalogue from the command line.

Commands run as a local user (``--as EMAIL``, made with ``canon users create``) under the same
role matrix as the API; run ``canon db upgrade`` first.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click

from entrypoints.cli.main import fail, run, settings_from

T = TypeVar("T")
_AS = click.option("--as", "as_email", required=True, help="Act as this local user (canon users create).")
_TYPES = ["BOOK", "ARTICLE", "PODCAST", "VIDEO", "DOCUMENT", "OTHER"]


async def _as_user(ctx: click.Context, email: str, work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Runs ``work(container, principal)`` with the app's container, as the local user ``email``."""
    from application.catalogue.ports import UserRepository
    from application.identity.principal import Principal
    from entrypoints.cli.users import local_subject
    from entrypoints.di import build_container

    container = build_container(settings_from(ctx))
    try:
        async with container() as request:
            users: UserRepository = await request.get(UserRepository)
            user = await users.get_by_external_id(local_subject(email))
        if user is None:
            fail(f"no local user {email!r}: run `canon users create --email {email}`", code="unknown-user")
            raise AssertionError  # unreachable: fail exits
        return await work(container, Principal.user(user.id))
    finally:
        await container.close()


async def _creator_id(container: Any, ref: str) -> str:
    from application.catalogue.ports import CreatorRepository

    async with container() as request:
        creators: CreatorRepository = await request.get(CreatorRepository)
        creator = await creators.get(ref) or await creators.get_by_slug(ref)
    if creator is None:
        fail(f"no creator {ref!r}", code="not-found")
        raise AssertionError  # unreachable
    return creator.id


@click.group()
def creators() -> None:
    """Creator profiles and their members."""


@creators.command("create")
@_AS
@click.option("--name", required=True)
@click.option("--slug", default=None, help="Default: made from the name.")
@click.option("--bio", default=None)
@click.pass_context
def create_creator(ctx: click.Context, as_email: str, name: str, slug: str | None, bio: str | None) -> None:
    """Create a creator profile owned by the --as user; prints its id."""
    from application.catalogue.create_creator import CreateCreator, CreateCreatorCommand

    async def work(container: Any, principal: Any) -> str:
        async with container() as request:
            uc = await request.get(CreateCreator)
            creator = await uc(CreateCreatorCommand(principal=principal, name=name, slug=slug, bio=bio))
        return str(creator.id)

    click.echo(run(_as_user(ctx, as_email, work)))


@creators.command("list")
@_AS
@click.pass_context
def list_creators(ctx: click.Context, as_email: str) -> None:
    """The creators the --as user belongs to: id, slug, role."""
    from application.catalogue.list_my_creators import ListMyCreators, ListMyCreatorsQuery

    async def work(container: Any, principal: Any) -> list[str]:
        async with container() as request:
            uc = await request.get(ListMyCreators)
            found = await uc(ListMyCreatorsQuery(principal=principal))
        return [f"{m.creator.id}  {m.creator.slug.value}  {m.role.value}" for m in found]

    for line in run(_as_user(ctx, as_email, work)):
        click.echo(line)


@click.group()
def sources() -> None:
    """A creator's works and their revenue shares."""


def _parse_shares(values: tuple[str, ...]) -> dict[str, Decimal] | None:
    if not values:
        return None
    shares: dict[str, Decimal] = {}
    for value in values:
        creator, sep, share = value.partition("=")
        if not sep:
            fail(f"--share takes CREATOR=SHARE, not {value!r}", code="invalid-input", exit_code=2)
        shares[creator.strip()] = Decimal(share.strip())
    return shares


@sources.command("create")
@_AS
@click.option("--creator", "creator_ref", required=True, help="Creator id or slug.")
@click.option("--title", required=True)
@click.option("--type", "source_type", type=click.Choice(_TYPES), default="BOOK", show_default=True)
@click.option("--author", default=None)
@click.option("--isbn", default=None)
@click.option("--url", default=None)
@click.option("--share", "shares", multiple=True, help="CREATOR_ID=SHARE (repeat; must sum to 1).")
@click.pass_context
def create_source(
    ctx: click.Context,
    as_email: str,
    creator_ref: str,
    title: str,
    source_type: str,
    author: str | None,
    isbn: str | None,
    url: str | None,
    shares: tuple[str, ...],
) -> None:
    """Add a source to a creator; prints its id."""
    from application.catalogue.create_source import CreateSource, CreateSourceCommand
    from domain.catalogue import SourceType

    split = _parse_shares(shares)

    async def work(container: Any, principal: Any) -> str:
        creator_id = await _creator_id(container, creator_ref)
        async with container() as request:
            uc = await request.get(CreateSource)
            source = await uc(
                CreateSourceCommand(
                    principal=principal,
                    creator_id=creator_id,
                    title=title,
                    type=SourceType(source_type),
                    shares=split,
                    author=author,
                    isbn=isbn,
                    url=url,
                )
            )
        return str(source.id)

    click.echo(run(_as_user(ctx, as_email, work)))


@sources.command("show")
@_AS
@click.argument("source_id")
@click.pass_context
def show_source(ctx: click.Context, as_email: str, source_id: str) -> None:
    """A source: its shares and its files with their status."""
    from application.catalogue.get_source import GetSource, GetSourceQuery

    async def work(container: Any, principal: Any) -> list[str]:
        async with container() as request:
            uc = await request.get(GetSource)
            d = await uc(GetSourceQuery(principal=principal, source_id=source_id))
        lines = [f"{d.source.id}  {d.source.type.value}  {d.source.title}"]
        lines += [f"  share {cid} {share}" for cid, share in d.source.shares]
        for f in d.files:
            state = f.status.value + ("" if f.is_active else f" (replaced by {f.replaced_by_file_id})")
            reason = f": {f.failure_reason}" if f.failure_reason else ""
            lines.append(f"  file {f.id}  {f.file_name}  {state}{reason}")
        return lines

    for line in run(_as_user(ctx, as_email, work)):
        click.echo(line)


@click.command("ingest")
@_AS
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--source", "source_id", required=True, help="The source this file is (a newer copy replaces the old)."
)
@click.pass_context
def ingest(ctx: click.Context, as_email: str, path: Path, source_id: str) -> None:
    """Upload PATH to a source and ingest it now, with a progress bar and a summary."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from entrypoints.catalogue_loading import LoadedFile, ingest_path

    console = Console(stderr=True)
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(f"reading {path.name}", total=None)

        def on_progress(stage: str, done: int, total: int) -> None:
            label = "chunked" if stage == "extracted" else "embedded and indexed"
            bar.update(task, description=label, completed=done if stage == "indexed" else 0, total=total)

        async def work(container: Any, principal: Any) -> LoadedFile:
            return await ingest_path(
                container, principal=principal, source_id=source_id, path=path, on_progress=on_progress
            )

        loaded = run(_as_user(ctx, as_email, work))
    seconds = time.perf_counter() - started
    report = loaded.report
    assert report is not None
    if report.failure_reason:
        fail(f"{path.name} FAILED: {report.failure_reason}", code="ingestion-failed")
    click.echo(
        f"{path.name}: {report.status.value if report.status else 'gone'}  file {loaded.file_id}  "
        f"pages {report.page_count if report.page_count is not None else '-'}  chunks {report.chunk_count}  "
        f"tokens {report.token_count}  seconds {seconds:.2f}"
    )
    if report.retired_file_ids:
        click.echo(f"replaced: {', '.join(report.retired_file_ids)}")
