"""Turning a database's "constraint violated" into an application ``Conflict`` with a stable code.

The database is the last line of defence for rules that must hold under concurrency (a slug is
unique, a creator has one CREATOR chatbot, a version number is used once): two requests can both
pass an application check, and only the constraint stops the second. When it does, the caller
should get the same answer as if the application check had caught it, so we find out which
constraint failed and map its (stable, convention-given) name to a code.

How we learn the name differs by database:

- PostgreSQL (asyncpg) reports ``constraint_name`` on the driver exception, plus the SQLSTATE.
- SQLite reports unique violations as ``UNIQUE constraint failed: table.col, table.col``, so the
  name is looked up from the table and columns in the metadata; named CHECK constraints are
  reported by name; foreign keys and NOT NULL come without a name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Final

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.persistence.models import Base
from application.errors import Conflict

CONFLICT_CODES: Final[dict[str, str]] = {
    "uq_user_clerk_id": "user-external-id-taken",
    "uq_creator_slug": "creator-slug-taken",
    "uq_creator_user_creator_id_user_id": "already-member",
    "uq_source_creator_source_id_creator_id": "duplicate-share",
    "uq_source_creator_share_history_effective": "share-change-conflict",
    "uq_chatbot_slug": "chatbot-slug-taken",
    "uq_chatbot_persona_creator_id": "creator-chatbot-exists",
    "uq_chatbot_creator_chatbot_id_creator_id": "already-owner",
    "uq_chatbot_version_chatbot_id_version_number": "version-conflict",
    "ck_chatbot_persona_matches_type": "creator-chatbot-needs-persona",
    "ck_conversation_has_participant": "conversation-needs-participant",
}
"""Constraint name -> the ``Conflict.code`` callers branch on (the same codes the in-memory
adapters raise). Constraints not listed get a generic code per kind of violation."""

_GENERIC: Final = {
    "23505": "unique-violation",
    "23503": "missing-reference",
    "23514": "check-violation",
    "23502": "missing-value",
}
# A serialization failure or a deadlock means another transaction won a race: retrying the
# whole use case may succeed, so it is a conflict rather than a server error.
_RACE_LOST: Final = {"40001", "40P01"}

_SQLITE_UNIQUE: Final = re.compile(r"UNIQUE constraint failed: (.+)$")
_SQLITE_CHECK: Final = re.compile(r"CHECK constraint failed: (\w+)")


@cache
def _unique_names() -> dict[tuple[str, frozenset[str]], str]:
    names: dict[tuple[str, frozenset[str]], str] = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and isinstance(constraint.name, str):
                names[(table.name, frozenset(c.name for c in constraint.columns))] = constraint.name
        for index in table.indexes:
            if isinstance(index, Index) and index.unique and isinstance(index.name, str):
                key = (table.name, frozenset(c.name for c in index.columns if hasattr(c, "name")))
                names.setdefault(key, index.name)
    return names


def _driver_error(exc: DBAPIError) -> BaseException | None:
    orig = exc.orig
    inner = getattr(orig, "orig", None)  # the asyncpg exception behind SQLAlchemy's adapter
    return inner if isinstance(inner, BaseException) else orig


def constraint_name(exc: DBAPIError) -> str | None:
    """The name of the constraint ``exc`` reports, when the database says (or we can tell)."""
    driver = _driver_error(exc)
    name = getattr(driver, "constraint_name", None)
    if isinstance(name, str) and name:
        return name
    message = str(exc.orig)
    if match := _SQLITE_UNIQUE.search(message):
        pairs = [part.strip().split(".", 1) for part in match.group(1).split(",")]
        if all(len(p) == 2 for p in pairs):
            table = pairs[0][0]
            return _unique_names().get((table, frozenset(col for _, col in pairs)))
    if match := _SQLITE_CHECK.search(message):
        return match.group(1)
    return None


def _sqlstate(exc: DBAPIError) -> str | None:
    state = getattr(exc.orig, "sqlstate", None) or getattr(_driver_error(exc), "sqlstate", None)
    if isinstance(state, str):
        return state
    message = str(exc.orig)
    if message.startswith("UNIQUE constraint failed"):
        return "23505"
    if message.startswith("FOREIGN KEY constraint failed"):
        return "23503"
    if message.startswith("CHECK constraint failed"):
        return "23514"
    if message.startswith("NOT NULL constraint failed"):
        return "23502"
    return None


def is_race_lost(exc: DBAPIError) -> bool:
    """Whether ``exc`` is PostgreSQL telling us another transaction won (serialization, deadlock)."""
    return _sqlstate(exc) in _RACE_LOST


def conflict_from(exc: DBAPIError, *, codes: Mapping[str, str] | None = None) -> Conflict:
    """The ``Conflict`` to raise for an integrity error (or a lost serialization race).

    ``codes`` lets a repository outside this module name its own constraints' codes.
    """
    name = constraint_name(exc)
    state = _sqlstate(exc)
    table = {**CONFLICT_CODES, **(codes or {})}
    if name is not None and name in table:
        code = table[name]
    elif state in _RACE_LOST:
        code = "concurrent-update"
    else:
        code = _GENERIC.get(state or "", "integrity-violation")
    extra: dict[str, object] = {}
    if name is not None:
        extra["constraint"] = name
    message = _MESSAGES.get(code, "The change conflicts with data that already exists.")
    return Conflict(message, code=code, extra=extra)


def is_integrity_error(exc: BaseException) -> bool:
    return isinstance(exc, IntegrityError) or (isinstance(exc, DBAPIError) and is_race_lost(exc))


_MESSAGES: Final = {
    "user-external-id-taken": "A user with this external identity already exists.",
    "creator-slug-taken": "A creator with this slug already exists.",
    "already-member": "This user is already a member of the creator.",
    "duplicate-share": "This creator already has a share in the source.",
    "share-change-conflict": "The shares of this source were already changed at that moment.",
    "chatbot-slug-taken": "A chatbot with this slug already exists.",
    "creator-chatbot-exists": "This creator already has a CREATOR chatbot.",
    "already-owner": "This creator already owns the chatbot.",
    "version-conflict": "Another version was published at the same time; reload and try again.",
    "concurrent-update": "Another change happened at the same time; try again.",
    "missing-reference": "The change refers to something that does not exist.",
}
