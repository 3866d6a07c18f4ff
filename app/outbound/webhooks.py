"""A company's webhook endpoints (owner and admin manage them; anyone else is 403, another company's
endpoint 404) and their deliveries. The signing secret is made here and shown once: in the answer
that creates the endpoint or rolls its secret."""

from __future__ import annotations

import secrets
from uuid import UUID

import asyncpg
from msgspec import UNSET

from app import audit, outbox
from app.db import Tx
from app.errors import NotFound
from app.outbound.events import DELIVER_JOB
from app.outbound.schemas import DeliveryRead, EndpointCreate, EndpointRead, EndpointSecret, EndpointUpdate
from app.outbound.urls import check_url
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from tenants.scope import TenantScope

MANAGES = "admin"  # the least role that manages endpoints (owner and admin)
_COLUMNS = (
    "id, url, description, event_types, active, created_at, updated_at, consecutive_failures,"
    " failing_since, disabled_at"
)
_DELIVERY_COLUMNS = (
    "d.id, d.event_id, e.type AS event_type, d.status, d.attempts, d.created_at, d.last_attempt_at,"
    " d.next_attempt_at, d.delivered_at, d.response_status, d.response_body, d.duration_ms, d.error"
)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _types(values: list[str]) -> list[str]:
    return sorted(set(values))


async def _row(tx: Tx, endpoint_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    row = await tx.fetchrow(
        f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE tenant = $1 AND id = $2"
        + (" FOR UPDATE" if lock else ""),
        tx.tenant_id,
        endpoint_id,
    )
    if row is None:
        raise NotFound("No webhook endpoint with this id")
    return row


async def create_endpoint(scope: TenantScope, data: EndpointCreate) -> EndpointSecret:
    scope.require(MANAGES)
    url = check_url("url", data.url)
    secret = new_secret()
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            "INSERT INTO webhook_endpoints"
            " (tenant, url, description, event_types, active, secret, created_by)"
            f" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}",
            scope.tenant_id,
            url,
            data.description.strip(),
            _types(list(data.event_types)),
            data.active,
            secret,
            scope.membership_id,
        )
        assert row is not None
        await audit.record(
            tx, scope.user_id, "webhook.created", "webhook_endpoint", row["id"], data={"url": url}
        )
    return EndpointSecret(endpoint=to_struct(EndpointRead, row), secret=secret)


async def list_endpoints(scope: TenantScope) -> list[EndpointRead]:
    scope.require(MANAGES)
    async with scope.tx() as tx:
        rows = await tx.fetch(
            f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE tenant = $1 ORDER BY created_at, id",
            scope.tenant_id,
        )
    return to_structs(EndpointRead, rows)


async def get_endpoint(scope: TenantScope, endpoint_id: UUID) -> EndpointRead:
    scope.require(MANAGES)
    async with scope.tx() as tx:
        return to_struct(EndpointRead, await _row(tx, endpoint_id))


async def requeue_pending(tx: Tx, endpoint_id: UUID) -> int:
    """Queue the endpoint's pending deliveries again (it was enabled after a disable)."""
    count = int(
        await tx.fetchval(
            "WITH job AS (INSERT INTO outbox (tenant, job, args, job_id)"
            " SELECT d.tenant, $3::text, jsonb_build_array(d.tenant::text, d.id::text),"
            "  $3::text || ':' || d.id::text || ':r' || d.attempts::text || ':' || $4::text"
            " FROM webhook_deliveries d WHERE d.tenant = $1 AND d.endpoint_id = $2 AND d.status = 'pending'"
            " ON CONFLICT (job_id) DO NOTHING RETURNING 1) SELECT count(*) FROM job",
            tx.tenant_id,
            endpoint_id,
            DELIVER_JOB,
            secrets.token_hex(4),
        )
    )
    if count:
        outbox.wake_after_commit(tx)
    return count


async def update_endpoint(scope: TenantScope, endpoint_id: UUID, data: EndpointUpdate) -> EndpointRead:
    scope.require(MANAGES)
    url = check_url("url", data.url) if data.url is not UNSET else None
    async with scope.tx() as tx:
        before = await _row(tx, endpoint_id, lock=True)
        enable = data.active is True and not before["active"]
        row = await tx.fetchrow(
            "UPDATE webhook_endpoints SET url = coalesce($3, url), description = coalesce($4, description),"
            " event_types = coalesce($5, event_types), active = coalesce($6, active), updated_at = now(),"
            " consecutive_failures = CASE WHEN $7 THEN 0 ELSE consecutive_failures END,"
            " failing_since = CASE WHEN $7 THEN NULL ELSE failing_since END,"
            " disabled_at = CASE WHEN $7 THEN NULL ELSE disabled_at END"
            f" WHERE tenant = $1 AND id = $2 RETURNING {_COLUMNS}",
            scope.tenant_id,
            endpoint_id,
            url,
            data.description.strip() if data.description is not UNSET else None,
            _types(list(data.event_types)) if data.event_types is not UNSET else None,
            data.active if data.active is not UNSET else None,
            enable,
        )
        assert row is not None
        if enable:
            await requeue_pending(tx, endpoint_id)
        await audit.record(tx, scope.user_id, "webhook.updated", "webhook_endpoint", endpoint_id)
    return to_struct(EndpointRead, row)


async def roll_secret(scope: TenantScope, endpoint_id: UUID) -> EndpointSecret:
    """A new signing secret (the old one stops at once); shown in this answer only."""
    scope.require(MANAGES)
    secret = new_secret()
    async with scope.tx() as tx:
        await _row(tx, endpoint_id, lock=True)
        row = await tx.fetchrow(
            "UPDATE webhook_endpoints SET secret = $3, updated_at = now()"
            f" WHERE tenant = $1 AND id = $2 RETURNING {_COLUMNS}",
            scope.tenant_id,
            endpoint_id,
            secret,
        )
        assert row is not None
        await audit.record(tx, scope.user_id, "webhook.secret_rolled", "webhook_endpoint", endpoint_id)
    return EndpointSecret(endpoint=to_struct(EndpointRead, row), secret=secret)


async def delete_endpoint(scope: TenantScope, endpoint_id: UUID) -> None:
    """Remove the endpoint with its deliveries (their events stay for the other endpoints)."""
    scope.require(MANAGES)
    async with scope.tx() as tx:
        await _row(tx, endpoint_id, lock=True)
        await tx.execute(
            "DELETE FROM webhook_endpoints WHERE tenant = $1 AND id = $2", scope.tenant_id, endpoint_id
        )
        await audit.record(tx, scope.user_id, "webhook.deleted", "webhook_endpoint", endpoint_id)


async def list_deliveries(
    scope: TenantScope,
    endpoint_id: UUID,
    *,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[DeliveryRead]:
    """The endpoint's deliveries, newest first (``status``: only those)."""
    scope.require(MANAGES)
    check_limit(limit)
    at, after_id = decode_time_id_cursor(cursor) or (None, None)
    async with scope.tx() as tx:
        await _row(tx, endpoint_id)
        rows = await tx.fetch(
            f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries d"
            " JOIN webhook_events e ON e.tenant = d.tenant AND e.id = d.event_id"
            " WHERE d.tenant = $1 AND d.endpoint_id = $2 AND ($3::text IS NULL OR d.status = $3)"
            " AND ($4::timestamptz IS NULL OR (d.created_at, d.id) < ($4, $5::uuid))"
            " ORDER BY d.created_at DESC, d.id DESC LIMIT $6",
            scope.tenant_id,
            endpoint_id,
            status,
            at,
            after_id,
            limit + 1,
        )
    items = to_structs(DeliveryRead, rows[:limit])
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)
