"""Follow-ups (跟进): calls, visits, meetings … logged against a customer. Logging one moves the
customer's ``last_followup_at`` forward (never back) and, when it is the latest follow-up and
schedules a next one, sets ``next_followup_at`` — in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from app import audit
from app.customers.schemas import FollowupCreate, FollowupRead
from app.customers.service import load_editable, load_visible
from app.errors import ValidationFailed
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from tenants.scope import TenantScope

_CLOCK_SKEW = timedelta(minutes=5)
_SELECT = (
    "SELECT f.id, f.customer_id, f.author_membership_id, u.name AS author_name, f.kind, f.happened_at,"
    " f.summary,"
    " f.outcome, f.result, f.next_followup_at, f.created_at FROM customer_followups f"
    " LEFT JOIN memberships m ON m.tenant = f.tenant AND m.id = f.author_membership_id"
    " LEFT JOIN users u ON u.id = m.user_id WHERE f.tenant = $1 AND f.customer_id = $2"
)


async def list_followups(
    scope: TenantScope, customer_id: UUID, *, limit: int = 50, cursor: str | None = None
) -> Page[FollowupRead]:
    """Most recent first (by when they happened)."""
    check_limit(limit)
    after_at, after_id = decode_time_id_cursor(cursor) or (None, None)
    async with scope.tx() as tx:
        await load_visible(tx, scope, customer_id)
        rows = await tx.fetch(
            _SELECT + " AND ($3::timestamptz IS NULL OR (f.happened_at, f.id) < ($3, $4::uuid))"
            " ORDER BY f.happened_at DESC, f.id DESC LIMIT $5",
            scope.tenant_id,
            customer_id,
            after_at,
            after_id,
            limit + 1,
        )
    items = to_structs(FollowupRead, rows[:limit])
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].happened_at, items[-1].id) if more else None)


async def create_followup(scope: TenantScope, customer_id: UUID, data: FollowupCreate) -> FollowupRead:
    now = datetime.now(UTC)
    happened = data.happened_at or now
    if happened > now + _CLOCK_SKEW:
        raise ValidationFailed.field("happened_at", "A follow-up cannot be in the future")
    if data.next_followup_at is not None and data.next_followup_at <= happened:
        raise ValidationFailed.field("next_followup_at", "The next follow-up must be after this one")
    summary = data.summary.strip()
    if not summary:
        raise ValidationFailed.field("summary", "Required")
    async with scope.tx() as tx:
        await load_editable(tx, scope, customer_id)
        followup_id: UUID = await tx.fetchval(
            "INSERT INTO customer_followups (tenant, customer_id, author_membership_id, kind, happened_at,"
            " summary,"
            " outcome, result, next_followup_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            scope.tenant_id,
            customer_id,
            scope.membership_id,
            data.kind,
            happened,
            summary,
            data.outcome,
            data.result,
            data.next_followup_at,
        )
        await tx.execute(
            "UPDATE customers SET"
            " next_followup_at = CASE WHEN $4::timestamptz IS NOT NULL"
            "  AND (last_followup_at IS NULL OR $3 >= last_followup_at) THEN $4 ELSE next_followup_at END,"
            " last_followup_at = GREATEST(last_followup_at, $3), updated_at = now()"
            " WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            customer_id,
            happened,
            data.next_followup_at,
        )
        await audit.record(
            tx,
            scope.user_id,
            "followup.created",
            "customer",
            customer_id,
            data={"followup_id": followup_id, "kind": data.kind},
        )
        row = await tx.fetchrow(_SELECT + " AND f.id = $3", scope.tenant_id, customer_id, followup_id)
        assert row is not None
        return to_struct(FollowupRead, row)
