"""Liveness, readiness, Prometheus metrics, and the local-storage file route (``acre dev`` without S3)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery
from litestar.response import File
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from app import db, metrics
from app.errors import NotFound
from app.settings import get_settings
from app.storage import LocalStorage


@get("/health", include_in_schema=True, tags=["system"], summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _check(name: str, probe: Any) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, timeout=3)
        return name, "ok"
    except Exception as exc:
        return name, f"error: {type(exc).__name__}"


# What readiness means: this process can serve, so the load balancer should send it requests. Only
# PostgreSQL decides it: without the database nothing answers but 503s. Redis and storage are reported,
# not required: without Redis the API degrades (rate limits count in memory, the outbox keeps the jobs),
# without S3 what reads or writes a file fails and the rest answers. Both are shared by every pod:
# failing readiness on them would take every pod out of the load balancer at once, and turn a degraded
# service into none.
REQUIRED = ("database",)


@get(
    "/ready",
    tags=["system"],
    summary="Readiness: the database answers (Redis and storage reported, not required)",
    responses={
        HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
            dict[str, Any], description="The database does not answer (see checks)", generate_examples=False
        )
    },
)
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """200 ``ok`` when every check passes, 200 ``degraded`` when only Redis or storage fail, 503
    ``unavailable`` when the database does not answer."""
    state = request.app.state
    checks = dict(
        await asyncio.gather(
            _check("database", db.ping()),
            _check("redis", state.arq.ping()),
            _check("storage", state.storage.ping()),
        )
    )
    if any(checks[name] != "ok" for name in REQUIRED):
        status, code = "unavailable", HTTP_503_SERVICE_UNAVAILABLE
    else:
        status, code = ("ok" if all(v == "ok" for v in checks.values()) else "degraded"), 200
    return Response({"status": status, "checks": checks}, status_code=code)


@get("/metrics", include_in_schema=False)
async def metrics_route(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus metrics (``app.metrics``): a 404 while ``ACRE_METRICS_TOKEN`` is unset, a 401 without
    the token as a bearer token."""
    settings = get_settings()
    if not settings.metrics_token:
        raise NotFoundException()  # as if there were no such route
    if not metrics.authorized(request.headers.get("authorization"), settings):
        return Response(
            b"metrics need the bearer token\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    families = await metrics.scrape_families(getattr(request.app.state, "arq", None), settings)
    return Response(metrics.exposition(settings, families), media_type=metrics.CONTENT_TYPE)


@get("/files/{key:path}", include_in_schema=False)
async def local_file(
    request: Request[Any, Any, Any],
    key: FromPath[str],
    expires: FromQuery[int],
    sig: FromQuery[str],
    filename: FromQuery[str | None] = None,
) -> File:
    storage = request.app.state.storage
    key = key.lstrip("/")
    if not isinstance(storage, LocalStorage) or not storage.verify(key, expires, sig):
        raise NotFound("This link is not valid or has expired")
    path = storage.path(key)
    if not path.exists():
        raise NotFound()
    return File(path=path, filename=filename or path.name)


_bare_body: bytes | None = None


@get("/bench/bare", include_in_schema=False)
async def bench_bare() -> Response[bytes]:
    """The benchmarks' ceiling: the same JSON bytes as a real route, with no auth and no database.
    Registered only when ``ACRE_BENCH_BARE_BODY_FILE`` is set."""
    global _bare_body
    if _bare_body is None:
        path = get_settings().bench_bare_body_file
        _bare_body = path.read_bytes() if path else b"{}"
    return Response(_bare_body, media_type="application/json")
