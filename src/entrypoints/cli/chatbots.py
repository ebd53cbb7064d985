"""`canon chatbots`: create, configure, publish and inspect chatbots from the command line.

Commands that act on a chatbot run as a local user (``--as EMAIL``, a user made with
``canon users create``) under the same role matrix as the API. Output is JSON, for scripts.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import msgspec

from entrypoints.cli.main import fail, run, settings_from

T = TypeVar("T")
_AS = click.option("--as", "as_email", required=True, help="Act as this local user (canon users create).")


def _echo(value: Any) -> None:
    click.echo(json.dumps(msgspec.to_builtins(value), indent=2, sort_keys=True, default=str))


def _parse_sets(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs; values are JSON when they parse (numbers, true, null, lists)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            fail(f"--set takes key=value, not {pair!r}", code="invalid-input", exit_code=2)
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


async def _in_request(ctx: click.Context, email: str | None, work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Runs ``work(request_container, principal)`` in one request scope of the app's container."""
    from application.catalogue.ports import UserRepository
    from application.identity.principal import Principal
    from entrypoints.cli.users import local_subject
    from entrypoints.di import build_container

    container = build_container(settings_from(ctx))
    try:
        async with container() as request:
            principal = None
            if email is not None:
                user = await (await request.get(UserRepository)).get_by_external_id(local_subject(email))
                if user is None:
                    fail(
                        f"no local user {email!r}: run `canon users create --email {email}`",
                        code="unknown-user",
                    )
                    raise AssertionError  # unreachable
                principal = Principal.user(user.id)
            return await work(request, principal)
    finally:
        await container.close()


async def _creator_id(request: Any, ref: str) -> str:
    from application.catalogue.ports import CreatorRepository

    creators = await request.get(CreatorRepository)
    creator = await creators.get(ref) or await creators.get_by_slug(ref)
    if creator is None:
        fail(f"no creator {ref!r}", code="not-found")
    return str(creator.id)


@click.group()
def chatbots() -> None:
    """Chatbots: versions, publishing, owners, discovery."""


@chatbots.command("create")
@_AS
@click.option("--creator", required=True, help="Owning creator (id or slug); becomes PRIMARY_OWNER.")
@click.option("--title", required=True)
@click.option(
    "--type",
    "chatbot_type",
    default="FRAMEWORK",
    type=click.Choice(["CREATOR", "FRAMEWORK", "DEEP_DIVE", "ADVISOR_BOARD"]),
)
@click.option("--slug", default=None, help="Default: from the title.")
@click.option("--set", "sets", multiple=True, help="Any setting as key=value (price_cents=500, top_k=5...).")
@click.pass_context
def create(
    ctx: click.Context,
    as_email: str,
    creator: str,
    title: str,
    chatbot_type: str,
    slug: str | None,
    sets: tuple[str, ...],
) -> None:
    """Create a chatbot (version 1, private until published)."""
    from application.chatbots.create_chatbot import CreateChatbot, CreateChatbotCommand
    from entrypoints.http.routes.chatbots import chatbot_out

    settings = {"title": title, "type": chatbot_type, **_parse_sets(sets)}

    async def work(request: Any, principal: Any) -> Any:
        creator_id = await _creator_id(request, creator)
        uc = await request.get(CreateChatbot)
        return chatbot_out(
            await uc(
                CreateChatbotCommand(principal=principal, creator_id=creator_id, settings=settings, slug=slug)
            )
        )

    _echo(run(_in_request(ctx, as_email, work)))


@chatbots.command("list")
@click.option("--as", "as_email", default=None, help="With --creator: act as this local user.")
@click.option(
    "--creator", default=None, help="A creator's chatbots (id or slug) instead of the public listing."
)
@click.option("-q", "--query", default=None)
@click.option("--type", "chatbot_type", default=None)
@click.option("--category", default=None, help="Category id.")
@click.option("--sort", default="relevance", type=click.Choice(["relevance", "rating", "popularity"]))
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@click.option("--cursor", default=None)
@click.pass_context
def list_(
    ctx: click.Context,
    as_email: str | None,
    creator: str | None,
    query: str | None,
    chatbot_type: str | None,
    category: str | None,
    sort: str,
    limit: int,
    cursor: str | None,
) -> None:
    """The public listing (filters, sort, cursor), or one creator's chatbots."""
    from application.chatbots.list_creator_chatbots import ListCreatorChatbots, ListCreatorChatbotsQuery
    from application.chatbots.list_public_chatbots import ListPublicChatbots, ListPublicChatbotsQuery
    from application.identity.principal import Principal
    from entrypoints.http.routes.chatbots import chatbot_out
    from entrypoints.http.routes.chatbots_discovery import ListingOut, listed_out

    async def work(request: Any, principal: Any) -> Any:
        if creator is not None:
            uc = await request.get(ListCreatorChatbots)
            who = principal or Principal.anonymous("cli")
            found = await uc(
                ListCreatorChatbotsQuery(principal=who, creator_id=await _creator_id(request, creator))
            )
            return [chatbot_out(d) for d in found]
        listing = await request.get(ListPublicChatbots)
        page = await listing(
            ListPublicChatbotsQuery(
                category_id=category,
                chatbot_type=chatbot_type,
                query=query,
                sort=sort,
                cursor=cursor,
                limit=limit,
            )
        )
        return ListingOut(items=[listed_out(i) for i in page.items], next_cursor=page.next_cursor)

    _echo(run(_in_request(ctx, as_email, work)))


@chatbots.command("show")
@_AS
@click.argument("chatbot")
@click.pass_context
def show(ctx: click.Context, as_email: str, chatbot: str) -> None:
    """Show CHATBOT (id or slug) with its live configuration."""
    from application.chatbots.get_chatbot import GetChatbot, GetChatbotQuery
    from entrypoints.http.routes.chatbots import chatbot_out

    async def work(request: Any, principal: Any) -> Any:
        return chatbot_out(
            await (await request.get(GetChatbot))(GetChatbotQuery(principal=principal, id_or_slug=chatbot))
        )

    _echo(run(_in_request(ctx, as_email, work)))


async def _resolve(request: Any, principal: Any, ref: str) -> str:
    from application.chatbots.get_chatbot import GetChatbot, GetChatbotQuery

    return str(
        (
            await (await request.get(GetChatbot))(GetChatbotQuery(principal=principal, id_or_slug=ref))
        ).chatbot.id
    )


@chatbots.command("update")
@_AS
@click.argument("chatbot")
@click.option(
    "--set", "sets", multiple=True, required=True, help="key=value; each run makes one new version."
)
@click.pass_context
def update(ctx: click.Context, as_email: str, chatbot: str, sets: tuple[str, ...]) -> None:
    """Change settings of CHATBOT: publishes a new version."""
    from application.chatbots.update_chatbot import UpdateChatbot, UpdateChatbotCommand
    from entrypoints.http.routes.chatbots import chatbot_out

    changes = _parse_sets(sets)

    async def work(request: Any, principal: Any) -> Any:
        cid = await _resolve(request, principal, chatbot)
        uc = await request.get(UpdateChatbot)
        return chatbot_out(
            await uc(UpdateChatbotCommand(principal=principal, chatbot_id=cid, changes=changes))
        )

    _echo(run(_in_request(ctx, as_email, work)))


def _flag_command(name: str, doc: str, kind: str, value: bool) -> None:
    @chatbots.command(name, help=doc)
    @_AS
    @click.argument("chatbot")
    @click.pass_context
    def command(ctx: click.Context, as_email: str, chatbot: str) -> None:
        from application.chatbots.set_activity import SetChatbotActivity, SetChatbotActivityCommand
        from application.chatbots.set_visibility import SetChatbotVisibility, SetChatbotVisibilityCommand
        from entrypoints.http.routes.chatbots import chatbot_out

        async def work(request: Any, principal: Any) -> Any:
            cid = await _resolve(request, principal, chatbot)
            if kind == "visibility":
                uc = await request.get(SetChatbotVisibility)
                return chatbot_out(
                    await uc(SetChatbotVisibilityCommand(principal=principal, chatbot_id=cid, public=value))
                )
            act = await request.get(SetChatbotActivity)
            return chatbot_out(
                await act(SetChatbotActivityCommand(principal=principal, chatbot_id=cid, active=value))
            )

        _echo(run(_in_request(ctx, as_email, work)))


_flag_command("publish", "Make CHATBOT public.", "visibility", True)
_flag_command("unpublish", "Take CHATBOT off the public listing.", "visibility", False)
_flag_command("activate", "Let CHATBOT start conversations again.", "activity", True)
_flag_command("deactivate", "Stop CHATBOT starting conversations.", "activity", False)


@chatbots.command("rollback")
@_AS
@click.argument("chatbot")
@click.option("--to", "to_version", required=True, type=click.IntRange(1))
@click.pass_context
def rollback(ctx: click.Context, as_email: str, chatbot: str, to_version: int) -> None:
    """Publish a copy of an earlier version of CHATBOT as its newest version."""
    from application.chatbots.rollback_chatbot import RollbackChatbot, RollbackChatbotCommand
    from entrypoints.http.routes.chatbots import chatbot_out

    async def work(request: Any, principal: Any) -> Any:
        cid = await _resolve(request, principal, chatbot)
        uc = await request.get(RollbackChatbot)
        return chatbot_out(
            await uc(RollbackChatbotCommand(principal=principal, chatbot_id=cid, to_version=to_version))
        )

    _echo(run(_in_request(ctx, as_email, work)))


@chatbots.command("versions")
@_AS
@click.argument("chatbot")
@click.pass_context
def versions(ctx: click.Context, as_email: str, chatbot: str) -> None:
    """The version history of CHATBOT."""
    from application.chatbots.list_versions import ListChatbotVersions, ListChatbotVersionsQuery
    from entrypoints.http.routes.chatbots import version_out

    async def work(request: Any, principal: Any) -> Any:
        cid = await _resolve(request, principal, chatbot)
        uc = await request.get(ListChatbotVersions)
        return [
            version_out(v) for v in await uc(ListChatbotVersionsQuery(principal=principal, chatbot_id=cid))
        ]

    _echo(run(_in_request(ctx, as_email, work)))


@chatbots.command("diff")
@_AS
@click.argument("chatbot")
@click.option("--from", "from_version", required=True, type=click.IntRange(1))
@click.option("--to", "to_version", required=True, type=click.IntRange(1))
@click.pass_context
def diff(ctx: click.Context, as_email: str, chatbot: str, from_version: int, to_version: int) -> None:
    """What changed in CHATBOT between two versions."""
    from application.chatbots.diff_versions import DiffChatbotVersions, DiffChatbotVersionsQuery
    from entrypoints.http.routes.chatbots import diff_out

    async def work(request: Any, principal: Any) -> Any:
        cid = await _resolve(request, principal, chatbot)
        uc = await request.get(DiffChatbotVersions)
        query = DiffChatbotVersionsQuery(
            principal=principal, chatbot_id=cid, from_version=from_version, to_version=to_version
        )
        return diff_out(await uc(query))

    _echo(run(_in_request(ctx, as_email, work)))


@chatbots.command("owners")
@_AS
@click.argument("action", type=click.Choice(["list", "add", "role", "remove"]))
@click.argument("chatbot")
@click.argument("creator", required=False)
@click.option("--role", default=None, type=click.Choice(["PRIMARY_OWNER", "CO_OWNER", "CONTRIBUTOR"]))
@click.pass_context
def owners(
    ctx: click.Context, as_email: str, action: str, chatbot: str, creator: str | None, role: str | None
) -> None:
    """List, add, change the role of, or remove the owning creators of CHATBOT (audited)."""
    from application.chatbots.add_owner import AddChatbotOwner, AddChatbotOwnerCommand
    from application.chatbots.change_owner_role import ChangeChatbotOwnerRole, ChangeChatbotOwnerRoleCommand
    from application.chatbots.get_chatbot import GetChatbot, GetChatbotQuery
    from application.chatbots.remove_owner import RemoveChatbotOwner, RemoveChatbotOwnerCommand
    from entrypoints.http.routes.chatbots import owners_out

    if action != "list" and creator is None:
        fail(f"`owners {action}` needs a CREATOR", code="invalid-input", exit_code=2)
    if action in ("add", "role") and role is None:
        fail(f"`owners {action}` needs --role", code="invalid-input", exit_code=2)

    async def work(request: Any, principal: Any) -> Any:
        details = await (await request.get(GetChatbot))(
            GetChatbotQuery(principal=principal, id_or_slug=chatbot)
        )
        cid = details.chatbot.id
        if action == "list":
            return owners_out(details.chatbot.owners)
        creator_id = await _creator_id(request, str(creator))
        if action == "add":
            uc_add = await request.get(AddChatbotOwner)
            cmd = AddChatbotOwnerCommand(
                principal=principal, chatbot_id=cid, creator_id=creator_id, role=str(role)
            )
            return owners_out(await uc_add(cmd))
        if action == "role":
            uc_role = await request.get(ChangeChatbotOwnerRole)
            change = ChangeChatbotOwnerRoleCommand(
                principal=principal, chatbot_id=cid, creator_id=creator_id, role=str(role)
            )
            return owners_out(await uc_role(change))
        uc_remove = await request.get(RemoveChatbotOwner)
        return owners_out(
            await uc_remove(
                RemoveChatbotOwnerCommand(principal=principal, chatbot_id=cid, creator_id=creator_id)
            )
        )

    _echo(run(_in_request(ctx, as_email, work)))


@chatbots.command("category")
@click.argument("action", type=click.Choice(["list", "add"]))
@click.option("--type", "category_type", type=click.Choice(["ROLE", "CHALLENGE", "STAGE"]))
@click.option("--label", default=None)
@click.option("--slug", default=None)
@click.pass_context
def category(
    ctx: click.Context, action: str, category_type: str | None, label: str | None, slug: str | None
) -> None:
    """List discovery categories, or add one (the operator's taxonomy)."""
    from application.chatbots.define_category import DefineCategory, DefineCategoryCommand
    from application.chatbots.discovery_ports import CategoryType, ChatbotDiscovery

    if action == "add" and (category_type is None or not label):
        fail("`category add` needs --type and --label", code="invalid-input", exit_code=2)

    async def work(request: Any, principal: Any) -> Any:
        if action == "add":
            uc = await request.get(DefineCategory)
            return await uc(DefineCategoryCommand(type=str(category_type), label=str(label), slug=slug))
        discovery = await request.get(ChatbotDiscovery)
        return await discovery.categories(CategoryType(category_type) if category_type else None)

    _echo(run(_in_request(ctx, None, work)))
