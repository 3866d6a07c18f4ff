"""After-sales return visits (回访): scheduled when a customer is won (at the cadence settings'
``return_visit_days``, default 1 week, 1 month and 3 months), each with a visit task for the owner;
logged with satisfaction, notes and new needs (a visit follow-up is written on the customer in the
same transaction); a need becomes a new deal through the deals service.

Who sees a return visit: its assignee, a manager of the customer's territory, owner/admin; anything
else is 404."""

from __future__ import annotations

from datetime import date
from typing import Final
from uuid import UUID

import asyncpg

from app import audit
from app.customers.followups import create_followup
from app.customers.schemas import FollowupCreate
from app.customers.won import CustomerWon
from app.db import Tx
from app.deals.schemas import DealCreate, DealRead
from app.deals.service import create_deal
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_, translate
from app.localtime import local_today
from app.pagination import Page, check_limit, decode_date_id_cursor, encode_cursor
from app.rows import to_struct
from app.sales.growth.cadences import load_cadences
from app.sales.growth.schemas import NeedDeal, ReturnVisitLog, ReturnVisitRead
from app.sql import Params
from tenants.access import assigned_visible_sql
from tenants.scope import TenantScope

STATUSES: Final = ("scheduled", "done", "skipped")
_SELECT: Final = (
    "SELECT r.*, c.full_name AS customer_name, c.territory_id FROM return_visits r"
    " JOIN customers c ON c.tenant = r.tenant AND c.id = r.customer_id"
)
_SUMMARY: Final = N_("Return visit, satisfaction {score}/5")


def _read(row: asyncpg.Record, today: date) -> ReturnVisitRead:
    return to_struct(ReturnVisitRead, row, overdue=row["status"] == "scheduled" and row["due_on"] < today)


# --- scheduling: a WON_HOOK ------------------------------------------------------------------------

_SCHEDULE: Final = """
WITH target AS (
    SELECT c.id, COALESCE(c.owner_membership_id, d.owner_membership_id) AS assignee
    FROM customers c LEFT JOIN deals d ON d.tenant = c.tenant AND d.id = $3
    WHERE c.tenant = $1 AND c.id = $2
),
visits AS (
    INSERT INTO return_visits (tenant, customer_id, deal_id, assignee_membership_id, offset_days,
                               scheduled_from, due_on)
    SELECT $1, t.id, $3, t.assignee, o, $4::date, $4::date + o
    FROM target t, unnest($5::int[]) AS o WHERE t.assignee IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING id, customer_id, assignee_membership_id, due_on
)
INSERT INTO sales_tasks (tenant, customer_id, assignee_membership_id, kind, source, due_on, return_visit_id)
SELECT $1, v.customer_id, v.assignee_membership_id, 'visit', 'return_visit', v.due_on, v.id FROM visits v
"""


async def schedule_after_win(tx: Tx, event: CustomerWon) -> None:
    """Won hook (``app.wiring``): schedule the return visits (and their tasks) for the customer's
    owner (else the winning deal's owner). Idempotent per customer and day."""
    cadences = await load_cadences(tx)
    if not cadences.return_visit_days:
        return
    status = await tx.execute(
        _SCHEDULE,
        event.tenant_id,
        event.customer_id,
        event.deal_id,
        local_today(event.time_zone),
        cadences.return_visit_days,
    )
    if int(status.split()[-1]):
        await audit.record(
            tx,
            event.actor_user_id,
            "return_visits.scheduled",
            "customer",
            event.customer_id,
            data={"days": cadences.return_visit_days, "deal_id": event.deal_id},
        )


# --- reading ---------------------------------------------------------------------------------------


async def list_return_visits(
    scope: TenantScope,
    *,
    status: str | None = None,
    customer_id: UUID | None = None,
    assignee: UUID | None = None,
    due_before: date | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ReturnVisitRead]:
    """Soonest due first."""
    check_limit(limit)
    if status is not None and status not in STATUSES:
        raise ValidationFailed.field("status", "Use scheduled, done or skipped")
    after_key = decode_date_id_cursor(cursor)
    if assignee is not None and assignee != scope.membership_id and not scope.at_least("manager"):
        assignee = scope.membership_id  # a rep sees only their own anyway
    async with scope.tx() as tx:
        p = Params(scope.tenant_id)
        sql = (
            _SELECT
            + " WHERE r.tenant = $1 AND "
            + await assigned_visible_sql(tx, scope, p, "r.assignee_membership_id", "c.territory_id")
        )
        if status:
            sql += f" AND r.status = {p(status)}"
        if customer_id:
            sql += f" AND r.customer_id = {p(customer_id)}"
        if assignee:
            sql += f" AND r.assignee_membership_id = {p(assignee)}"
        if due_before:
            sql += f" AND r.due_on < {p(due_before)}"
        if after_key:
            sql += f" AND (r.due_on, r.id) > ({p(after_key[0])}, {p(after_key[1])})"
        sql += f" ORDER BY r.due_on, r.id LIMIT {p(limit + 1)}"
        rows = await tx.fetch(sql, *p.values)
    today = local_today(scope.time_zone)
    items = [_read(r, today) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].due_on, items[-1].id) if more else None)


async def _load(tx: Tx, scope: TenantScope, visit_id: UUID, *, lock: bool = True) -> asyncpg.Record:
    """The visit, if the member sees it (404 otherwise), locked for the change that follows unless
    ``lock`` is off (a read)."""
    p = Params(scope.tenant_id, visit_id)
    where = await assigned_visible_sql(tx, scope, p, "r.assignee_membership_id", "c.territory_id")
    locking = " FOR UPDATE OF r" if lock else ""
    row = await tx.fetchrow(_SELECT + f" WHERE r.tenant = $1 AND r.id = $2 AND {where}{locking}", *p.values)
    if row is None:
        raise NotFound("No return visit with this id")
    return row


async def _reload(tx: Tx, scope: TenantScope, visit_id: UUID) -> ReturnVisitRead:
    row = await tx.fetchrow(_SELECT + " WHERE r.tenant = $1 AND r.id = $2", scope.tenant_id, visit_id)
    assert row is not None
    return _read(row, local_today(scope.time_zone))


async def get_return_visit(scope: TenantScope, visit_id: UUID) -> ReturnVisitRead:
    async with scope.tx() as tx:
        return _read(await _load(tx, scope, visit_id, lock=False), local_today(scope.time_zone))


# --- logging and the new deal ----------------------------------------------------------------------


async def log_return_visit(scope: TenantScope, visit_id: UUID, data: ReturnVisitLog) -> ReturnVisitRead:
    """Log a scheduled return visit: satisfaction (1–5), notes, new needs. Writes a visit follow-up
    on the customer and closes the visit's task, all in one transaction."""
    notes = data.notes.strip() if data.notes else None
    needs = data.new_needs.strip() if data.new_needs else None
    async with scope.tx() as tx:
        row = await _load(tx, scope, visit_id)
        if row["status"] != "scheduled":
            raise Conflict("This return visit is already closed")
        summary = translate(scope.tenant_locale, _SUMMARY, score=data.satisfaction)
        followup = await create_followup(
            scope,
            row["customer_id"],
            FollowupCreate(
                kind="visit",
                summary=summary + (f"\n{notes}" if notes else ""),
                happened_at=data.happened_at,
                outcome=needs,
                result="conversation",
            ),
        )
        await tx.execute(
            "UPDATE return_visits SET status = 'done', satisfaction = $3, notes = $4, new_needs = $5,"
            " followup_id = $6, logged_at = now(), logged_by = $7, updated_at = now()"
            " WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            visit_id,
            data.satisfaction,
            notes or None,
            needs or None,
            followup.id,
            scope.membership_id,
        )
        await tx.execute(
            "UPDATE sales_tasks SET status = 'done', closed_at = now(), closed_by = $3,"
            " close_reason = 'return_visit', updated_at = now()"
            " WHERE tenant = $1 AND return_visit_id = $2 AND status = 'open'",
            scope.tenant_id,
            visit_id,
            scope.membership_id,
        )
        await audit.record(
            tx,
            scope.user_id,
            "return_visit.logged",
            "return_visit",
            visit_id,
            data={"satisfaction": data.satisfaction, "customer_id": row["customer_id"]},
        )
        return await _reload(tx, scope, visit_id)


async def deal_from_needs(scope: TenantScope, visit_id: UUID, data: NeedDeal) -> DealRead:
    """Turn a logged return visit's new needs into a deal for the customer (once)."""
    if not data.title.strip():
        raise ValidationFailed.field("title", "Required")
    async with scope.tx() as tx:
        row = await _load(tx, scope, visit_id)
        if row["status"] != "done":
            raise Conflict("Log the return visit first")
        if not row["new_needs"]:
            raise Conflict("This return visit recorded no new needs")
        if row["new_deal_id"] is not None:
            raise Conflict("A deal was already made from this return visit")
        deal = await create_deal(
            scope,
            DealCreate(
                customer_id=row["customer_id"],
                title=data.title,
                amount=data.amount,
                currency=data.currency,
                expected_close_date=data.expected_close_date,
            ),
        )
        await tx.execute(
            "UPDATE return_visits SET new_deal_id = $3, updated_at = now() WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            visit_id,
            deal.id,
        )
        await audit.record(
            tx, scope.user_id, "return_visit.deal", "return_visit", visit_id, data={"deal_id": deal.id}
        )
        return deal
