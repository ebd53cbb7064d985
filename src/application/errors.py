"""Errors the application layer raises; the HTTP layer maps each class to one status code
through one table (``entrypoints/http/problems.py``) and the CLI prints them on one line.

Codes are stable strings: clients branch on them, so never rename one.
"""

from __future__ import annotations

from collections.abc import Mapping


class ApplicationError(Exception):
    code: str = "application-error"

    def __init__(
        self, message: str, *, code: str | None = None, extra: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra: dict[str, object] = dict(extra or {})


class InvalidInput(ApplicationError):
    """Input failed validation. ``errors`` maps a field path to what is wrong with it (422)."""

    code = "invalid-input"

    def __init__(
        self, message: str, *, errors: Mapping[str, str] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.errors: dict[str, str] = dict(errors or {})


class NotAuthenticated(ApplicationError):
    """No valid credentials were presented (401)."""

    code = "not-authenticated"


class PermissionDenied(ApplicationError):
    """The caller may see the resource but not do this to it (403)."""

    code = "permission-denied"


class NotFound(ApplicationError):
    """No such resource, or the caller may not see it: both answer the same way (404)."""

    code = "not-found"


class Conflict(ApplicationError):
    """The request conflicts with the current state (409): a duplicate, a lost race, a state
    that no longer allows the action."""

    code = "conflict"


class PayloadTooLarge(ApplicationError):
    code = "payload-too-large"


class RateLimited(ApplicationError):
    code = "rate-limited"

    def __init__(self, message: str, *, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_seconds = retry_after_seconds


class ExternalServiceError(ApplicationError):
    """A provider (LLM, processor, vector store) failed after retries (502)."""

    code = "external-service-error"


class ServiceUnavailable(ApplicationError):
    """A required component is not configured or not reachable (503)."""

    code = "service-unavailable"
