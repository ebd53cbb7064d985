"""RFC 9457 problem details: the one table that maps errors to HTTP status codes.

Every error response of the API is ``application/problem+json`` with a stable ``type`` URI built
from the error's ``code`` (``/problems/<code>``), a human ``title``, the ``status``, a ``detail``,
the ``instance`` (request path) and the ``request_id``; validation errors add ``errors``, a map from
field path to message. Clients branch on ``type`` (or ``code``); the wording may change, the codes
never do.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    ValidationException,
)
from litestar.exceptions import (
    PermissionDeniedException as LitestarPermissionDenied,
)

from application.errors import (
    ApplicationError,
    Conflict,
    ExternalServiceError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
)
from domain.errors import DomainError, IllegalTransition, InvalidValue, RuleViolation

log = logging.getLogger("canon.http")

PROBLEM_JSON = "application/problem+json"

# The one table. Order matters: the first class an error is an instance of wins.
STATUS_BY_ERROR: tuple[tuple[type[Exception], int, str], ...] = (
    (InvalidInput, 422, "Invalid input"),
    (NotAuthenticated, 401, "Not authenticated"),
    (PermissionDenied, 403, "Permission denied"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict"),
    (PayloadTooLarge, 413, "Payload too large"),
    (RateLimited, 429, "Too many requests"),
    (ExternalServiceError, 502, "Upstream service failed"),
    (ServiceUnavailable, 503, "Service unavailable"),
    (InvalidValue, 422, "Invalid value"),
    (RuleViolation, 422, "Business rule violated"),
    (IllegalTransition, 409, "Illegal state transition"),
    (DomainError, 422, "Business rule violated"),
    (ApplicationError, 400, "Bad request"),
)

# Codes for errors raised by the framework itself (routing, parsing, size limits).
_FRAMEWORK_CODES: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("not-authenticated", "Not authenticated"),
    403: ("permission-denied", "Permission denied"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}


def problem_type(code: str) -> str:
    return f"/problems/{code}"


def problem_response(
    request: Request[Any, Any, Any],
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "code": code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _status_for(exc: Exception) -> tuple[int, str]:
    for cls, status, title in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status, title
    return 500, "Internal server error"


def handle_application_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    status, title = _status_for(exc)
    code = getattr(exc, "code", "internal-error")
    detail = getattr(exc, "message", str(exc))
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInput) and exc.errors:
        extra["errors"] = exc.errors
    if isinstance(exc, ApplicationError) and exc.extra:
        extra.update(exc.extra)
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_seconds)
        extra["retry_after"] = exc.retry_after_seconds
    return problem_response(
        request, status=status, code=code, title=title, detail=detail, extra=extra, headers=headers
    )


def _validation_errors(exc: ValidationException) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = str(item.get("key") or item.get("source") or "body")
            errors[key] = str(item.get("message", "is invalid"))
    return errors


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        return problem_response(
            request,
            status=422,
            code="invalid-input",
            title="Invalid input",
            detail=exc.detail or "The request is not valid.",
            extra={"errors": errors} if errors else None,
        )
    status = exc.status_code
    code, title = _FRAMEWORK_CODES.get(status, ("http-error", "HTTP error"))
    if isinstance(exc, NotFoundException):
        code, title = "not-found", "Not found"
    if isinstance(exc, LitestarPermissionDenied):
        code, title = "permission-denied", "Permission denied"
    headers = dict(exc.headers or {})
    return problem_response(
        request, status=status, code=code, title=title, detail=exc.detail, headers=headers
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(
        request,
        status=500,
        code="internal-error",
        title="Internal server error",
        detail="Something went wrong on our side; the request id identifies it in our logs.",
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ApplicationError: handle_application_error,
    DomainError: handle_application_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "STATUS_BY_ERROR",
    "MediaType",
    "problem_response",
    "problem_type",
]
