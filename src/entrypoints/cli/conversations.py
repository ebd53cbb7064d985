"""`canon chat CHATBOT_SLUG`: talk to a chatbot from the terminal (one question, or interactive),
and `canon conversations expire`: run the expiry sweep by hand or from cron."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from dishka import AsyncContainer

from entrypoints.cli.main import fail, run, settings_from


async def _user_id(request: AsyncContainer, email: str) -> str:
    from application.identity.authenticate import UserMirror
    from application.identity.ports import Claims
    from entrypoints.cli.users import local_subject

    mirror = await request.get(UserMirror)
    claims = Claims(
        subject=local_subject(email), issuer="canon-local", expires_at=datetime.now(UTC), email=email
    )
    return str((await mirror.upsert_from_claims(claims)).user_id)


async def _chat(
    ctx: click.Context, slug: str, email: str, conversation_id: str | None, messages: list[str]
) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    from application.chatbots.ports import ChatbotRepository
    from application.conversations.open_conversation import OpenConversation, OpenConversationCommand
    from application.conversations.send_message import SendMessage, SendMessageCommand
    from application.conversations.turn_events import CitationEvent, DoneEvent, ErrorEvent, TokenEvent
    from application.identity.principal import Principal
    from entrypoints.di import build_container

    container = build_container(settings_from(ctx))
    interactive = not messages
    try:
        async with container() as request:
            user_id = await _user_id(request, email)
            await (await request.get(AsyncSession)).commit()
            principal = Principal.user(user_id)
            if conversation_id is None:
                chatbot = await (await request.get(ChatbotRepository)).get_by_slug(slug)
                if chatbot is None:
                    fail(f"no chatbot {slug!r}", code="chatbot-not-found")
                    return
                opened = await (await request.get(OpenConversation))(
                    OpenConversationCommand(principal=principal, chatbot_id=chatbot.id)
                )
                conversation_id = opened.conversation.id
                click.echo(
                    f"conversation {conversation_id} ({opened.conversation.allowance.remaining} messages)"
                )
        while True:
            if interactive:
                try:
                    question = click.prompt("you", prompt_suffix="> ")
                except (EOFError, click.Abort):
                    return
                if question.strip() in ("exit", "quit"):
                    return
            elif messages:
                question = messages.pop(0)
            else:
                return
            async with container() as request:
                turn = await (await request.get(SendMessage))(
                    SendMessageCommand(principal=principal, conversation_id=conversation_id, content=question)
                )
                cited: list[CitationEvent] = []
                async for event in turn.events():
                    if isinstance(event, TokenEvent):
                        click.echo(event.text, nl=False)
                    elif isinstance(event, CitationEvent):
                        cited.append(event)
                    elif isinstance(event, ErrorEvent):
                        fail(event.message, code=event.code)
                    elif isinstance(event, DoneEvent):
                        click.echo()
                        for n, c in enumerate(cited, start=1):
                            where = (
                                f"p. {c.page}"
                                if c.page is not None
                                else (f"at {c.timestamp}s" if c.timestamp else "")
                            )
                            click.echo(f"  [{n}] source {c.source_id} {where}".rstrip())
                        click.echo(
                            f"({event.messages_remaining} messages left, {event.output_tokens} tokens)"
                        )
    finally:
        await container.close()


@click.command("chat")
@click.argument("chatbot_slug")
@click.option("--as", "email", default="cli@localhost", show_default=True, help="Local account to chat as.")
@click.option("--conversation", "conversation_id", default=None, help="Continue this conversation.")
@click.option("-m", "--message", "messages", multiple=True, help="Ask this and exit (repeatable).")
@click.pass_context
def chat(
    ctx: click.Context, chatbot_slug: str, email: str, conversation_id: str | None, messages: tuple[str, ...]
) -> None:
    """Chat with a chatbot: streams answers with their citations."""
    run(_chat(ctx, chatbot_slug, email, conversation_id, list(messages)))


@click.group("conversations")
def conversations() -> None:
    """Conversation maintenance."""


@conversations.command("expire")
@click.pass_context
def expire(ctx: click.Context) -> None:
    """Expire every ACTIVE conversation whose time is up (what the periodic job does)."""
    from application.conversations.expire_conversations import (
        ExpireConversations,
        ExpireConversationsCommand,
    )
    from entrypoints.di import build_container

    async def go() -> int:
        container = build_container(settings_from(ctx))
        try:
            async with container() as request:
                result = await (await request.get(ExpireConversations))(ExpireConversationsCommand())
                return result.expired
        finally:
            await container.close()

    click.echo(f"expired {run(go())} conversations")
