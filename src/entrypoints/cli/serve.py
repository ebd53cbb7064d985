"""`canon serve`, `canon demo` and `canon worker`."""

from __future__ import annotations

import asyncio

import click

from entrypoints.cli.main import fail, settings_from


def _serve(settings_host: str, port: int, ctx: click.Context, *, demo: bool) -> None:
    import uvicorn

    from entrypoints.observability import configure_logging
    from entrypoints.runtime import build_http_app

    settings = settings_from(ctx, host=settings_host, port=port)
    configure_logging(settings.log_level, settings.log_format)

    async def main() -> None:
        if demo:
            from adapters.persistence.migrate import upgrade
            from entrypoints.demo import load_demo

            settings.data_dir.mkdir(parents=True, exist_ok=True)
            await upgrade(settings.effective_database_url, "head")
            summary = await load_demo(settings)
            click.echo(summary, err=True)
        app = build_http_app(settings)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        url = settings.effective_public_base_url
        click.echo(
            f"Canon is serving at {url}  (API docs: {url}/schema/swagger, health: {url}/health);"
            " Ctrl+C stops it",
            err=True,
        )
        await server.serve()

    try:
        asyncio.run(main())
    except OSError as exc:
        fail(f"cannot serve on {settings.host}:{settings.port}: {exc.strerror or exc}", code="cannot-bind")


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port to listen on (default 8000).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the HTTP API. In-process jobs run inside it unless CANON_JOBS_BACKEND=redis."""
    _serve(host or ctx.obj["settings"].host, port or ctx.obj["settings"].port, ctx, demo=False)


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port to listen on (default 8000).")
@click.pass_context
def demo(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Create the database, load the demo content and serve it, all offline.

    The demo creator's sources are Canon's own documentation; re-running it reuses what is there.
    """
    _serve(host or ctx.obj["settings"].host, port or ctx.obj["settings"].port, ctx, demo=True)


@click.command()
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run background jobs (ingestion, attribution, webhooks, payouts) in this process.

    With CANON_JOBS_BACKEND=redis several workers on several machines share one queue; with the
    embedded default the worker drains the database-backed queue alongside or instead of `serve`.
    """
    from entrypoints.observability import configure_logging
    from entrypoints.worker import run_worker

    settings = settings_from(ctx)
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run_worker(settings))
