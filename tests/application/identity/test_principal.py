"""Principal and Resource refuse inconsistent shapes."""

from __future__ import annotations

import pytest

from application.identity.permissions import Action, ResourceKind
from application.identity.principal import Principal, PrincipalKind, Resource


def test_the_three_kinds() -> None:
    user = Principal.user("u1", anonymous_id="a1")
    assert (user.kind, user.user_id, user.anonymous_id, user.is_operator) == (
        PrincipalKind.USER,
        "u1",
        "a1",
        False,
    )
    key = Principal.api_key(api_key_id="k1", creator_id="c1", actions=[Action.CHATBOT_VIEW])
    assert key.api_key_actions == {Action.CHATBOT_VIEW}
    visitor = Principal.anonymous("a2")
    assert visitor.is_anonymous
    assert not user.is_anonymous


@pytest.mark.parametrize(
    "build",
    [
        lambda: Principal(kind=PrincipalKind.USER),
        lambda: Principal(kind=PrincipalKind.USER, user_id="u", creator_id="c"),
        lambda: Principal(kind=PrincipalKind.ANONYMOUS),
        lambda: Principal(kind=PrincipalKind.ANONYMOUS, anonymous_id="a", is_operator=True),
        lambda: Principal(kind=PrincipalKind.ANONYMOUS, anonymous_id="a", user_id="u"),
        lambda: Principal(kind=PrincipalKind.API_KEY, api_key_id="k"),
        lambda: Principal(kind=PrincipalKind.API_KEY, api_key_id="k", creator_id="c", user_id="u"),
        lambda: Principal(
            kind=PrincipalKind.USER, user_id="u", api_key_actions=frozenset({Action.CHATBOT_VIEW})
        ),
        lambda: Principal.api_key(api_key_id="k", creator_id="c", actions=[Action.CREATOR_DELETE]),
    ],
)
def test_inconsistent_principals_are_refused(build: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        build()  # type: ignore[operator]


def test_resources() -> None:
    assert Resource.platform().id is None
    assert Resource.chatbot("b").kind is ResourceKind.CHATBOT
    with pytest.raises(ValueError, match="platform has no id"):
        Resource(ResourceKind.PLATFORM, "x")
    with pytest.raises(ValueError, match="needs one"):
        Resource(ResourceKind.CHATBOT)
