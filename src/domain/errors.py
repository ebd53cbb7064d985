"""Errors raised by domain rules.

Every error carries a stable machine-readable ``code``; the HTTP layer turns it into the
problem-details ``type`` and the CLI prints it, so clients can branch on it safely.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule was broken. ``code`` is stable; ``message`` is for people."""

    code: str = "domain-rule-violated"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidValue(DomainError):
    """A value object was given a value it cannot hold (a negative amount, a bad currency)."""

    code = "invalid-value"


class IllegalTransition(DomainError):
    """A lifecycle was asked to move along an edge it does not have."""

    code = "illegal-transition"


class RuleViolation(DomainError):
    """An invariant spanning several values was broken (shares not summing to one...)."""

    code = "rule-violation"


class AllowanceExhausted(RuleViolation):
    """A conversation has no messages left in its allowance: a new purchase is needed."""

    code = "message-allowance-exhausted"


class LastKeeperRemoval(RuleViolation):
    """The last member holding the role a group cannot live without (a chatbot's last
    PRIMARY_OWNER, a creator's last OWNER) would be removed or demoted."""

    code = "last-owner"
