"""The ``AppError`` family, turned by one handler into ``application/problem+json`` (RFC 9457).

``type`` is a stable ``/problems/<code>`` reference that clients may switch on; ``title`` and
``detail`` are translated into the request's locale. A dependency that does not answer (PostgreSQL
down or restarting, a connection refused or reset, a timeout) is a 503 ``/problems/unavailable`` with
``Retry-After``, not a 500: the request may well succeed in a few seconds.
"""

from __future__ import annotations

from typing import Any, ClassVar

import asyncpg
import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from app import i18n
from app.i18n import N_

PROBLEM_JSON = "application/problem+json"
TRY_LATER = i18n.N_("Too many attempts from your network; try again in a minute")
log = structlog.get_logger(__name__)


class FieldError(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct):
    """The shape of every error answer, for the OpenAPI document (the handler below builds a dict).
    Some problems carry more members (a conflict names the existing customer, a 402 the billing
    link), so other members are allowed."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None
    request_id: str | None = None


class AppError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, /, *, extra: dict[str, Any] | None = None, **params: Any):
        super().__init__(detail or self.title)
        self.detail = detail
        self.params = params
        self.extra = extra or {}
        self.headers: dict[str, str] = {}


class BadRequest(AppError):
    pass


class NotAuthenticated(AppError):
    status, code, title = 401, "not-authenticated", "Authentication required"


class PaymentRequired(AppError):
    status, code, title = 402, "payment-required", "Payment required"


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(AppError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class Gone(AppError):
    status, code, title = 410, "gone", "No longer available"


class ValidationFailed(AppError):
    """422 with ``errors: [{field, message}]``; build it with :meth:`field`."""

    status, code, title = 422, "validation", "The request has invalid fields"

    @classmethod
    def field(cls, field: str, message: str, **params: Any) -> ValidationFailed:
        return cls(extra={"errors": [{"field": field, "message": message, "params": params}]})


class RateLimited(AppError):
    """429 with ``Retry-After`` (whole seconds, at least 1) when ``retry_after`` is given."""

    status, code, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str | None = None, /, *, retry_after: int | None = None, **params: Any):
        super().__init__(detail, **params)
        if retry_after is not None:
            self.headers["Retry-After"] = str(max(1, retry_after))


class ServiceUnavailable(AppError):
    status, code, title = 503, "unavailable", "Temporarily unavailable"


RETRY_AFTER_SECONDS = 5
M_UNAVAILABLE = N_("A service we depend on is not answering; try again in a few seconds")
# What "the database (or another service) is not answering" looks like from here.
UNAVAILABLE = (
    asyncpg.PostgresConnectionError,  # the connection broke, or could not be made
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    ConnectionError,  # refused, reset, broken pipe
    TimeoutError,
)


def _locale(request: Request[Any, Any, Any]) -> str:
    locale = request.scope.get("state", {}).get("locale")
    return locale or i18n.negotiate(request.headers.get("accept-language"))


def problem(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    params: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    locale = _locale(request)
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": i18n.translate(locale, title),
        "status": status,
    }
    if detail:
        body["detail"] = i18n.translate(locale, detail, **(params or {}))
    for key, value in (extra or {}).items():
        if key == "errors":
            value = [
                {"field": e["field"], "message": i18n.translate(locale, e["message"], **e.get("params", {}))}
                for e in value
            ]
        body[key] = value
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        body["request_id"] = request_id
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def app_error_handler(request: Request[Any, Any, Any], exc: AppError) -> Response[dict[str, Any]]:
    return problem(request, exc.status, exc.code, exc.title, exc.detail, exc.params, exc.extra, exc.headers)


def rate_limit_headers(exc: HTTPException) -> dict[str, str]:
    """The rate limiter's own headers (``RateLimit-*``) plus ``Retry-After``: the seconds until its
    window resets."""
    headers = {k: str(v) for k, v in (exc.headers or {}).items()}
    reset = headers.get("RateLimit-Reset")
    if reset is not None and reset.lstrip("-").isdigit():
        headers["Retry-After"] = str(max(1, int(reset)))
    return headers


def _validation_fields(extra: Any) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            fields.append({"field": str(item.get("key") or "body"), "message": str(item.get("message", ""))})
    return fields


def _looks_malformed(detail: Any) -> bool:
    text = str(detail).lower()
    return any(word in text for word in ("malformed", "json", "decode", "utf-8", "unexpected character"))


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(exc, ValidationException):
        fields = [f for f in _validation_fields(exc.extra) if f["field"] != "body"]
        if not fields and _looks_malformed(exc.detail):
            return problem(request, 400, "malformed-body", "The request body is not valid JSON")
        return problem(
            request,
            422,
            ValidationFailed.code,
            ValidationFailed.title,
            extra={
                "errors": fields
                or _validation_fields(exc.extra)
                or [{"field": "body", "message": str(exc.detail)}]
            },
        )
    if isinstance(exc, NotFoundException):
        return problem(request, 404, NotFound.code, NotFound.title)
    if exc.status_code == 400:
        if _looks_malformed(exc.detail):
            return problem(request, 400, "malformed-body", "The request body is not valid JSON")
        return problem(request, 400, BadRequest.code, BadRequest.title, detail=str(exc.detail))
    if exc.status_code == 429:  # the per-address limiter (app.rate_limits)
        return problem(
            request, 429, RateLimited.code, RateLimited.title, TRY_LATER, headers=rate_limit_headers(exc)
        )
    headers = dict(exc.headers or {})  # Litestar's own, e.g. ``Allow`` on a 405
    codes = {401: NotAuthenticated, 402: PaymentRequired, 403: Forbidden, 409: Conflict}
    known = codes.get(exc.status_code)
    if known is not None:
        return problem(request, exc.status_code, known.code, known.title, headers=headers)
    return problem(request, exc.status_code, f"http-{exc.status_code}", str(exc.detail), headers=headers)


def unavailable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.warning("a dependency is not answering", error=repr(exc), path=request.url.path)
    return problem(
        request,
        ServiceUnavailable.status,
        ServiceUnavailable.code,
        ServiceUnavailable.title,
        M_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", exc_info=exc)
    return problem(request, 500, "internal", "Something went wrong on our side")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    AppError: app_error_handler,
    HTTPException: http_error_handler,
    **dict.fromkeys(UNAVAILABLE, unavailable_handler),
    Exception: internal_error_handler,
}
