"""Structured JSON logs (structlog) carrying a request id, and Sentry when a DSN is set."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings

_QUIET = frozenset({"/health", "/ready"})  # not logged unless they fail


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if settings.log_json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def init_sentry(settings: Settings, component: str) -> bool:
    """Initialise Sentry for the API or the worker; returns whether it is on."""
    if not settings.sentry_dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.arq import ArqIntegration
    from sentry_sdk.integrations.litestar import LitestarIntegration

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment,
        integrations=[LitestarIntegration(), ArqIntegration()],
        traces_sample_rate=0.0,
        send_default_pii=False,
    )
    sentry_sdk.set_tag("component", component)
    return True


def tag_request(request_id: str, tenant_id: str | None = None) -> None:
    """Tag the current Sentry scope (no-op without Sentry)."""
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover
        return
    sentry_sdk.set_tag("request_id", request_id)
    if tenant_id:
        sentry_sdk.set_tag("tenant_id", tenant_id)


def _sane(sent: bytes) -> bool:
    return 8 <= len(sent) <= 64 and sent.replace(b"-", b"").isalnum()  # ASCII only


def request_id_middleware(app: ASGIApp, *, sentry: bool = False) -> ASGIApp:
    """Give every request an id (the caller's ``X-Request-ID`` if sane), log it and echo it back; tag
    the Sentry scope with it only when Sentry is on (``sentry``, what ``init_sentry`` answered).

    Kept to a few microseconds a request: one pass over the headers, ``os.urandom`` for the id, one
    structlog context variable set and reset (not the whole context cleared); the access log line is a
    no-op below its level (``ACRE_LOG_LEVEL``)."""
    log = structlog.get_logger("acre.http")

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        sent = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"")
        request_id = sent.decode("ascii") if _sane(sent) else os.urandom(16).hex()
        header = (b"x-request-id", request_id.encode())
        scope.setdefault("state", {})["request_id"] = request_id
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        if sentry:
            tag_request(request_id)
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            if status >= 500 or scope["path"] not in _QUIET:
                state: dict[str, Any] = scope.get("state", {})
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=scope["path"],
                    status=status,
                    tenant_id=state.get("tenant_id"),
                )
            structlog.contextvars.reset_contextvars(**tokens)

    return middleware
