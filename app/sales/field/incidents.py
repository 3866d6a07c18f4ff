"""Market incidents (市场异常): something in the field a manager must know. A serious one notifies
the managers of the reporter's territories at once (in-app and by email, each once); when the
reporter has no territory manager, the owners and admins are told instead.

Who sees one: the reporter, their managers, owner/admin (404 otherwise). Managers close them.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from app import audit, mail, pages
from app.db import Tx
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.notifications.service import Notice, notify
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from app.sales.field.schemas import IncidentRead, IncidentWrite
from app.sql import Params
from tenants.access import customer_access, managers_of, manages_member, reach_sql, team_member_ids
from tenants.scope import TenantScope

_SELECT = (
    "SELECT i.*, u.name AS member_name FROM market_incidents i"
    " JOIN memberships m ON m.tenant = i.tenant AND m.id = i.membership_id"
    " LEFT JOIN users u ON u.id = m.user_id"
)
_ADMINS = (
    "SELECT m.id AS membership_id, u.email, coalesce(u.locale, t.locale) AS locale FROM memberships m"
    " JOIN users u ON u.id = m.user_id JOIN tenants t ON t.id = m.tenant"
    " WHERE m.tenant = $1 AND m.active AND m.role IN ('owner', 'admin') AND m.id <> $2 ORDER BY m.id"
)


async def raise_incident(
    tx: Tx, scope: TenantScope, data: IncidentWrite, report_id: UUID | None = None, field: str = ""
) -> UUID:
    """Record one incident in ``tx`` (and, if serious, tell the managers)."""
    if scope.membership_id is None:
        raise Forbidden("Only a member can report an incident")
    title, description = data.title.strip(), data.description.strip()
    if not title:
        raise ValidationFailed.field(field + "title", "Required")
    if not description:
        raise ValidationFailed.field(field + "description", "Required")
    if data.customer_id is not None:
        access = await customer_access(tx, scope)
        p = Params(scope.tenant_id, data.customer_id)
        if not await tx.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM customers c WHERE c.tenant = $1 AND c.id = $2 AND"
            f" {access.visible_sql(p)})",
            *p.values,
        ):
            raise ValidationFailed.field(field + "customer_id", "No customer you work with has this id")
    incident_id: UUID = await tx.fetchval(
        "INSERT INTO market_incidents (tenant, membership_id, report_id, customer_id, severity,"
        " title, description)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        scope.tenant_id,
        scope.membership_id,
        report_id,
        data.customer_id,
        data.severity,
        title,
        description,
    )
    await audit.record(
        tx,
        scope.user_id,
        "market_incident.raised",
        "market_incident",
        incident_id,
        data={"severity": data.severity},
    )
    if data.severity == "serious":
        await _alert(tx, scope, incident_id, title, description)
    return incident_id


async def _alert(tx: Tx, scope: TenantScope, incident_id: UUID, title: str, description: str) -> None:
    assert scope.membership_id is not None
    people = await managers_of(tx, scope.tenant_id, scope.membership_id)
    if not people:
        people = await tx.fetch(_ADMINS, scope.tenant_id, scope.membership_id)
    link = pages.url(pages.MARKET_INCIDENT, incident_id=incident_id)
    reporter = scope.name or scope.email or ""
    for who in people:
        key = f"market_incident:{incident_id}:{who['membership_id']}"
        notice = Notice(
            who["membership_id"],
            "market_incident",
            key,
            "market_incident",
            incident_id,
            {"member": reporter, "title": title},
        )
        await notify(tx, [notice])
        await mail.queue_email(
            tx,
            to=who["email"],
            template="market_incident",
            locale=who["locale"],
            key=key,
            member=reporter,
            title=title,
            description=description,
            link=link,
        )


async def create_incident(scope: TenantScope, data: IncidentWrite) -> IncidentRead:
    async with scope.tx() as tx:
        incident_id = await raise_incident(tx, scope, data)
        return await _get(tx, scope, incident_id)


async def _get(tx: Tx, scope: TenantScope, incident_id: UUID, *, lock: bool = False) -> IncidentRead:
    row = await _row(tx, scope, incident_id, lock=lock)
    return to_struct(IncidentRead, row)


async def _row(tx: Tx, scope: TenantScope, incident_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    team = await team_member_ids(tx, scope)
    row = await tx.fetchrow(
        _SELECT
        + f" WHERE i.tenant = $1 AND i.id = $2 AND {reach_sql('i.membership_id', '$3')}"
        + (" FOR UPDATE OF i" if lock else ""),
        scope.tenant_id,
        incident_id,
        team,
    )
    if row is None:
        raise NotFound("No market incident with this id")
    return row


async def get_incident(scope: TenantScope, incident_id: UUID) -> IncidentRead:
    async with scope.tx() as tx:
        return await _get(tx, scope, incident_id)


async def close_incident(scope: TenantScope, incident_id: UUID) -> IncidentRead:
    """A manager of the reporter (or an admin) closes an open incident."""
    async with scope.tx() as tx:
        row = await _row(tx, scope, incident_id, lock=True)
        if row["membership_id"] == scope.membership_id or not await manages_member(
            tx, scope, row["membership_id"]
        ):
            raise Forbidden("Only a manager of the reporter can close this incident")
        if row["status"] != "open":
            raise Conflict("This incident is closed already")
        await tx.execute(
            "UPDATE market_incidents SET status = 'closed' WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            incident_id,
        )
        await audit.record(tx, scope.user_id, "market_incident.closed", "market_incident", incident_id)
        return await _get(tx, scope, incident_id)


async def list_incidents(
    scope: TenantScope,
    *,
    severity: str | None = None,
    status: str | None = None,
    membership_id: UUID | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[IncidentRead]:
    """The incidents the caller sees, newest first."""
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    at: datetime | None = after[0] if after else None
    async with scope.tx() as tx:
        team = await team_member_ids(tx, scope)
        rows = await tx.fetch(
            _SELECT + f" WHERE i.tenant = $1 AND {reach_sql('i.membership_id', '$2')}"
            " AND ($3::text IS NULL OR i.severity = $3) AND ($4::text IS NULL OR i.status = $4)"
            " AND ($5::uuid IS NULL OR i.membership_id = $5)"
            " AND ($6::timestamptz IS NULL OR (i.created_at, i.id) < ($6, $7::uuid))"
            " ORDER BY i.created_at DESC, i.id DESC LIMIT $8",
            scope.tenant_id,
            team,
            severity,
            status,
            membership_id,
            at,
            after[1] if after else None,
            limit + 1,
        )
    items = to_structs(IncidentRead, rows[:limit])
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)
