"""Registers every command group on the `canon` CLI; each area adds one line here."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    from entrypoints.cli import db, serve, users

    cli.add_command(db.db)
    cli.add_command(serve.serve)
    cli.add_command(serve.demo)
    cli.add_command(serve.worker)
    cli.add_command(users.users)
    from entrypoints.cli import chatbots

    cli.add_command(chatbots.chatbots)
    from entrypoints.cli import catalogue

    cli.add_command(catalogue.creators)
    cli.add_command(catalogue.sources)
    cli.add_command(catalogue.ingest)
    from entrypoints.cli import conversations

    cli.add_command(conversations.chat)
    cli.add_command(conversations.conversations)
    from entrypoints.cli import money

    cli.add_command(money.attribution)
    cli.add_command(money.payouts)
    cli.add_command(money.statements)
