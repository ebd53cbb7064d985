import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue, LastKeeperRemoval, RuleViolation
from domain.roles import ChatbotOwnerRole, ChatbotOwners, CreatorMembers, CreatorRole
from domain.slug import RESERVED_SLUGS, SLUG_MAX, Slug

P, C, K = ChatbotOwnerRole.PRIMARY_OWNER, ChatbotOwnerRole.CO_OWNER, ChatbotOwnerRole.CONTRIBUTOR
ids = st.sampled_from(["a", "b", "c", "d", "e"])
ops = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "change"]), ids, st.sampled_from(list(ChatbotOwnerRole))),
    max_size=30,
)


def _apply(owners: ChatbotOwners, op: str, member: str, role: ChatbotOwnerRole) -> ChatbotOwners:
    if op == "add":
        return owners.with_member(member, role)
    if op == "remove":
        return owners.without(member)
    return owners.with_role(member, role)


@given(ops)
def test_a_chatbot_never_loses_its_last_primary_owner(operations: list) -> None:
    owners = ChatbotOwners.founded_by("a")
    for op, member, role in operations:
        expected = owners.as_dict()
        error: tuple[type[Exception], str] | None = None
        if op == "add":
            if member in expected:
                error = (RuleViolation, "already-member")
            expected[member] = role
        elif member not in expected:
            error = (InvalidValue, "unknown-member")
        elif owners.keepers == (member,) and (op == "remove" or role is not P):
            error = (LastKeeperRemoval, "last-primary-owner")
        elif op == "remove":
            del expected[member]
        else:
            expected[member] = role
        if error is None:
            owners = _apply(owners, op, member, role)
            assert owners.as_dict() == expected
        else:
            before = owners.as_dict()
            with pytest.raises(error[0]) as err:
                _apply(owners, op, member, role)
            assert err.value.code == error[1]
            assert owners.as_dict() == before
        assert owners.keepers


def test_roster_basics() -> None:
    owners = ChatbotOwners({"b": C, "a": P})
    assert list(owners) == [("a", P), ("b", C)]
    assert len(owners) == 2
    assert owners.role_of("b") is C
    assert owners.role_of("z") is None
    assert "a" in owners
    assert "z" not in owners
    assert owners.has_role("a", P, C)
    assert not owners.has_role("b", P)
    assert owners.as_dict() == {"a": P, "b": C}
    assert owners == ChatbotOwners({"a": P, "b": C})
    assert hash(owners) == hash(ChatbotOwners({"a": P, "b": C}))
    assert owners != CreatorMembers({"a": CreatorRole.OWNER})
    assert "ChatbotOwners" in repr(owners)
    # demoting the last primary owner after promoting another is fine
    promoted = owners.with_role("b", P).with_role("a", K)
    assert promoted.keepers == ("b",)
    assert promoted.with_role("b", P) == promoted


def test_roster_construction_errors() -> None:
    with pytest.raises(RuleViolation) as err:
        ChatbotOwners({"a": C})
    assert err.value.code == "last-primary-owner"
    with pytest.raises(RuleViolation) as err2:
        CreatorMembers({})
    assert err2.value.code == "last-creator-owner"
    with pytest.raises(InvalidValue):
        ChatbotOwners({"": P})
    with pytest.raises(InvalidValue):
        ChatbotOwners({"a": CreatorRole.OWNER})  # type: ignore[dict-item]


def test_creator_keeps_an_owner() -> None:
    members = CreatorMembers.founded_by("u1").with_member("u2", CreatorRole.ADMIN)
    with pytest.raises(LastKeeperRemoval) as err:
        members.without("u1")
    assert err.value.code == "last-creator-owner"
    with pytest.raises(LastKeeperRemoval):
        members.with_role("u1", CreatorRole.MEMBER)
    assert members.without("u2").keepers == ("u1",)


@given(st.from_regex(r"[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,4}", fullmatch=True))
def test_valid_slugs_round_trip(text: str) -> None:
    if len(text) < 2 or text in RESERVED_SLUGS:
        with pytest.raises(InvalidValue):
            Slug(text)
    else:
        assert str(Slug(text)) == text
        assert Slug.from_text(text) == Slug(text)


@given(st.text(max_size=200))
def test_from_text_gives_a_valid_slug_or_a_clear_error(text: str) -> None:
    slug = _slug_or_code(text)
    if isinstance(slug, Slug):
        assert len(slug.value) <= SLUG_MAX
        assert Slug(slug.value) == slug
    else:
        assert slug in {"invalid-slug", "reserved-slug"}


def _slug_or_code(text: str) -> Slug | str:
    try:
        return Slug.from_text(text)
    except InvalidValue as err:
        return err.code


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Seth Godin's Blog!", "seth-godins-blog"),
        ("Café  Crème", "cafe-creme"),
        ("The 4-Hour Work Week", "the-4-hour-work-week"),
    ],
)
def test_from_text_examples(text: str, slug: str) -> None:
    assert Slug.from_text(text).value == slug


@pytest.mark.parametrize(
    "bad", ["", "a", "A-b", "a--b", "-ab", "ab-", "a_b", "a b", "x" * 65, "new", "admin", 12]
)
def test_bad_slugs(bad: object) -> None:
    with pytest.raises(InvalidValue):
        Slug(bad)  # type: ignore[arg-type]
