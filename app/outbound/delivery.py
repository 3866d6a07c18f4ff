"""The ``deliver_webhook`` job: one event to one endpoint, signed (``app.outbound.signature``);
``deliver_event`` makes the first attempts of all of one event's deliveries side by side.

Each attempt is a job relayed from the outbox, so a delivery survives a Redis outage and a worker
restart. A failed attempt (no 2xx answer, a timeout, a refused address) writes its result and queues
the next attempt in the same transaction, deferred ``ACRE_WEBHOOK_RETRY_BASE_SECONDS`` × 2^(n-1)
(at most 6 h), up to ``MAX_ATTEMPTS`` attempts; then the delivery is ``failed``.

An endpoint is disabled after sustained failures: ``DISABLE_AFTER_FAILURES`` failed attempts in a row
(any deliveries) spanning at least ``DISABLE_AFTER`` (24 h) since the first of them. Its owner and
admins then get a notification and an email; its pending deliveries wait, and go out when the
endpoint is enabled again. No HTTP request is made inside a database transaction."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import structlog

from app import db, mail, outbox
from app.notifications.service import Notice, notify
from app.outbound import signature
from app.outbound.events import DELIVER_JOB
from app.outbound.http import client
from app.outbound.urls import RefusedAddress, check_resolved
from app.settings import get_settings

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 16
MAX_DELAY_SECONDS = 6 * 3600
DISABLE_AFTER_FAILURES = 10
DISABLE_AFTER = timedelta(hours=24)
BODY_EXCERPT = 1000

_LOAD = """
SELECT d.id, d.status, d.attempts, e.id AS event_id, e.type, e.data, e.created_at,
       p.id AS endpoint_id, p.url, p.secret, p.active
FROM webhook_deliveries d
JOIN webhook_events e ON e.tenant = d.tenant AND e.id = d.event_id
JOIN webhook_endpoints p ON p.tenant = d.tenant AND p.id = d.endpoint_id
WHERE d.tenant = $1 AND d.id = $2
"""


def retry_delay(attempts: int) -> int:
    """Seconds before the next attempt, after ``attempts`` failed ones."""
    return int(min(get_settings().webhook_retry_base_seconds * 2 ** (attempts - 1), MAX_DELAY_SECONDS))


def body_of(tenant: UUID, row: Any) -> bytes:
    """The JSON body of an event: the same bytes on every attempt."""
    data = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
    event = {
        "id": str(row["event_id"]),
        "type": row["type"],
        "created_at": row["created_at"].isoformat(),
        "tenant": str(tenant),
        "data": data,
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


async def post(
    url: str, secret: str, body: bytes, event_id: str, event_type: str
) -> tuple[int | None, str, str | None]:
    """POST one signed body; (status or None, body excerpt, error)."""
    try:
        await check_resolved(url)
        response = await client().post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                signature.HEADER: signature.header(secret, body),
                "Acre-Event-Id": event_id,
                "Acre-Event-Type": event_type,
            },
        )
    except RefusedAddress as exc:
        return None, "", str(exc)[:500]
    except httpx.HTTPError as exc:
        return None, "", (f"{type(exc).__name__}: {exc}")[:500]
    return response.status_code, response.text[:BODY_EXCERPT], None


async def deliver_webhook(ctx: dict[str, Any], tenant_id: str, delivery_id: str) -> str:
    """Attempt one delivery; returns what happened (``delivered``, ``retry``, ``failed``, ``skipped-…``)."""
    tenant, did = UUID(tenant_id), UUID(delivery_id)
    async with db.transaction(tenant) as tx:
        row = await tx.fetchrow(_LOAD, tenant, did)
    if row is None:
        return "skipped-missing"
    if row["status"] != "pending":
        return f"skipped-{row['status']}"
    if not row["active"]:
        return "skipped-disabled"  # it stays pending: enabling the endpoint queues it again
    started = time.perf_counter()
    status, excerpt, error = await post(
        row["url"], row["secret"], body_of(tenant, row), str(row["event_id"]), row["type"]
    )
    duration_ms = int((time.perf_counter() - started) * 1000)
    ok = status is not None and 200 <= status < 300
    async with db.transaction(tenant) as tx:
        done = await tx.fetchrow(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = now(),"
            " response_status = $3, response_body = $4, duration_ms = $5, error = $6,"
            " status = CASE WHEN $7 THEN 'delivered' WHEN attempts + 1 >= $8 THEN 'failed'"
            "  ELSE 'pending' END,"
            " delivered_at = CASE WHEN $7 THEN now() END,"
            " next_attempt_at = CASE WHEN NOT $7 AND attempts + 1 < $8"
            "  THEN now() + make_interval(secs => $9) END"
            " WHERE tenant = $1 AND id = $2 AND status = 'pending' AND attempts = $10"
            " RETURNING attempts, status",
            tenant,
            did,
            status,
            excerpt or None,
            duration_ms,
            error,
            ok,
            MAX_ATTEMPTS,
            retry_delay(row["attempts"] + 1),
            row["attempts"],
        )
        if done is None:  # another run of this job got there first
            return "skipped-raced"
        endpoint = await tx.fetchrow(
            "UPDATE webhook_endpoints SET"
            " consecutive_failures = CASE WHEN $3 THEN 0 ELSE consecutive_failures + 1 END,"
            " failing_since = CASE WHEN $3 THEN NULL ELSE coalesce(failing_since, now()) END"
            " WHERE tenant = $1 AND id = $2"
            " RETURNING id, url, active, consecutive_failures, failing_since",
            tenant,
            row["endpoint_id"],
            ok,
        )
        if ok:
            return "delivered"
        if done["status"] == "pending":
            await outbox.add_job(
                tx,
                DELIVER_JOB,
                tenant_id,
                delivery_id,
                key=f"{delivery_id}:{done['attempts'] + 1}",
                defer_seconds=retry_delay(done["attempts"]),
            )
        if endpoint is not None and endpoint["active"] and await _sustained(tx, endpoint):
            await disable(tx, endpoint)
    log.info("webhook delivery failed", delivery_id=delivery_id, status=status, error=error)
    return "retry" if done["status"] == "pending" else "failed"


EVENT_CONCURRENCY = 8  # an event's deliveries attempted at once by one job


async def deliver_event(ctx: dict[str, Any], tenant_id: str, event_id: str) -> dict[str, int]:
    """The first attempt of every pending delivery of one event, side by side (each as
    :func:`deliver_webhook`, its retries its own jobs); answers how many ended each way."""
    tenant = UUID(tenant_id)
    async with db.transaction(tenant) as tx:
        rows = await tx.fetch(
            "SELECT id FROM webhook_deliveries WHERE tenant = $1 AND event_id = $2 AND status = 'pending'"
            " AND attempts = 0 ORDER BY id",
            tenant,
            UUID(event_id),
        )
    gate = asyncio.Semaphore(EVENT_CONCURRENCY)

    async def one(delivery_id: str) -> str:
        async with gate:
            return await deliver_webhook(ctx, tenant_id, delivery_id)

    outcomes = await asyncio.gather(*(one(str(r["id"])) for r in rows))
    return {o: outcomes.count(o) for o in set(outcomes)}


async def _sustained(tx: db.Tx, endpoint: Any) -> bool:
    if endpoint["consecutive_failures"] < DISABLE_AFTER_FAILURES or endpoint["failing_since"] is None:
        return False
    return bool(
        await tx.fetchval(
            "SELECT $1::timestamptz <= now() - $2::interval", endpoint["failing_since"], DISABLE_AFTER
        )
    )


_MANAGERS = """
SELECT m.id, u.email, coalesce(u.locale, t.locale) AS locale
FROM memberships m JOIN users u ON u.id = m.user_id JOIN tenants t ON t.id = m.tenant
WHERE m.tenant = $1 AND m.active AND m.role IN ('owner', 'admin')
ORDER BY m.role DESC, m.id
"""


async def disable(tx: db.Tx, endpoint: Any) -> None:
    """Disable a failing endpoint and tell the company's owner and admins (in-app and by email)."""
    await tx.execute(
        "UPDATE webhook_endpoints SET active = false, disabled_at = now(), updated_at = now()"
        " WHERE tenant = $1 AND id = $2",
        tx.tenant_id,
        endpoint["id"],
    )
    key = f"webhook-disabled:{endpoint['id']}:{endpoint['failing_since'].isoformat()}"
    params = {
        "url": endpoint["url"],
        "failures": endpoint["consecutive_failures"],
        "since": endpoint["failing_since"].strftime("%Y-%m-%d %H:%M UTC"),
    }
    people = await tx.fetch(_MANAGERS, tx.tenant_id)
    written = await notify(
        tx,
        [
            Notice(
                p["id"], "webhook_disabled", f"{key}:{p['id']}", "webhook_endpoint", endpoint["id"], params
            )
            for p in people
        ],
    )
    for person in people:
        if f"{key}:{person['id']}" in written:
            await mail.queue_email(
                tx,
                to=person["email"],
                template="webhook_disabled",
                locale=person["locale"],
                key=f"{key}:{person['id']}",
                **params,
            )
    log.warning(
        "webhook endpoint disabled",
        endpoint_id=str(endpoint["id"]),
        failures=endpoint["consecutive_failures"],
    )
