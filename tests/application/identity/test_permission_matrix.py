"""The matrix, walked cell by cell against a table written out independently here.

Changing who may do what means changing BOTH ``permissions.py`` and this table: a change of the
matrix must be deliberate, never a side effect.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from application.identity.permissions import (
    ACTION_RESOURCE,
    API_KEY_GRANTABLE,
    MATRIX,
    RULES,
    VIEW_ACTION,
    Action,
    ResourceKind,
    Role,
    chatbot_role_for,
    is_allowed,
    render_markdown,
)

# role columns, spelled out by value so a renamed enum member cannot slip through
EXPECTED: dict[str, set[str]] = {
    "creator.create": {"authenticated"},
    "creator.view": {
        "creator-owner",
        "creator-admin",
        "creator-member",
        "operator",
        "authenticated",
        "anonymous",
    },
    "creator.update-profile": {"creator-owner", "creator-admin"},
    "creator.delete": {"creator-owner"},
    "creator.manage-members": {"creator-owner"},
    "creator.manage-api-keys": {"creator-owner"},
    "creator.manage-payout-account": {"creator-owner"},
    "source.create": {"creator-owner", "creator-admin", "creator-member"},
    "source.view": {"creator-owner", "creator-admin", "creator-member", "operator"},
    "source.update": {"creator-owner", "creator-admin"},
    "source.upload-file": {"creator-owner", "creator-admin", "creator-member"},
    "source.change-shares": {"creator-owner"},
    "source.delete": {"creator-owner", "creator-admin"},
    "chatbot.create": {"creator-owner", "creator-admin"},
    "chatbot.view": {
        "chatbot-primary-owner",
        "chatbot-co-owner",
        "chatbot-contributor",
        "operator",
        "authenticated",
        "anonymous",
    },
    "chatbot.view-config": {"chatbot-primary-owner", "chatbot-co-owner", "chatbot-contributor", "operator"},
    "chatbot.add-content": {"chatbot-primary-owner", "chatbot-co-owner", "chatbot-contributor"},
    "chatbot.update-config": {"chatbot-primary-owner", "chatbot-co-owner"},
    "chatbot.publish": {"chatbot-primary-owner", "chatbot-co-owner"},
    "chatbot.set-active": {"chatbot-primary-owner", "chatbot-co-owner", "operator"},
    "chatbot.rollback": {"chatbot-primary-owner", "chatbot-co-owner"},
    "chatbot.delete": {"chatbot-primary-owner"},
    "chatbot.manage-owners": {"chatbot-primary-owner"},
    "chatbot.change-revenue-settings": {"chatbot-primary-owner"},
    "chatbot.view-analytics": {"chatbot-primary-owner", "chatbot-co-owner"},
    "chatbot.favorite": {"authenticated"},
    "chatbot.report": {"authenticated"},
    "conversation.start": {
        "chatbot-primary-owner",
        "chatbot-co-owner",
        "chatbot-contributor",
        "authenticated",
        "anonymous",
    },
    "conversation.view": {"conversation-owner"},
    "conversation.send-message": {"conversation-owner"},
    "conversation.give-feedback": {"conversation-owner"},
    "conversation.archive": {"conversation-owner"},
    "conversation.claim": {"conversation-claimant"},
    "purchase.create": {"authenticated"},
    "purchase.view": {"purchaser", "operator"},
    "purchase.refund": {"operator"},
    "revenue.view-statements": {"creator-owner", "creator-admin", "operator"},
    "payout.request": {"creator-owner"},
    "payout.run": {"operator"},
    "attribution.run": {"operator"},
    "enterprise.create": {"operator"},
    "enterprise.view": {"enterprise-admin", "enterprise-member", "operator"},
    "enterprise.manage-members": {"enterprise-admin", "operator"},
    "enterprise.view-usage": {"enterprise-admin", "operator"},
    "moderation.review-reports": {"operator"},
    "account.view": {"account-holder", "operator"},
    "account.update": {"account-holder"},
    "account.delete": {"account-holder"},
    "account.manage-context": {"account-holder"},
}

EXPECTED_API_KEY = {
    "creator.view",
    "creator.update-profile",
    "source.create",
    "source.view",
    "source.update",
    "source.upload-file",
    "chatbot.create",
    "chatbot.view",
    "chatbot.view-config",
    "chatbot.add-content",
    "chatbot.update-config",
    "chatbot.publish",
    "chatbot.set-active",
    "chatbot.rollback",
    "chatbot.view-analytics",
    "revenue.view-statements",
}

ALL_ROLES = {
    "creator-owner",
    "creator-admin",
    "creator-member",
    "chatbot-primary-owner",
    "chatbot-co-owner",
    "chatbot-contributor",
    "enterprise-admin",
    "enterprise-member",
    "operator",
    "authenticated",
    "anonymous",
    "account-holder",
    "conversation-owner",
    "conversation-claimant",
    "purchaser",
}


def test_every_action_is_in_the_expected_table_and_nothing_else() -> None:
    assert {action.value for action in Action} == set(EXPECTED)
    assert {role.value for role in Role} == ALL_ROLES
    assert set(MATRIX) == set(Action)
    assert len(RULES) == len(Action)  # one rule per action, none twice


@pytest.mark.parametrize(("action", "role"), list(itertools.product(Action, Role)))
def test_every_action_for_every_role(action: Action, role: Role) -> None:
    assert is_allowed(action, {role}) == (role.value in EXPECTED[action.value])


@pytest.mark.parametrize("action", list(Action))
def test_no_roles_may_do_nothing_and_all_roles_together_may_do_everything(action: Action) -> None:
    assert not is_allowed(action, set())
    assert is_allowed(action, set(Role))


def test_the_business_rules_hold() -> None:
    only_primary = {Role.CHATBOT_PRIMARY_OWNER}
    for action in (
        Action.CHATBOT_DELETE,
        Action.CHATBOT_CHANGE_REVENUE_SETTINGS,
        Action.CHATBOT_MANAGE_OWNERS,
    ):
        assert MATRIX[action] == only_primary
    assert MATRIX[Action.CREATOR_DELETE] == {Role.CREATOR_OWNER}
    assert is_allowed(Action.CHATBOT_CREATE, {Role.CREATOR_ADMIN})
    assert is_allowed(Action.SOURCE_UPLOAD_FILE, {Role.CREATOR_ADMIN})
    assert not is_allowed(Action.CREATOR_DELETE, {Role.CREATOR_ADMIN})
    assert is_allowed(Action.SOURCE_VIEW, {Role.CREATOR_MEMBER})
    assert is_allowed(Action.SOURCE_UPLOAD_FILE, {Role.CREATOR_MEMBER})
    assert not is_allowed(Action.SOURCE_UPDATE, {Role.CREATOR_MEMBER})
    assert is_allowed(Action.MODERATION_REVIEW_REPORTS, {Role.OPERATOR})
    assert is_allowed(Action.PAYOUT_RUN, {Role.OPERATOR})
    # money moves only through owners and staff
    for action in (Action.PAYOUT_REQUEST, Action.SOURCE_CHANGE_SHARES, Action.CREATOR_MANAGE_PAYOUT_ACCOUNT):
        assert MATRIX[action] == {Role.CREATOR_OWNER}


@pytest.mark.parametrize(
    "ladder",
    [
        [Role.CREATOR_OWNER, Role.CREATOR_ADMIN, Role.CREATOR_MEMBER],
        [Role.CHATBOT_PRIMARY_OWNER, Role.CHATBOT_CO_OWNER, Role.CHATBOT_CONTRIBUTOR],
        [Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_MEMBER],
    ],
)
def test_a_higher_rank_may_do_everything_a_lower_one_may(ladder: list[Role]) -> None:
    """The role resolver keeps only a principal's best rank in a creator; that is only sound if
    ranks are nested."""
    for higher, lower in itertools.pairwise(ladder):
        for action in Action:
            if is_allowed(action, {lower}):
                assert is_allowed(action, {higher}), (action, higher, lower)


def test_api_keys_carry_only_the_expected_actions() -> None:
    assert {action.value for action in API_KEY_GRANTABLE} == EXPECTED_API_KEY
    never = {"creator.delete", "creator.manage-api-keys", "creator.manage-members", "payout.request"}
    assert not never & EXPECTED_API_KEY


def test_every_grantable_action_is_one_a_creator_owner_could_do_through_its_roles() -> None:
    creator_side = {Role.CREATOR_OWNER, Role.CHATBOT_PRIMARY_OWNER}
    for action in API_KEY_GRANTABLE:
        assert is_allowed(action, creator_side), action


def test_every_resource_but_the_platform_has_a_view_action_on_itself() -> None:
    assert set(VIEW_ACTION) == set(ResourceKind) - {ResourceKind.PLATFORM}
    for kind, view in VIEW_ACTION.items():
        assert ACTION_RESOURCE[view] is kind


@pytest.mark.parametrize(
    ("membership", "ownership", "expected"),
    [
        (Role.CREATOR_OWNER, Role.CHATBOT_PRIMARY_OWNER, Role.CHATBOT_PRIMARY_OWNER),
        (Role.CREATOR_OWNER, Role.CHATBOT_CO_OWNER, Role.CHATBOT_CO_OWNER),
        (Role.CREATOR_OWNER, Role.CHATBOT_CONTRIBUTOR, Role.CHATBOT_CONTRIBUTOR),
        (Role.CREATOR_ADMIN, Role.CHATBOT_PRIMARY_OWNER, Role.CHATBOT_CO_OWNER),
        (Role.CREATOR_ADMIN, Role.CHATBOT_CO_OWNER, Role.CHATBOT_CO_OWNER),
        (Role.CREATOR_ADMIN, Role.CHATBOT_CONTRIBUTOR, Role.CHATBOT_CONTRIBUTOR),
        (Role.CREATOR_MEMBER, Role.CHATBOT_PRIMARY_OWNER, Role.CHATBOT_CONTRIBUTOR),
        (Role.CREATOR_MEMBER, Role.CHATBOT_CO_OWNER, Role.CHATBOT_CONTRIBUTOR),
        (Role.CREATOR_MEMBER, Role.CHATBOT_CONTRIBUTOR, Role.CHATBOT_CONTRIBUTOR),
    ],
)
def test_chatbot_role_through_a_creator_membership(membership: Role, ownership: Role, expected: Role) -> None:
    assert chatbot_role_for(membership, ownership) is expected


def test_chatbot_role_refuses_roles_that_are_not_memberships() -> None:
    with pytest.raises(ValueError, match="no chatbot role"):
        chatbot_role_for(Role.OPERATOR, Role.CHATBOT_PRIMARY_OWNER)


def test_the_markdown_table_has_a_row_per_action_and_a_column_per_role() -> None:
    table = [line for line in render_markdown().splitlines() if line.startswith("|")]
    header, _rule, *rows = table
    assert len(rows) == len(Action)
    assert header.count("|") == len(Role) + 5  # Action, On, roles..., Key, Why
    delete_row = next(row for row in rows if "`chatbot.delete`" in row)
    assert delete_row.count(" x ") == 1


def test_the_module_prints_the_table() -> None:
    src = Path(__file__).resolve().parents[3] / "src"
    out = subprocess.run(
        [sys.executable, "-m", "application.identity.permissions"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    assert out.stdout == render_markdown()
