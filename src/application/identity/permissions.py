"""The allow/deny matrix: every action the platform has, and which roles may perform it.

This module is the ONE place where "who may do what" is written down. Use cases never test a
role themselves; they call an ``Authorizer`` (see ``authorizer.py``), which resolves the caller's
roles on the resource and asks :func:`is_allowed`. ``docs/security.md`` renders the same table
(``python -m application.identity.permissions`` prints it) and a test keeps the two equal.

Roles are *relative to a resource*: a user is ``chatbot-primary-owner`` on one chatbot and nothing
on the next. ``authenticated`` and ``anonymous`` are granted on a resource only when it is open to
the public (a public chatbot, a creator's public profile, the platform itself), so a private
chatbot is simply invisible to strangers. The matrix answers role questions only; state rules
(a chatbot that does not allow anonymous visitors, a conversation out of messages, a refund
window) stay in the use cases that own them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class ResourceKind(StrEnum):
    PLATFORM = "platform"
    USER = "user"
    CREATOR = "creator"
    SOURCE = "source"
    CHATBOT = "chatbot"
    CONVERSATION = "conversation"
    PURCHASE = "purchase"
    ENTERPRISE = "enterprise"


class Role(StrEnum):
    # a user's membership of a creator (Creator_User.role)
    CREATOR_OWNER = "creator-owner"
    CREATOR_ADMIN = "creator-admin"
    CREATOR_MEMBER = "creator-member"
    # a user's effective role on a chatbot, from Chatbot_Creator.role (see chatbot_role_for)
    CHATBOT_PRIMARY_OWNER = "chatbot-primary-owner"
    CHATBOT_CO_OWNER = "chatbot-co-owner"
    CHATBOT_CONTRIBUTOR = "chatbot-contributor"
    # Enterprise_User.role
    ENTERPRISE_ADMIN = "enterprise-admin"
    ENTERPRISE_MEMBER = "enterprise-member"
    # platform staff: moderation, payouts, refunds
    OPERATOR = "operator"
    # anyone signed in / any visitor, on a resource open to the public
    AUTHENTICATED = "authenticated"
    ANONYMOUS = "anonymous"
    # relationships to one record
    ACCOUNT_HOLDER = "account-holder"  # the user whose account it is
    CONVERSATION_OWNER = "conversation-owner"  # the user, or the anonymous id, that started it
    CONVERSATION_CLAIMANT = "conversation-claimant"  # signed in AND holds the anonymous id that started it
    PURCHASER = "purchaser"


class Action(StrEnum):
    """Every operation, named ``<resource>.<verb>``. The values are stored (API key scopes): never
    rename one."""

    CREATOR_CREATE = "creator.create"
    CREATOR_VIEW = "creator.view"
    CREATOR_UPDATE_PROFILE = "creator.update-profile"
    CREATOR_DELETE = "creator.delete"
    CREATOR_MANAGE_MEMBERS = "creator.manage-members"
    CREATOR_MANAGE_API_KEYS = "creator.manage-api-keys"
    CREATOR_MANAGE_PAYOUT_ACCOUNT = "creator.manage-payout-account"
    SOURCE_CREATE = "source.create"
    SOURCE_VIEW = "source.view"
    SOURCE_UPDATE = "source.update"
    SOURCE_UPLOAD_FILE = "source.upload-file"
    SOURCE_CHANGE_SHARES = "source.change-shares"
    SOURCE_DELETE = "source.delete"
    CHATBOT_CREATE = "chatbot.create"
    CHATBOT_VIEW = "chatbot.view"
    CHATBOT_VIEW_CONFIG = "chatbot.view-config"
    CHATBOT_ADD_CONTENT = "chatbot.add-content"
    CHATBOT_UPDATE_CONFIG = "chatbot.update-config"
    CHATBOT_PUBLISH = "chatbot.publish"
    CHATBOT_SET_ACTIVE = "chatbot.set-active"
    CHATBOT_ROLLBACK = "chatbot.rollback"
    CHATBOT_DELETE = "chatbot.delete"
    CHATBOT_MANAGE_OWNERS = "chatbot.manage-owners"
    CHATBOT_CHANGE_REVENUE_SETTINGS = "chatbot.change-revenue-settings"
    CHATBOT_VIEW_ANALYTICS = "chatbot.view-analytics"
    CHATBOT_FAVORITE = "chatbot.favorite"
    CHATBOT_REPORT = "chatbot.report"
    CONVERSATION_START = "conversation.start"
    CONVERSATION_VIEW = "conversation.view"
    CONVERSATION_SEND_MESSAGE = "conversation.send-message"
    CONVERSATION_GIVE_FEEDBACK = "conversation.give-feedback"
    CONVERSATION_ARCHIVE = "conversation.archive"
    CONVERSATION_CLAIM = "conversation.claim"
    PURCHASE_CREATE = "purchase.create"
    PURCHASE_VIEW = "purchase.view"
    PURCHASE_REFUND = "purchase.refund"
    REVENUE_VIEW_STATEMENTS = "revenue.view-statements"
    PAYOUT_REQUEST = "payout.request"
    PAYOUT_RUN = "payout.run"
    ATTRIBUTION_RUN = "attribution.run"
    ENTERPRISE_CREATE = "enterprise.create"
    ENTERPRISE_VIEW = "enterprise.view"
    ENTERPRISE_MANAGE_MEMBERS = "enterprise.manage-members"
    ENTERPRISE_VIEW_USAGE = "enterprise.view-usage"
    MODERATION_REVIEW_REPORTS = "moderation.review-reports"
    ACCOUNT_VIEW = "account.view"
    ACCOUNT_UPDATE = "account.update"
    ACCOUNT_DELETE = "account.delete"
    ACCOUNT_MANAGE_CONTEXT = "account.manage-context"


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action
    on: ResourceKind  # the kind of resource the action is checked against
    roles: frozenset[Role]
    api_key: bool  # may an API key ever carry this action?
    why: str


_R = Role
_COWN, _CADM, _CMEM = _R.CREATOR_OWNER, _R.CREATOR_ADMIN, _R.CREATOR_MEMBER
_PRI, _CO, _CON = _R.CHATBOT_PRIMARY_OWNER, _R.CHATBOT_CO_OWNER, _R.CHATBOT_CONTRIBUTOR
_EADM, _EMEM = _R.ENTERPRISE_ADMIN, _R.ENTERPRISE_MEMBER
_OPR, _AUTH, _ANON = _R.OPERATOR, _R.AUTHENTICATED, _R.ANONYMOUS


def _rule(
    action: Action, on: ResourceKind, roles: Iterable[Role], why: str, *, api_key: bool = False
) -> Rule:
    return Rule(action=action, on=on, roles=frozenset(roles), api_key=api_key, why=why)


_A, _K = Action, ResourceKind
RULES: tuple[Rule, ...] = (
    _rule(_A.CREATOR_CREATE, _K.PLATFORM, [_AUTH], "any signed-in user may become a creator"),
    _rule(
        _A.CREATOR_VIEW,
        _K.CREATOR,
        [_COWN, _CADM, _CMEM, _OPR, _AUTH, _ANON],
        "profiles are public",
        api_key=True,
    ),
    _rule(_A.CREATOR_UPDATE_PROFILE, _K.CREATOR, [_COWN, _CADM], "admins run the profile", api_key=True),
    _rule(_A.CREATOR_DELETE, _K.CREATOR, [_COWN], "only the owner ends a creator"),
    _rule(_A.CREATOR_MANAGE_MEMBERS, _K.CREATOR, [_COWN], "who acts for a creator is the owner's call"),
    _rule(_A.CREATOR_MANAGE_API_KEYS, _K.CREATOR, [_COWN], "keys act as the creator: owner only"),
    _rule(_A.CREATOR_MANAGE_PAYOUT_ACCOUNT, _K.CREATOR, [_COWN], "where the money goes"),
    _rule(_A.SOURCE_CREATE, _K.CREATOR, [_COWN, _CADM, _CMEM], "members contribute", api_key=True),
    _rule(_A.SOURCE_VIEW, _K.SOURCE, [_COWN, _CADM, _CMEM, _OPR], "sources are private", api_key=True),
    _rule(_A.SOURCE_UPDATE, _K.SOURCE, [_COWN, _CADM], "admins manage files", api_key=True),
    _rule(_A.SOURCE_UPLOAD_FILE, _K.SOURCE, [_COWN, _CADM, _CMEM], "members contribute", api_key=True),
    _rule(_A.SOURCE_CHANGE_SHARES, _K.SOURCE, [_COWN], "shares decide who is paid"),
    _rule(_A.SOURCE_DELETE, _K.SOURCE, [_COWN, _CADM], "admins manage files"),
    _rule(_A.CHATBOT_CREATE, _K.CREATOR, [_COWN, _CADM], "admins manage chatbots", api_key=True),
    _rule(
        _A.CHATBOT_VIEW,
        _K.CHATBOT,
        [_PRI, _CO, _CON, _OPR, _AUTH, _ANON],
        "public once published",
        api_key=True,
    ),
    _rule(
        _A.CHATBOT_VIEW_CONFIG,
        _K.CHATBOT,
        [_PRI, _CO, _CON, _OPR],
        "the prompt is the creator's",
        api_key=True,
    ),
    _rule(_A.CHATBOT_ADD_CONTENT, _K.CHATBOT, [_PRI, _CO, _CON], "contributors add content", api_key=True),
    _rule(
        _A.CHATBOT_UPDATE_CONFIG, _K.CHATBOT, [_PRI, _CO], "owners edit and publish versions", api_key=True
    ),
    _rule(_A.CHATBOT_PUBLISH, _K.CHATBOT, [_PRI, _CO], "owners decide visibility", api_key=True),
    _rule(
        _A.CHATBOT_SET_ACTIVE, _K.CHATBOT, [_PRI, _CO, _OPR], "operators can take a bot down", api_key=True
    ),
    _rule(_A.CHATBOT_ROLLBACK, _K.CHATBOT, [_PRI, _CO], "owners edit versions", api_key=True),
    _rule(_A.CHATBOT_DELETE, _K.CHATBOT, [_PRI], "only the primary owner deletes"),
    _rule(_A.CHATBOT_MANAGE_OWNERS, _K.CHATBOT, [_PRI], "only the primary owner adds/removes owners"),
    _rule(_A.CHATBOT_CHANGE_REVENUE_SETTINGS, _K.CHATBOT, [_PRI], "price and splits: primary owner"),
    _rule(_A.CHATBOT_VIEW_ANALYTICS, _K.CHATBOT, [_PRI, _CO], "co-owners see analytics", api_key=True),
    _rule(_A.CHATBOT_FAVORITE, _K.CHATBOT, [_AUTH], "favourites belong to an account"),
    _rule(_A.CHATBOT_REPORT, _K.CHATBOT, [_AUTH], "reports name a reporter"),
    _rule(_A.CONVERSATION_START, _K.CHATBOT, [_PRI, _CO, _CON, _AUTH, _ANON], "owners may test private bots"),
    _rule(_A.CONVERSATION_VIEW, _K.CONVERSATION, [_R.CONVERSATION_OWNER], "conversations are private"),
    _rule(_A.CONVERSATION_SEND_MESSAGE, _K.CONVERSATION, [_R.CONVERSATION_OWNER], "only its owner talks"),
    _rule(_A.CONVERSATION_GIVE_FEEDBACK, _K.CONVERSATION, [_R.CONVERSATION_OWNER], "only its owner rates"),
    _rule(_A.CONVERSATION_ARCHIVE, _K.CONVERSATION, [_R.CONVERSATION_OWNER], "only its owner archives"),
    _rule(_A.CONVERSATION_CLAIM, _K.CONVERSATION, [_R.CONVERSATION_CLAIMANT], "sign-up keeps the chat"),
    _rule(_A.PURCHASE_CREATE, _K.CHATBOT, [_AUTH], "a purchase needs an account"),
    _rule(_A.PURCHASE_VIEW, _K.PURCHASE, [_R.PURCHASER, _OPR], "receipts are private"),
    _rule(_A.PURCHASE_REFUND, _K.PURCHASE, [_OPR], "refunds reverse revenue: staff only"),
    _rule(_A.REVENUE_VIEW_STATEMENTS, _K.CREATOR, [_COWN, _CADM, _OPR], "admins do the books", api_key=True),
    _rule(_A.PAYOUT_REQUEST, _K.CREATOR, [_COWN], "the owner is paid"),
    _rule(_A.PAYOUT_RUN, _K.PLATFORM, [_OPR], "staff move money"),
    _rule(_A.ATTRIBUTION_RUN, _K.PLATFORM, [_OPR], "staff run attribution"),
    _rule(_A.ENTERPRISE_CREATE, _K.PLATFORM, [_OPR], "contracts are set up by staff"),
    _rule(_A.ENTERPRISE_VIEW, _K.ENTERPRISE, [_EADM, _EMEM, _OPR], "members see their plan"),
    _rule(_A.ENTERPRISE_MANAGE_MEMBERS, _K.ENTERPRISE, [_EADM, _OPR], "seats are the admin's"),
    _rule(_A.ENTERPRISE_VIEW_USAGE, _K.ENTERPRISE, [_EADM, _OPR], "usage is the admin's"),
    _rule(_A.MODERATION_REVIEW_REPORTS, _K.PLATFORM, [_OPR], "operators moderate"),
    _rule(_A.ACCOUNT_VIEW, _K.USER, [_R.ACCOUNT_HOLDER, _OPR], "support may look an account up"),
    _rule(_A.ACCOUNT_UPDATE, _K.USER, [_R.ACCOUNT_HOLDER], "one's own account"),
    _rule(_A.ACCOUNT_DELETE, _K.USER, [_R.ACCOUNT_HOLDER], "one's own account"),
    _rule(_A.ACCOUNT_MANAGE_CONTEXT, _K.USER, [_R.ACCOUNT_HOLDER], "what the bots remember is the user's"),
)

RULE_BY_ACTION: dict[Action, Rule] = {rule.action: rule for rule in RULES}
MATRIX: dict[Action, frozenset[Role]] = {rule.action: rule.roles for rule in RULES}
ACTION_RESOURCE: dict[Action, ResourceKind] = {rule.action: rule.on for rule in RULES}
API_KEY_GRANTABLE: frozenset[Action] = frozenset(rule.action for rule in RULES if rule.api_key)

# Seeing a resource = being allowed its view action. A caller who cannot see a resource gets the
# same "not found" as for one that does not exist, so ids cannot be probed.
VIEW_ACTION: dict[ResourceKind, Action] = {
    ResourceKind.USER: Action.ACCOUNT_VIEW,
    ResourceKind.CREATOR: Action.CREATOR_VIEW,
    ResourceKind.SOURCE: Action.SOURCE_VIEW,
    ResourceKind.CHATBOT: Action.CHATBOT_VIEW,
    ResourceKind.CONVERSATION: Action.CONVERSATION_VIEW,
    ResourceKind.PURCHASE: Action.PURCHASE_VIEW,
    ResourceKind.ENTERPRISE: Action.ENTERPRISE_VIEW,
}


def is_allowed(action: Action, roles: Iterable[Role]) -> bool:
    """True if any of ``roles`` may perform ``action``. Pure; unknown actions are denied."""
    allowed = MATRIX.get(action, frozenset())
    return any(role in allowed for role in roles)


# A user acts on a chatbot through a creator that owns it; their membership of that creator caps
# what the creator's ownership lets them do. Admins manage but never delete, re-split revenue or
# change owners (that stays with whoever owns the creator); members contribute.
_CHATBOT_ROLE_FOR: dict[tuple[Role, Role], Role] = {
    (_COWN, _PRI): _PRI,
    (_COWN, _CO): _CO,
    (_COWN, _CON): _CON,
    (_CADM, _PRI): _CO,
    (_CADM, _CO): _CO,
    (_CADM, _CON): _CON,
    (_CMEM, _PRI): _CON,
    (_CMEM, _CO): _CON,
    (_CMEM, _CON): _CON,
}


def chatbot_role_for(membership: Role, creator_role_on_chatbot: Role) -> Role:
    """The role a user holds on a chatbot, given their role in a creator (``Creator_User.role``)
    and that creator's role on the chatbot (``Chatbot_Creator.role``). An API key counts as its
    creator's owner."""
    try:
        return _CHATBOT_ROLE_FOR[(membership, creator_role_on_chatbot)]
    except KeyError:
        raise ValueError(f"no chatbot role for {membership} through {creator_role_on_chatbot}") from None


_HEADERS: dict[Role, str] = {
    _COWN: "C-own",
    _CADM: "C-adm",
    _CMEM: "C-mem",
    _PRI: "B-pri",
    _CO: "B-co",
    _CON: "B-con",
    _EADM: "E-adm",
    _EMEM: "E-mem",
    _OPR: "Opr",
    _AUTH: "Auth",
    _ANON: "Anon",
    _R.ACCOUNT_HOLDER: "Self",
    _R.CONVERSATION_OWNER: "Conv",
    _R.CONVERSATION_CLAIMANT: "Claim",
    _R.PURCHASER: "Buyer",
}


def render_markdown() -> str:
    """The matrix as a Markdown table (the one in ``docs/security.md``), legend first."""
    legend = ", ".join(f"{_HEADERS[role]} = `{role.value}`" for role in Role)
    head = ["Action", "On", *(_HEADERS[role] for role in Role), "Key", "Why"]
    lines = [
        f"Legend: {legend}. Key = an API key may carry it.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---", "---"] + [":-:"] * (len(Role) + 1) + ["---"]) + "|",
    ]
    for rule in RULES:
        cells = ["x" if role in rule.roles else "" for role in Role]
        key = "x" if rule.api_key else ""
        lines.append(
            "| " + " | ".join([f"`{rule.action.value}`", rule.on.value, *cells, key, rule.why]) + " |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
