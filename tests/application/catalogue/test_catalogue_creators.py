"""Creators and their members through the use cases (in-memory fakes)."""

from __future__ import annotations

import pytest
from catalogue_kit import World

from application.catalogue.create_creator import CreateCreatorCommand
from application.catalogue.get_creator import GetCreatorQuery
from application.catalogue.list_my_creators import ListMyCreatorsQuery
from application.catalogue.manage_creator_members import ManageCreatorMemberCommand, MemberChange
from application.catalogue.update_creator_profile import UpdateCreatorProfileCommand
from application.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from application.identity.principal import Principal
from domain.errors import InvalidValue, LastKeeperRemoval
from domain.roles import CreatorRole


async def _creator(world: World, owner: Principal, name: str = "Seth Godin") -> str:
    async with world.unit() as u:
        return (await u.create_creator(CreateCreatorCommand(principal=owner, name=name))).id


async def test_a_user_creates_a_creator_and_owns_it(world: World) -> None:
    ana = await world.add_user("ana")
    async with world.unit() as u:
        creator = await u.create_creator(
            CreateCreatorCommand(
                principal=ana,
                name="Seth Godin",
                bio="Marketing.",
                social_links={"website": "https://seths.blog"},
            )
        )
    assert creator.slug.value == "seth-godin"
    assert creator.members.role_of(ana.user_id or "") is CreatorRole.OWNER
    async with world.unit() as u:
        mine = await u.my_creators(ListMyCreatorsQuery(principal=ana))
        view = await u.get_creator(
            GetCreatorQuery(principal=Principal.anonymous("anon-1"), creator_id=creator.id)
        )
    assert [m.creator.id for m in mine] == [creator.id]
    assert view.creator.name == "Seth Godin"
    assert view.members_visible is False
    assert world.audit.entries[-1]["action"] == "creator.created"


async def test_anonymous_callers_and_bad_profiles_are_refused(world: World) -> None:
    ana = await world.add_user("ana")
    async with world.unit() as u:
        with pytest.raises(NotAuthenticated):
            await u.create_creator(CreateCreatorCommand(principal=Principal.anonymous("a"), name="X Y"))
        with pytest.raises(InvalidValue):
            await u.create_creator(CreateCreatorCommand(principal=ana, name="Ok", avatar_url="ftp://x"))
        with pytest.raises(InvalidValue):
            await u.create_creator(CreateCreatorCommand(principal=ana, name="Ok", slug="Not A Slug"))
    await _creator(world, ana)
    async with world.unit() as u:
        with pytest.raises(Conflict) as taken:
            await u.create_creator(CreateCreatorCommand(principal=ana, name="Seth Godin"))
    assert taken.value.code == "creator-slug-taken"


async def test_profile_updates_are_for_owners_and_admins(world: World) -> None:
    ana, bo, cy = await world.add_user("ana"), await world.add_user("bo"), await world.add_user("cy")
    creator_id = await _creator(world, ana)
    async with world.unit() as u:
        await u.members(
            ManageCreatorMemberCommand(
                principal=ana,
                creator_id=creator_id,
                user_id=bo.user_id or "",
                change=MemberChange.ADD,
                role=CreatorRole.ADMIN,
            )
        )
    async with world.unit() as u:
        updated = await u.update_profile(
            UpdateCreatorProfileCommand(principal=bo, creator_id=creator_id, bio="New bio", slug="seth")
        )
    assert updated.bio == "New bio"
    assert updated.slug.value == "seth"
    async with world.unit() as u:
        with pytest.raises(NotFound):  # a stranger may see the profile but not edit it...
            await u.update_profile(UpdateCreatorProfileCommand(principal=cy, creator_id="nope", bio="x"))
        with pytest.raises(PermissionDenied):
            await u.update_profile(UpdateCreatorProfileCommand(principal=cy, creator_id=creator_id, bio="x"))
        view = await u.get_creator(GetCreatorQuery(principal=bo, creator_id=creator_id))
    assert view.creator.bio == "New bio"
    assert view.members_visible is True


async def test_members_are_added_changed_and_removed_by_the_owner_only(world: World) -> None:
    ana, bo, cy = await world.add_user("ana"), await world.add_user("bo"), await world.add_user("cy")
    creator_id = await _creator(world, ana)
    bo_id = bo.user_id or ""

    def cmd(principal: Principal, change: MemberChange, role: CreatorRole | None = None, user: str = bo_id):
        return ManageCreatorMemberCommand(
            principal=principal, creator_id=creator_id, user_id=user, change=change, role=role
        )

    async with world.unit() as u:
        roster = await u.members(cmd(ana, MemberChange.ADD, CreatorRole.MEMBER))
    assert roster.role_of(bo_id) is CreatorRole.MEMBER
    async with world.unit() as u:
        with pytest.raises(PermissionDenied):
            await u.members(cmd(bo, MemberChange.ADD, CreatorRole.ADMIN, user=cy.user_id or ""))
        with pytest.raises(Conflict):
            await u.members(cmd(ana, MemberChange.ADD, CreatorRole.ADMIN))
        with pytest.raises(InvalidInput):
            await u.members(cmd(ana, MemberChange.CHANGE_ROLE))
        with pytest.raises(NotFound):
            await u.members(cmd(ana, MemberChange.ADD, CreatorRole.ADMIN, user="no-such-user"))
        with pytest.raises(NotFound):
            await u.members(cmd(ana, MemberChange.REMOVE, user=cy.user_id or ""))
    async with world.unit() as u:
        roster = await u.members(cmd(ana, MemberChange.CHANGE_ROLE, CreatorRole.OWNER))
    assert roster.keepers == tuple(sorted([ana.user_id or "", bo_id]))
    async with world.unit() as u:
        await u.members(cmd(ana, MemberChange.REMOVE))
    async with world.unit() as u:
        with pytest.raises(LastKeeperRemoval):
            await u.members(cmd(ana, MemberChange.CHANGE_ROLE, CreatorRole.ADMIN, user=ana.user_id or ""))
    actions = [e["action"] for e in world.audit.entries]
    assert actions[-3:] == ["creator.member-added", "creator.member-role-changed", "creator.member-removed"]
    assert world.audit.entries[-2]["before"] == {"user_id": bo_id, "role": "MEMBER"}
    assert world.audit.entries[-2]["after"] == {"user_id": bo_id, "role": "OWNER"}
