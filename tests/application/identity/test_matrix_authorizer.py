"""MatrixAuthorizer on a fake RoleResolver: 404 vs 403 vs 401, API key scopes, operators."""

from __future__ import annotations

import pytest

from application.errors import NotAuthenticated, NotFound, PermissionDenied
from application.identity.authorizer import MatrixAuthorizer
from application.identity.permissions import Action, ResourceKind, Role
from application.identity.principal import Participants, Principal, Resource, conversation_roles


class FakeRoleResolver:
    """Roles by (principal key, resource); a resource absent from ``existing`` does not exist."""

    def __init__(self) -> None:
        self.existing: set[Resource] = set()
        self.grants: dict[tuple[str, Resource], frozenset[Role]] = {}
        self.calls: list[Resource] = []

    def grant(self, who: str, resource: Resource, *roles: Role) -> None:
        self.existing.add(resource)
        self.grants[(who, resource)] = frozenset(roles)

    async def roles_on(self, principal: Principal, resource: Resource) -> frozenset[Role] | None:
        self.calls.append(resource)
        if resource not in self.existing:
            return None
        who = principal.user_id or principal.api_key_id or principal.anonymous_id or ""
        return self.grants.get((who, resource), frozenset())


ALICE = Principal.user("alice")
BOB = Principal.user("bob")
STAFF = Principal.user("staff", is_operator=True)
VISITOR = Principal.anonymous("0190c3a0-0000-7000-8000-000000000001")
BOT = Resource.chatbot("bot-1")
CREATOR = Resource.creator("creator-1")


@pytest.fixture
def resolver() -> FakeRoleResolver:
    return FakeRoleResolver()


@pytest.fixture
def authorizer(resolver: FakeRoleResolver) -> MatrixAuthorizer:
    return MatrixAuthorizer(resolver)


async def test_starts_clean_nothing_exists(authorizer: MatrixAuthorizer, resolver: FakeRoleResolver) -> None:
    with pytest.raises(NotFound):
        await authorizer.require(ALICE, Action.CHATBOT_VIEW, BOT)
    assert resolver.calls == [BOT]


async def test_allowed_returns_quietly(authorizer: MatrixAuthorizer, resolver: FakeRoleResolver) -> None:
    resolver.grant("alice", BOT, Role.CHATBOT_PRIMARY_OWNER)
    await authorizer.require(ALICE, Action.CHATBOT_DELETE, BOT)
    assert await authorizer.allows(ALICE, Action.CHATBOT_DELETE, BOT)


async def test_can_see_but_not_act_is_permission_denied(
    authorizer: MatrixAuthorizer, resolver: FakeRoleResolver
) -> None:
    resolver.grant("bob", BOT, Role.CHATBOT_CO_OWNER)
    with pytest.raises(PermissionDenied) as caught:
        await authorizer.require(BOB, Action.CHATBOT_DELETE, BOT)
    assert caught.value.code == "permission-denied"
    assert not await authorizer.allows(BOB, Action.CHATBOT_DELETE, BOT)


async def test_cannot_see_is_not_found_exactly_like_missing(
    authorizer: MatrixAuthorizer, resolver: FakeRoleResolver
) -> None:
    resolver.grant("alice", BOT, Role.CHATBOT_PRIMARY_OWNER)  # a private bot: bob holds no role
    with pytest.raises(NotFound) as hidden:
        await authorizer.require(BOB, Action.CHATBOT_DELETE, BOT)
    with pytest.raises(NotFound) as missing:
        await authorizer.require(BOB, Action.CHATBOT_DELETE, Resource.chatbot("bot-404"))
    assert hidden.value.code == missing.value.code == "not-found"
    assert hidden.value.message == missing.value.message


async def test_an_anonymous_visitor_is_asked_to_sign_in_for_what_users_may_do(
    authorizer: MatrixAuthorizer, resolver: FakeRoleResolver
) -> None:
    resolver.grant(VISITOR.anonymous_id or "", BOT, Role.ANONYMOUS)  # a public bot
    await authorizer.require(VISITOR, Action.CONVERSATION_START, BOT)
    with pytest.raises(NotAuthenticated) as caught:
        await authorizer.require(VISITOR, Action.PURCHASE_CREATE, BOT)
    assert caught.value.code == "login-required"
    with pytest.raises(PermissionDenied):  # no sign-in would help here
        await authorizer.require(VISITOR, Action.CHATBOT_UPDATE_CONFIG, BOT)


async def test_operator_comes_from_the_principal_not_the_resolver(
    authorizer: MatrixAuthorizer, resolver: FakeRoleResolver
) -> None:
    resolver.grant("staff", BOT)  # exists, staff holds no role on it
    await authorizer.require(STAFF, Action.CHATBOT_SET_ACTIVE, BOT)
    resolver.grant("bob", BOT, Role.OPERATOR)  # a resolver bug must not make bob staff
    with pytest.raises(NotFound):
        await authorizer.require(BOB, Action.CHATBOT_SET_ACTIVE, BOT)


async def test_platform_actions_need_no_resolver(
    authorizer: MatrixAuthorizer, resolver: FakeRoleResolver
) -> None:
    platform = Resource.platform()
    await authorizer.require(STAFF, Action.PAYOUT_RUN, platform)
    await authorizer.require(ALICE, Action.CREATOR_CREATE, platform)
    with pytest.raises(PermissionDenied):
        await authorizer.require(ALICE, Action.PAYOUT_RUN, platform)
    with pytest.raises(NotAuthenticated):
        await authorizer.require(VISITOR, Action.CREATOR_CREATE, platform)
    assert resolver.calls == []


async def test_an_action_checked_on_the_wrong_kind_of_resource_is_a_bug(authorizer: MatrixAuthorizer) -> None:
    with pytest.raises(ValueError, match="checked against a chatbot"):
        await authorizer.require(ALICE, Action.CHATBOT_DELETE, CREATOR)


async def test_an_api_key_acts_only_within_its_scopes(
    authorizer: MatrixAuthorizer, resolver: FakeRoleResolver
) -> None:
    key = Principal.api_key(api_key_id="key-1", creator_id="creator-1", actions=[Action.CHATBOT_VIEW])
    resolver.grant("key-1", BOT, Role.CHATBOT_PRIMARY_OWNER)
    await authorizer.require(key, Action.CHATBOT_VIEW, BOT)
    with pytest.raises(PermissionDenied) as caught:
        await authorizer.require(key, Action.CHATBOT_UPDATE_CONFIG, BOT)
    assert caught.value.code == "api-key-scope-insufficient"


async def test_an_api_key_scope_does_not_exceed_its_creators_roles(
    authorizer: MatrixAuthorizer, resolver: FakeRoleResolver
) -> None:
    key = Principal.api_key(
        api_key_id="key-1", creator_id="creator-1", actions=[Action.CHATBOT_UPDATE_CONFIG]
    )
    resolver.grant("key-1", BOT, Role.CHATBOT_CONTRIBUTOR)
    with pytest.raises(PermissionDenied) as caught:
        await authorizer.require(key, Action.CHATBOT_UPDATE_CONFIG, BOT)
    assert caught.value.code == "permission-denied"


async def test_claiming_needs_the_claimant_role(
    authorizer: MatrixAuthorizer, resolver: FakeRoleResolver
) -> None:
    chat = Resource.conversation("conv-1")
    resolver.grant("alice", chat, Role.CONVERSATION_OWNER, Role.CONVERSATION_CLAIMANT)
    resolver.grant(VISITOR.anonymous_id or "", chat, Role.CONVERSATION_OWNER)
    await authorizer.require(ALICE, Action.CONVERSATION_CLAIM, chat)
    await authorizer.require(VISITOR, Action.CONVERSATION_SEND_MESSAGE, chat)
    with pytest.raises(PermissionDenied):
        await authorizer.require(VISITOR, Action.CONVERSATION_CLAIM, chat)


# -- a conversation carrying its participants: decided without the resolver ----------------------

ANON_ID = "0190c3a0-0000-7000-8000-000000000002"


@pytest.mark.parametrize(
    ("principal", "participants", "expected"),
    [
        (ALICE, Participants(user_id="alice", anonymous_id=None), {Role.CONVERSATION_OWNER}),
        (BOB, Participants(user_id="alice", anonymous_id=None), set()),
        # an anonymous visitor's conversation: theirs while no user holds it
        (
            Principal.anonymous(ANON_ID),
            Participants(user_id=None, anonymous_id=ANON_ID),
            {Role.CONVERSATION_OWNER},
        ),
        (VISITOR, Participants(user_id=None, anonymous_id=ANON_ID), set()),
        # a signed-in user still carrying that anonymous id may also claim it
        (
            Principal.user("carol", anonymous_id=ANON_ID),
            Participants(user_id=None, anonymous_id=ANON_ID),
            {Role.CONVERSATION_OWNER, Role.CONVERSATION_CLAIMANT},
        ),
        # once claimed by someone else, the anonymous id no longer counts
        (Principal.anonymous(ANON_ID), Participants(user_id="alice", anonymous_id=ANON_ID), set()),
    ],
)
def test_conversation_roles_from_participants(
    principal: Principal, participants: Participants, expected: set[Role]
) -> None:
    assert conversation_roles(principal, participants) == expected


async def test_a_conversation_with_participants_never_asks_the_resolver(
    authorizer: MatrixAuthorizer, resolver: FakeRoleResolver
) -> None:
    mine = Resource.conversation("c-1", participants=Participants(user_id="alice", anonymous_id=None))
    await authorizer.require(ALICE, Action.CONVERSATION_SEND_MESSAGE, mine)
    with pytest.raises(NotFound):  # not yours: exactly like a missing one
        await authorizer.require(BOB, Action.CONVERSATION_SEND_MESSAGE, mine)
    assert await authorizer.allows(STAFF, Action.CONVERSATION_VIEW, mine) == (
        await authorizer.allows(STAFF, Action.CONVERSATION_VIEW, _resolved(resolver, "c-1", "alice"))
    )
    assert [r.id for r in resolver.calls] == ["c-1"]  # only the comparison above went through it


def _resolved(resolver: FakeRoleResolver, conversation_id: str, owner: str) -> Resource:
    resource = Resource.conversation(conversation_id)
    resolver.grant(owner, resource, Role.CONVERSATION_OWNER)
    return resource


def test_only_a_conversation_has_participants() -> None:
    with pytest.raises(ValueError, match="only a conversation"):
        Resource(ResourceKind.CHATBOT, "bot-1", Participants(user_id="alice", anonymous_id=None))
