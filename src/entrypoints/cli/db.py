"""`canon db`: the database schema."""

from __future__ import annotations

import click

from entrypoints.cli.main import run, settings_from


@click.group()
def db() -> None:
    """Create and migrate the database schema (SQLite or PostgreSQL)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_context
def upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from adapters.persistence.migrate import upgrade as do_upgrade

    settings = settings_from(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    run(do_upgrade(settings.effective_database_url, revision))
    click.echo(f"database at {revision}: {redact_url(settings.effective_database_url)}")


@db.command("downgrade")
@click.argument("revision")
@click.pass_context
def downgrade(ctx: click.Context, revision: str) -> None:
    """Revert migrations down to REVISION ('base' removes every table)."""
    from adapters.persistence.migrate import downgrade as do_downgrade

    settings = settings_from(ctx)
    run(do_downgrade(settings.effective_database_url, revision))
    click.echo(f"database at {revision}")


@db.command("current")
@click.pass_context
def current(ctx: click.Context) -> None:
    """Print the revision the database is at."""
    from adapters.persistence.migrate import current_revision

    settings = settings_from(ctx)
    click.echo(run(current_revision(settings.effective_database_url)) or "base (empty database)")


def redact_url(url: str) -> str:
    """Hides a password in a database URL before it is printed."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url
