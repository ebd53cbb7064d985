"""`canon users`: local accounts and sign-in tokens for the embedded default (development and
demos). A deployment with an identity provider (Clerk) signs users in there instead; these
tokens are only accepted while no JWKS URL is configured."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click

from entrypoints.cli.main import fail, run, settings_from

_DURATION = re.compile(r"^(\d+)([smhd])$")


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text.strip())
    if not m:
        raise click.BadParameter("use a number and a unit: 90s, 30m, 12h or 7d")
    n, unit = int(m.group(1)), m.group(2)
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: n})


def local_subject(email: str) -> str:
    return f"local|{email.strip().lower()}"


async def _create(ctx: click.Context, email: str, first: str | None, last: str | None, operator: bool) -> str:
    from sqlalchemy import update
    from sqlalchemy.ext.asyncio import AsyncSession

    from adapters.persistence.models import User
    from application.identity.authenticate import UserMirror
    from application.identity.ports import Claims
    from entrypoints.di import build_container

    container = build_container(settings_from(ctx))
    try:
        async with container() as request:
            mirror = await request.get(UserMirror)
            claims = Claims(
                subject=local_subject(email),
                issuer="canon-local",
                expires_at=datetime.now(UTC),
                email=email,
                first_name=first,
                last_name=last,
            )
            user = await mirror.upsert_from_claims(claims)
            session = await request.get(AsyncSession)
            if operator:
                await session.execute(
                    update(User).where(User.id == user.user_id).values(platform_role="OPERATOR")
                )
            await session.commit()
            return user.user_id
    finally:
        await container.close()


@click.group()
def users() -> None:
    """Local accounts and sign-in tokens (embedded default only)."""


@users.command("create")
@click.option("--email", required=True, help="The user's email (also how `users token` finds them).")
@click.option("--first-name", default=None)
@click.option("--last-name", default=None)
@click.option("--operator", is_flag=True, help="Give the platform operator role (moderation, payouts).")
@click.pass_context
def create(
    ctx: click.Context, email: str, first_name: str | None, last_name: str | None, operator: bool
) -> None:
    """Create (or update) a local user; prints the user's id."""
    if "@" not in email or len(email) > 320:
        fail(f"not an email address: {email!r}", code="invalid-input", exit_code=2)
    click.echo(run(_create(ctx, email, first_name, last_name, operator)))


@users.command("token")
@click.argument("email")
@click.option(
    "--ttl", default="12h", show_default=True, help="How long the token is valid (90s, 30m, 12h, 7d)."
)
@click.pass_context
def token(ctx: click.Context, email: str, ttl: str) -> None:
    """Print a bearer token for the local user EMAIL (send it as `Authorization: Bearer ...`)."""
    from adapters.identity.local_issuer import LocalTokenIssuer

    settings = settings_from(ctx)
    if settings.jwks_url:
        fail("an identity provider is configured (CANON_JWKS_URL); sign in there instead", code="not-local")
    try:
        lifetime = parse_duration(ttl)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        click.echo(
            LocalTokenIssuer.from_data_dir(settings.data_dir).issue(local_subject(email), email, lifetime)
        )
    except click.BadParameter as exc:
        fail(str(exc.message), code="invalid-input", exit_code=2)
    except ValueError as exc:
        fail(str(exc), code="invalid-input", exit_code=2)
