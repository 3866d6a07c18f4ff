"""Prometheus metrics (app.metrics): the API's /metrics behind its bearer token, request counts by
route template and status, rate-limit refusals, job outcomes, the outbox backlog; the worker's own
listener (workers.metrics)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app import db, outbox
from app.dev import free_port
from app.main import create_app
from app.settings import get_settings
from tests.helpers import client_at, random_ip, run_jobs, settings_env, signup
from tests.integration.test_outages import Services, eventually, services  # noqa: F401 - the fixture
from workers import metrics as worker_metrics

TOKEN = "metrics-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: Any) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with settings_env(metrics_token=TOKEN):
        r = await client.get("/metrics", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return samples(r.text)


async def test_metrics_are_refused_without_the_token_and_off_without_one(client):
    assert (await client.get("/metrics")).status_code == 404  # no token configured: no metrics at all
    assert (await client.get("/metrics", headers=AUTH)).status_code == 404
    with settings_env(metrics_token=TOKEN):
        r = await client.get("/metrics")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert "acre_http_requests" not in r.text
        r = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert r.status_code == 401
        r = await client.get("/metrics", headers={"Authorization": TOKEN})  # not as a bearer token
        assert r.status_code == 401
    # kept out of the API's schema
    assert "/metrics" not in (await client.get("/schema/openapi.json")).json()["paths"]


async def test_requests_are_counted_by_route_template_and_status(app, client):
    owner = await signup(client)
    before = await scrape(client)
    template = "/api/v1/customers/{customer_id}"
    missing = uuid.uuid4()
    bearer = {"Authorization": f"Bearer {owner.token}"}
    assert (await client.get("/health")).status_code == 200
    assert (await client.get(f"/api/v1/customers/{missing}", headers=bearer)).status_code == 404
    assert (await client.get(f"/no-such-page/{missing}")).status_code == 404

    # a 429 from the per-address limit (an app of its own with a limit of 1, as in test_http)
    with settings_env(login_rate_limit_per_minute="1"):
        limited = create_app()
    async with client_at(limited, random_ip()) as c:
        statuses = [
            (await c.post("/api/v1/verify", files={"file": ("x.pdf", b"nope")})).status_code for _ in range(2)
        ]
    assert statuses[-1] == 429, statuses

    after = await scrape(client)
    counted = "acre_http_requests_total"
    assert value(after, counted, method="GET", route="/health", status="200") == (
        value(before, counted, method="GET", route="/health", status="200") + 1
    )
    assert value(after, counted, method="GET", route=template, status="404") == (
        value(before, counted, method="GET", route=template, status="404") + 1
    )
    assert value(after, counted, method="GET", route="unmatched", status="404") >= 1
    assert value(after, counted, method="POST", route="/api/v1/verify", status="429") == (
        value(before, counted, method="POST", route="/api/v1/verify", status="429") + 1
    )
    assert value(after, "acre_rate_limit_refusals_total", bucket="verify") == (
        value(before, "acre_rate_limit_refusals_total", bucket="verify") + 1
    )
    latency = "acre_http_request_duration_seconds_count"
    assert value(after, latency, method="GET", route=template, status="404") >= 1
    assert not any(str(missing) in v for (_, labels) in after for _, v in labels)  # ids never in labels


async def test_a_job_run_by_the_worker_is_counted_with_its_outcome(app, client):
    await run_jobs(app)  # the jobs other tests left queued first
    before = await scrape(client)
    async with db.transaction(None) as tx:  # a mail that does not exist: the job answers "missing"
        await outbox.add_job(tx, "send_email", None, str(uuid.uuid4()))
    await run_jobs(app)
    after = await scrape(client)
    jobs = "acre_jobs_total"
    assert value(after, jobs, job="send_email", outcome="success") == (
        value(before, jobs, job="send_email", outcome="success") + 1
    )
    durations = "acre_job_duration_seconds_count"
    assert value(after, durations, job="send_email", outcome="success") == (
        value(before, durations, job="send_email", outcome="success") + 1
    )
    assert value(after, "acre_scrape_source_up", source="redis") == 1
    assert ("acre_queue_depth", frozenset({("queue", get_settings().queue_name)})) in after


async def test_the_outbox_backlog_and_its_oldest_row_show(app, client):
    await outbox.relay(app.state.arq)  # nothing left pending from other tests
    names = [f"metrics-test:{uuid.uuid4()}" for _ in range(3)]
    async with db.transaction(None) as tx:
        for name in names:  # as if the relay had not run for 90 s
            await tx.execute(
                "INSERT INTO outbox (job, job_id, created_at)"
                " VALUES ('send_email', $1, now() - interval '90 s')",
                name,
            )
    try:
        found = await scrape(client)
        assert value(found, "acre_outbox_pending") == 3
        assert value(found, "acre_outbox_oldest_pending_age_seconds") >= 90
        assert value(found, "acre_scrape_source_up", source="database") == 1
    finally:
        async with db.transaction(None) as tx:
            await tx.execute("DELETE FROM outbox WHERE job_id = ANY($1)", names)
    found = await scrape(client)
    assert value(found, "acre_outbox_pending") == 0
    assert value(found, "acre_outbox_oldest_pending_age_seconds") == 0


async def _get(port: int, headers: str = "") -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /metrics HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
    await writer.drain()
    raw = (await reader.read()).decode()
    writer.close()
    head, _, body = raw.partition("\r\n\r\n")
    return int(head.split(" ")[1]), body


async def test_the_worker_serves_its_metrics_on_its_own_port(app):
    port = free_port()
    with settings_env(metrics_token=TOKEN, worker_metrics_port=str(port)):
        server = await worker_metrics.start({"redis": app.state.arq}, get_settings())
    assert server is not None
    try:
        assert (await _get(port))[0] == 401
        assert (await _get(port, "Authorization: Bearer wrong\r\n"))[0] == 401
        status, body = await _get(port, f"Authorization: Bearer {TOKEN}\r\n")
        assert status == 200
        found = samples(body)
        assert ("acre_outbox_pending", frozenset()) in found
        assert ("acre_converters", frozenset({("state", "busy")})) in found
    finally:
        server.close()
        await server.wait_closed()
    with settings_env(worker_metrics_port=str(port)):  # no token: no listener
        assert await worker_metrics.start({}, get_settings()) is None


async def test_every_api_process_is_counted_whichever_answers_the_scrape(services: Services):  # noqa: F811
    """``acre serve --workers 2``: the processes share their counts (PROMETHEUS_MULTIPROC_DIR, made by
    ``acre serve``), so the scrape counts every request, whichever process took it."""
    port = free_port()
    services.start("api", "serve", "--port", str(port), "--workers", "2", ACRE_METRICS_TOKEN=TOKEN)
    base = f"http://127.0.0.1:{port}"

    async def up() -> bool:
        try:
            async with httpx.AsyncClient(base_url=base) as http:
                return (await http.get("/health", timeout=1)).status_code == 200
        except httpx.HTTPError:
            return False

    await eventually(up, 90, "the API answering", services.log_text)
    asked = 12
    for _ in range(asked):  # a connection each: the processes share the listening socket
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/ready")).status_code in (200, 503)
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for _ in range(4):  # each scrape answered by either process
        async with httpx.AsyncClient(base_url=base) as http:
            r = await http.get("/metrics", headers=AUTH)
        assert r.status_code == 200, services.log_text()
        found = samples(r.text)
        ready = sum(
            v
            for (name, labels), v in found.items()
            if name == "acre_http_requests_total" and ("route", "/ready") in labels
        )
        assert ready == asked, services.log_text()
    assert not any(name.startswith("python_gc") for name, _ in found)  # the multiprocess collector's
