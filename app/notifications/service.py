"""In-app notifications: what producers (cron jobs, services) tell one member. The text is rendered
when read, in the reader's language, from ``kind`` and ``params``; a member sees only their own
(anyone else's id is 404)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from app.errors import NotFound, ValidationFailed
from app.i18n import N_, translate
from app.notifications.schemas import NotificationRead
from app.pagination import Page, check_limit, decode_cursor, encode_cursor
from app.rows import to_struct
from tenants.scope import TenantScope

# kind -> message id; params fill the placeholders.
KINDS: dict[str, str] = {
    "reclaim_warning": N_("{customer} returns to the pool on {date} unless it gets a follow-up"),
    # deals: approval decisions, sent to the requester (app.deals.approvals)
    "quote_approved": N_("Your quote (round {round}) for {deal} was approved"),
    "quote_rejected": N_("Your quote (round {round}) for {deal} was rejected: {comment}"),
    "stage_approved": N_("Your move of {deal} to {stage} was approved"),
    "stage_rejected": N_("Your move of {deal} to {stage} was rejected: {comment}"),
    # handover (app.handover): receivers of a handover
    "handover_received": N_("{count} customers were handed over to you: {reason}"),
    # sales field work (app.sales.field.visit_plans, app.sales.field.incidents)
    "visit_plan_submitted": N_("{member} submitted a visit plan for {date}"),
    "visit_plan_approved": N_("Your visit plan for {date} was approved"),
    "visit_plan_returned": N_("Your visit plan for {date} was returned: {comment}"),
    "market_incident": N_("{member} reported a serious market incident: {title}"),
    # deals: the daily collection reminder (app.deals.reminders), to each deal owner
    "collections_due": N_(
        "{count} collection items need your attention: {overdue} overdue, {due_soon} due within 3 days"
    ),
}
_COLUMNS = "id, kind, subject_type, subject_id, params, created_at, read_at"


def _read(row: asyncpg.Record, locale: str) -> NotificationRead:
    params: dict[str, Any] = json.loads(row["params"]) if isinstance(row["params"], str) else row["params"]
    template = KINDS.get(row["kind"], row["kind"])
    return to_struct(
        NotificationRead,
        row,
        message=translate(locale, template, **{k: str(v) for k, v in params.items()}),
        params=params,
        read=row["read_at"] is not None,
    )


async def list_notifications(
    scope: TenantScope, *, unread: bool | None = None, limit: int = 50, cursor: str | None = None
) -> Page[NotificationRead]:
    """The caller's notifications, newest first; ``unread=True`` only the unread ones."""
    check_limit(limit)
    after = decode_cursor(cursor, 2)
    try:
        at, after_id = (datetime.fromisoformat(after[0]), UUID(after[1])) if after else (None, None)
    except ValueError:
        raise ValidationFailed.field("cursor", "This cursor is not valid") from None
    if scope.membership_id is None:
        return Page(items=[])
    async with scope.tx() as tx:
        rows = await tx.fetch(
            f"SELECT {_COLUMNS} FROM notifications WHERE tenant = $1 AND membership_id = $2"
            " AND ($3::boolean IS NOT TRUE OR read_at IS NULL)"
            " AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))"
            " ORDER BY created_at DESC, id DESC LIMIT $6",
            scope.tenant_id,
            scope.membership_id,
            unread,
            at,
            after_id,
            limit + 1,
        )
    items = [_read(r, scope.locale) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def unread_count(scope: TenantScope) -> int:
    """How many of the caller's notifications are unread (0 for a job's scope)."""
    if scope.membership_id is None:
        return 0
    async with scope.tx() as tx:
        return int(
            await tx.fetchval(
                "SELECT count(*) FROM notifications WHERE tenant = $1 AND membership_id = $2"
                " AND read_at IS NULL",
                scope.tenant_id,
                scope.membership_id,
            )
        )


async def mark_read(scope: TenantScope, notification_id: UUID) -> NotificationRead:
    """Mark one of the caller's notifications read (again: keeps the first read time)."""
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            "UPDATE notifications SET read_at = coalesce(read_at, now())"
            f" WHERE tenant = $1 AND id = $2 AND membership_id = $3 RETURNING {_COLUMNS}",
            scope.tenant_id,
            notification_id,
            scope.membership_id,
        )
    if row is None:
        raise NotFound("No notification with this id")
    return _read(row, scope.locale)
