"""Prometheus metrics (``prometheus_client``): what the API and the worker count, and the exposition.

Counted as things happen: HTTP requests (count and latency by method, Litestar's route template — never
the raw path with its ids — and status), rate-limit refusals by bucket, jobs by name and outcome with
their durations. Measured at scrape time, with one cheap query each: the outbox backlog and the age of
its oldest pending row, the ARQ queue depth; the worker adds its converter pool (``workers.metrics``).

Protected by a bearer token: without ``ACRE_METRICS_TOKEN`` there are no metrics (``/metrics`` is a
404); with it, a scrape must send ``Authorization: Bearer <token>``. The API serves them on its own
port (``app.system_routes``), the worker on ``ACRE_WORKER_METRICS_PORT``.

Several API processes (``acre serve --workers N``): ``acre serve`` gives them one
``PROMETHEUS_MULTIPROC_DIR`` and whichever process answers a scrape adds up every process's counters
(``prometheus_client``'s multiprocess mode); the scrape-time values are the same from any process."""

from __future__ import annotations

import asyncio
import functools
import hmac
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, TypeVar

import structlog
from arq import Retry
from arq.connections import ArqRedis
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app import db
from app.settings import Settings

log = structlog.get_logger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404 or 405 of the router)
_SCRAPE_TIMEOUT = 2.0

HTTP_REQUESTS = Counter("acre_http_requests", "HTTP requests answered", ["method", "route", "status"])
HTTP_DURATION = Histogram(
    "acre_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RATE_LIMIT_REFUSALS = Counter(
    "acre_rate_limit_refusals", "Requests refused (429) by a per-address rate limit", ["bucket"]
)
JOBS = Counter("acre_jobs", "Background jobs run, by outcome", ["job", "outcome"])
JOB_DURATION = Histogram(
    "acre_job_duration_seconds",
    "Time a background job ran",
    ["job", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)


def http_metrics(app: ASGIApp) -> ASGIApp:
    """Count each HTTP request by its route template (``/api/v1/customers/{customer_id}``), set by
    Litestar's router in the scope, and its status."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises out

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_status)
        finally:
            labels = (scope.get("method", ""), scope.get("path_template") or UNMATCHED, str(status))
            HTTP_REQUESTS.labels(*labels).inc()
            HTTP_DURATION.labels(*labels).observe(time.perf_counter() - started)

    return middleware


J = TypeVar("J", bound=Callable[..., Awaitable[Any]])


def timed_job(name: str, coroutine: J) -> J:
    """``coroutine`` (an ARQ job) counted and timed under ``name``. Outcomes: ``success``, ``retry``
    (it raised ``arq.Retry``), ``cancelled`` (its timeout, or the worker stopping), ``failure``."""

    @functools.wraps(coroutine)
    async def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "failure"
        try:
            result = await coroutine(*args, **kwargs)
            outcome = "success"
            return result
        except Retry:
            outcome = "retry"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            JOBS.labels(name, outcome).inc()
            JOB_DURATION.labels(name, outcome).observe(time.perf_counter() - started)

    return run  # type: ignore[return-value]


def authorized(authorization: str | None, settings: Settings) -> bool:
    """Whether an ``Authorization`` header carries the metrics token (compared in constant time)."""
    token = settings.metrics_token
    if not token or not authorization:
        return False
    scheme, _, sent = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


class _Snapshot(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def _gauge(name: str, doc: str, value: float, labels: dict[str, str] | None = None) -> GaugeMetricFamily:
    if not labels:
        return GaugeMetricFamily(name, doc, value=value)
    family = GaugeMetricFamily(name, doc, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


async def _outbox() -> tuple[int, float]:
    async with db.transaction(None) as tx:
        pending = await tx.fetchval("SELECT count(*) FROM outbox WHERE enqueued_at IS NULL")
        age = await tx.fetchval(
            "SELECT extract(epoch FROM now() - created_at) FROM outbox WHERE enqueued_at IS NULL"
            " ORDER BY id LIMIT 1"
        )  # the pending partial index, in id order: the first is the oldest
    return int(pending), float(age or 0.0)


async def scrape_families(redis: ArqRedis | None, settings: Settings) -> list[Metric]:
    """The values measured at scrape time: the outbox backlog and its oldest row's age, the queue depth,
    and whether each source answered (``acre_scrape_source_up``; a value it could not get is left out)."""
    families: list[Metric] = []
    up = GaugeMetricFamily(
        "acre_scrape_source_up", "Whether a source answered this scrape", labels=["source"]
    )
    try:
        pending, age = await asyncio.wait_for(_outbox(), _SCRAPE_TIMEOUT)
    except Exception as exc:
        log.warning("metrics: outbox not measured", error=repr(exc))
        up.add_metric(["database"], 0)
    else:
        up.add_metric(["database"], 1)
        families.append(_gauge("acre_outbox_pending", "Outbox rows not yet relayed to the queue", pending))
        families.append(
            _gauge(
                "acre_outbox_oldest_pending_age_seconds", "Age of the oldest outbox row not yet relayed", age
            )
        )
    if redis is not None:
        try:
            depth = await asyncio.wait_for(redis.zcard(settings.queue_name), _SCRAPE_TIMEOUT)
        except Exception as exc:
            log.warning("metrics: queue not measured", error=repr(exc))
            up.add_metric(["redis"], 0)
        else:
            up.add_metric(["redis"], 1)
            families.append(
                _gauge(
                    "acre_queue_depth",
                    "Jobs waiting in the ARQ queue (due and deferred)",
                    float(depth),
                    {"queue": settings.queue_name},
                )
            )
    families.append(up)
    return families


def exposition(settings: Settings, families: Iterable[Metric] = ()) -> bytes:
    """The text exposition: the counted metrics (added up over every process of the multiprocess
    directory when there is one) followed by ``families`` measured for this scrape."""
    if settings.prometheus_multiproc_dir:
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted, path=str(settings.prometheus_multiproc_dir))
    else:
        counted = REGISTRY
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(_Snapshot(list(families)))
    return generate_latest(counted) + generate_latest(snapshot)
