"""Cross-territory grants (跨区): a manager lets a member work a customer, or a territory with its
subtree, of a territory the manager manages, until a date. ``tenants.access.customers`` honours live
grants.

Who: a manager of the customer's (or the granted territory's) territory, or an owner/admin; a rep
never (403). An id of another tenant — grant, customer, territory — is 404.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from app import audit
from app.customers.pool.schemas import GrantCreate, GrantRead
from app.customers.service import load_visible
from app.db import Tx
from app.errors import Forbidden, NotFound, ValidationFailed
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from app.territories.service import fetch_territory
from tenants.access import managed_territory_ids, require_manages
from tenants.scope import TenantScope

MAX_GRANT = timedelta(days=366)
_SELECT = (
    "SELECT g.id, g.membership_id, u.name AS member_name, g.customer_id, g.territory_id, g.reason,"
    " g.granted_by, g.until, g.created_at, g.revoked_at,"
    " (g.revoked_at IS NULL AND g.until > now()) AS active,"
    " coalesce(g.territory_id, c.territory_id) AS scope_id"
    " FROM cross_territory_grants g"
    " LEFT JOIN customers c ON c.tenant = g.tenant AND c.id = g.customer_id"
    " LEFT JOIN memberships m ON m.tenant = g.tenant AND m.id = g.membership_id"
    " LEFT JOIN users u ON u.id = m.user_id"
)


async def create_grant(scope: TenantScope, data: GrantCreate) -> GrantRead:
    """422 for a wrong body, then 404 for an unknown customer or territory, then 403 unless the
    caller manages it (so a rep always gets 403 for what exists)."""
    async with scope.tx() as tx:
        return await insert_grant(tx, scope, data)


async def insert_grant(tx: Tx, scope: TenantScope, data: GrantCreate) -> GrantRead:
    """``create_grant`` inside the caller's transaction (an approved cross-territory request makes
    its grant so, by the same rules)."""
    if (data.customer_id is None) == (data.territory_id is None):
        raise ValidationFailed.field("customer_id", "Give either a customer or a territory")
    now = datetime.now(UTC)
    if data.until <= now:
        raise ValidationFailed.field("until", "Must be in the future")
    if data.until > now + MAX_GRANT:
        raise ValidationFailed.field("until", "At most one year ahead")
    if data.customer_id is not None:
        row, access = await load_visible(tx, scope, data.customer_id)
        if not access.manages(row["territory_id"]):
            raise Forbidden("You do not manage this territory")
    else:
        assert data.territory_id is not None
        await fetch_territory(tx, scope, data.territory_id)
        await require_manages(tx, scope, data.territory_id)
    active = await tx.fetchval(
        "SELECT active FROM memberships WHERE tenant = $1 AND id = $2",
        scope.tenant_id,
        data.membership_id,
    )
    if not active:
        raise ValidationFailed.field("membership_id", "No active member with this id")
    grant_id: UUID = await tx.fetchval(
        "INSERT INTO cross_territory_grants (tenant, membership_id, customer_id, territory_id, reason,"
        " granted_by, until) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        scope.tenant_id,
        data.membership_id,
        data.customer_id,
        data.territory_id,
        data.reason,
        scope.membership_id,
        data.until,
    )
    await audit.record(
        tx,
        scope.user_id,
        "grant.created",
        "cross_territory_grant",
        grant_id,
        reason=data.reason,
        data={
            "membership_id": data.membership_id,
            "customer_id": data.customer_id,
            "territory_id": data.territory_id,
            "until": data.until,
        },
    )
    row = await tx.fetchrow(_SELECT + " WHERE g.tenant = $1 AND g.id = $2", scope.tenant_id, grant_id)
    assert row is not None
    return to_struct(GrantRead, row)


async def list_grants(scope: TenantScope, *, limit: int = 50, cursor: str | None = None) -> Page[GrantRead]:
    """Owner/admin: all; a manager: grants in the territories they manage and their own; a rep: their own."""
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    async with scope.tx() as tx:
        managed = None if scope.at_least("admin") else await managed_territory_ids(tx, scope)
        rows = await tx.fetch(
            _SELECT + " WHERE g.tenant = $1"
            " AND ($2::uuid[] IS NULL OR g.membership_id = $3"
            "  OR coalesce(g.territory_id, c.territory_id) = ANY($2::uuid[]))"
            " AND ($4::timestamptz IS NULL OR (g.created_at, g.id) < ($4, $5::uuid))"
            " ORDER BY g.created_at DESC, g.id DESC LIMIT $6",
            scope.tenant_id,
            managed,
            scope.membership_id,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
    items = to_structs(GrantRead, rows[:limit])
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def revoke_grant(scope: TenantScope, grant_id: UUID) -> GrantRead:
    """End a grant now: a manager of its territory (or owner/admin). 404 for an unknown id."""
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            _SELECT + " WHERE g.tenant = $1 AND g.id = $2 FOR UPDATE OF g", scope.tenant_id, grant_id
        )
        if row is None:
            raise NotFound("No grant with this id")
        if not scope.at_least("admin") and row["scope_id"] not in await managed_territory_ids(tx, scope):
            if row["membership_id"] == scope.membership_id:
                raise Forbidden("You do not manage this territory")
            raise NotFound("No grant with this id")
        await tx.execute(
            "UPDATE cross_territory_grants SET revoked_at = coalesce(revoked_at, now())"
            " WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            grant_id,
        )
        await audit.record(tx, scope.user_id, "grant.revoked", "cross_territory_grant", grant_id)
        row = await tx.fetchrow(_SELECT + " WHERE g.tenant = $1 AND g.id = $2", scope.tenant_id, grant_id)
        assert row is not None
        return to_struct(GrantRead, row)
