"""The worker's Prometheus metrics (``app.metrics``) on a port of its own: ``ACRE_WORKER_METRICS_HOST``
and ``ACRE_WORKER_METRICS_PORT`` (0 = none), ``GET /metrics`` with the ``ACRE_METRICS_TOKEN`` bearer
token; a minimal HTTP/1.0 listener in the worker's event loop, so the scrape-time values use the
worker's own database pool and Redis. Besides the API's, it reports the converter pool
(``acre_converters{state}``)."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric

from app import metrics
from app.documents.convert import current_converter
from app.settings import Settings

log = structlog.get_logger(__name__)
_MAX_HEAD = 16 * 1024


def converter_family() -> Metric:
    family = GaugeMetricFamily(
        "acre_converters", "This worker's warm LibreOffice converters by state", labels=["state"]
    )
    converter = current_converter()
    state = converter.pool_state() if converter else {"busy": 0, "idle": 0, "stopped": 0}
    for name, count in state.items():
        family.add_metric([name], count)
    return family


async def _answer(ctx: dict[str, Any], settings: Settings, head: bytes) -> tuple[int, bytes, str]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if len(parts) < 2 or parts[0] != "GET" or parts[1].split("?")[0] != "/metrics":
        return 404, b"not found\n", "text/plain"
    if not metrics.authorized(headers.get("authorization"), settings):
        return 401, b"metrics need the bearer token\n", "text/plain"
    families = await metrics.scrape_families(ctx.get("redis"), settings)
    return 200, metrics.exposition(settings, [*families, converter_family()]), metrics.CONTENT_TYPE


async def start(ctx: dict[str, Any], settings: Settings) -> asyncio.Server | None:
    """Listen for scrapes when the worker has a metrics port and a token; returns the server."""
    if not settings.worker_metrics_port or not settings.metrics_token:
        return None

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            if len(head) > _MAX_HEAD:
                raise ValueError("request head too large")
            status, body, media_type = await _answer(ctx, settings, head)
            reason = {200: "OK", 401: "Unauthorized", 404: "Not Found"}[status]
            extra = 'WWW-Authenticate: Bearer realm="metrics"\r\n' if status == 401 else ""
            writer.write(
                f"HTTP/1.0 {status} {reason}\r\nContent-Type: {media_type}\r\nContent-Length: {len(body)}\r\n"
                f"{extra}Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(
        handle, settings.worker_metrics_host, settings.worker_metrics_port, limit=_MAX_HEAD
    )
    log.info("worker metrics listening", host=settings.worker_metrics_host, port=settings.worker_metrics_port)
    return server
