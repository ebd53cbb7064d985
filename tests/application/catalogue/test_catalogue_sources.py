"""Sources and their revenue shares through the use cases (in-memory fakes)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from catalogue_kit import World

from application.catalogue.change_source_shares import ChangeSourceSharesCommand
from application.catalogue.create_creator import CreateCreatorCommand
from application.catalogue.create_source import CreateSourceCommand
from application.catalogue.get_source import GetSourceQuery
from application.catalogue.list_creator_sources import ListCreatorSourcesQuery
from application.catalogue.manage_creator_members import ManageCreatorMemberCommand, MemberChange
from application.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from application.identity.principal import Principal
from domain.catalogue import SourceType
from domain.errors import InvalidValue, RuleViolation
from domain.roles import CreatorRole


async def _setup(world: World) -> tuple[Principal, Principal, str, str]:
    ana, bo = await world.add_user("ana"), await world.add_user("bo")
    async with world.unit() as u:
        a = (await u.create_creator(CreateCreatorCommand(principal=ana, name="Ana Author"))).id
        b = (await u.create_creator(CreateCreatorCommand(principal=bo, name="Bo Writer"))).id
    return ana, bo, a, b


async def test_a_member_creates_a_source_owned_entirely_by_the_creator(world: World) -> None:
    ana, _, a, _ = await _setup(world)
    async with world.unit() as u:
        source = await u.create_source(
            CreateSourceCommand(
                principal=ana,
                creator_id=a,
                title="Purple Cow",
                type=SourceType.BOOK,
                isbn="978-0-306-40615-7",
                url="https://example.com/cow",
            )
        )
    assert source.isbn == "9780306406157"
    assert source.shares.weights() == {a: Decimal(1)}
    async with world.unit() as u:
        details = await u.get_source(GetSourceQuery(principal=ana, source_id=source.id))
        listed = await u.list_sources(ListCreatorSourcesQuery(principal=ana, creator_id=a))
    assert [v.shares.weights() for v in details.history] == [{a: Decimal(1)}]
    assert [s.id for s in listed.items] == [source.id]
    assert listed.next_cursor is None


async def test_shares_must_sum_to_one_and_name_the_creator(world: World) -> None:
    ana, _, a, b = await _setup(world)
    async with world.unit() as u:
        with pytest.raises(RuleViolation) as not_one:
            await u.create_source(
                CreateSourceCommand(
                    principal=ana, creator_id=a, title="T", type=SourceType.BOOK, shares={a: "0.5", b: "0.4"}
                )
            )
        with pytest.raises(RuleViolation) as missing:
            await u.create_source(
                CreateSourceCommand(
                    principal=ana, creator_id=a, title="T", type=SourceType.BOOK, shares={b: "1"}
                )
            )
        with pytest.raises(InvalidValue):
            await u.create_source(
                CreateSourceCommand(principal=ana, creator_id=a, title="T", type=SourceType.BOOK, isbn="123")
            )
        with pytest.raises(Conflict):
            await u.create_source(
                CreateSourceCommand(
                    principal=ana,
                    creator_id=a,
                    title="T",
                    type=SourceType.BOOK,
                    shares={a: "0.5", "ghost": "0.5"},
                )
            )
    assert not_one.value.code == "shares-must-sum-to-one"
    assert missing.value.code == "creator-not-in-shares"
    async with world.unit() as u:
        assert (await u.list_sources(ListCreatorSourcesQuery(principal=ana, creator_id=a))).items == []


async def test_changing_shares_keeps_history_and_is_owner_only(world: World) -> None:
    ana, bo, a, b = await _setup(world)
    admin = await world.add_user("admin")
    async with world.unit() as u:
        source = await u.create_source(
            CreateSourceCommand(principal=ana, creator_id=a, title="Co-written", type=SourceType.ARTICLE)
        )
        await u.members(
            ManageCreatorMemberCommand(
                principal=ana,
                creator_id=a,
                user_id=admin.user_id or "",
                change=MemberChange.ADD,
                role=CreatorRole.ADMIN,
            )
        )
    async with world.unit() as u:
        with pytest.raises(PermissionDenied):
            await u.change_shares(
                ChangeSourceSharesCommand(principal=admin, source_id=source.id, shares={a: "0.5", b: "0.5"})
            )
        with pytest.raises(NotFound):  # bo holds no share yet: the source is invisible to him
            await u.change_shares(
                ChangeSourceSharesCommand(principal=bo, source_id=source.id, shares={b: "1"})
            )
    async with world.unit() as u:
        history = await u.change_shares(
            ChangeSourceSharesCommand(principal=ana, source_id=source.id, shares={a: "0.6", b: "0.4"})
        )
    assert [v.shares.weights() for v in history] == [
        {a: Decimal(1)},
        {a: Decimal("0.6"), b: Decimal("0.4")},
    ]
    assert history[0].effective_from < history[1].effective_from
    async with world.unit() as u:
        # the split in force before the change is still the one that applies to that moment
        before = await u.repos.sources.shares_at(source.id, history[0].effective_from)
        details = await u.get_source(GetSourceQuery(principal=bo, source_id=source.id))
    assert before is not None
    assert before.weights() == {a: Decimal(1)}
    assert details.source.shares.weights() == {a: Decimal("0.6"), b: Decimal("0.4")}
    entry = world.audit.entries[-1]
    assert entry["action"] == "source.shares-changed"
    assert entry["before"] == {a: "1.0000"}
    assert entry["after"] == {a: "0.6000", b: "0.4000"}
    async with world.unit() as u:
        with pytest.raises(RuleViolation):
            await u.change_shares(
                ChangeSourceSharesCommand(principal=ana, source_id=source.id, shares={a: "0.7", b: "0.4"})
            )
        assert len(await u.repos.sources.share_history(source.id)) == 2


async def test_sources_are_private_to_members(world: World) -> None:
    ana, bo, a, _ = await _setup(world)
    async with world.unit() as u:
        source = await u.create_source(
            CreateSourceCommand(principal=ana, creator_id=a, title="Private", type=SourceType.PODCAST)
        )
    async with world.unit() as u:
        with pytest.raises(NotFound):
            await u.get_source(GetSourceQuery(principal=bo, source_id=source.id))
        with pytest.raises(PermissionDenied):
            await u.list_sources(ListCreatorSourcesQuery(principal=bo, creator_id=a))
        with pytest.raises(PermissionDenied):
            await u.create_source(
                CreateSourceCommand(principal=bo, creator_id=a, title="X", type=SourceType.BOOK)
            )


async def test_sources_are_listed_a_page_at_a_time(world: World) -> None:
    ana, _, a, _ = await _setup(world)
    ids = []
    for n in range(5):
        async with world.unit() as u:
            source = await u.create_source(
                CreateSourceCommand(
                    principal=ana, creator_id=a, title=f"Episode {n}", type=SourceType.PODCAST
                )
            )
            ids.append(source.id)
    seen: list[str] = []
    cursor = None
    while True:
        async with world.unit() as u:
            page = await u.list_sources(
                ListCreatorSourcesQuery(principal=ana, creator_id=a, limit=2, cursor=cursor)
            )
        seen += [s.id for s in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ids
    async with world.unit() as u:
        with pytest.raises(InvalidInput):
            await u.list_sources(ListCreatorSourcesQuery(principal=ana, creator_id=a, limit=0))
        with pytest.raises(InvalidInput):
            await u.list_sources(ListCreatorSourcesQuery(principal=ana, creator_id=a, cursor="%%%"))
