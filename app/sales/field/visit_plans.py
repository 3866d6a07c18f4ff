"""Daily visit plans (每日造访计划表): a member plans a day — customers, time, purpose — submits it,
and a manager of a territory the member works in (at or above it) approves it or returns it with a
comment. A returned plan can be edited and submitted again. Visits are logged against the plan's
items as ordinary follow-ups (``create_followup``) linked to the item, so planned vs done is known.

Who sees a plan: its author, the managers of their territories' subtrees, owner/admin; anyone else
gets 404. One plan per member and day (409); a plan is for today or a later day, and only for
oneself (403 for someone else's).
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from app import audit
from app.customers.followups import create_followup
from app.customers.schemas import FollowupCreate
from app.db import Tx
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.localtime import local_today
from app.notifications.service import Notice, notify
from app.pagination import Page, check_limit, decode_date_id_cursor, encode_cursor
from app.rows import to_struct
from app.sales.field.schemas import (
    PlanDecision,
    PlanItemRead,
    PlanItemWrite,
    VisitPlanCreate,
    VisitPlanRead,
    VisitPlanUpdate,
)
from app.sql import Params
from tenants.access import customer_access, managers_of, manages_member, reach_sql, team_member_ids
from tenants.scope import TenantScope

_PLAN = (
    "SELECT p.*, u.name AS member_name FROM visit_plans p"
    " JOIN memberships m ON m.tenant = p.tenant AND m.id = p.membership_id"
    " LEFT JOIN users u ON u.id = m.user_id"
)
_ITEMS = (
    "SELECT i.*, c.full_name AS customer_name FROM visit_plan_items i"
    " JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id"
    " WHERE i.tenant = $1 AND i.plan_id = ANY($2::uuid[]) ORDER BY i.plan_id, i.position"
)


def _read(plan: asyncpg.Record, items: list[asyncpg.Record]) -> VisitPlanRead:
    read_items = [to_struct(PlanItemRead, i, done=i["followup_id"] is not None) for i in items]
    return to_struct(
        VisitPlanRead,
        plan,
        planned=len(read_items),
        done=sum(1 for i in read_items if i.done),
        items=read_items,
    )


async def _load(tx: Tx, scope: TenantScope, plan_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    team = await team_member_ids(tx, scope)
    row = await tx.fetchrow(
        _PLAN
        + f" WHERE p.tenant = $1 AND p.id = $2 AND {reach_sql('p.membership_id', '$3')}"
        + (" FOR UPDATE OF p" if lock else ""),
        scope.tenant_id,
        plan_id,
        team,
    )
    if row is None:
        raise NotFound("No visit plan with this id")
    return row


async def _full(tx: Tx, scope: TenantScope, plan_id: UUID) -> VisitPlanRead:
    plan = await _load(tx, scope, plan_id)
    return _read(plan, await tx.fetch(_ITEMS, scope.tenant_id, [plan_id]))


async def _write_items(tx: Tx, scope: TenantScope, plan_id: UUID, items: list[PlanItemWrite]) -> None:
    """Check every customer is one the member works with (422 on the item), then insert the items."""
    access = await customer_access(tx, scope)
    p = Params(scope.tenant_id, [i.customer_id for i in items])
    rows = await tx.fetch(
        f"SELECT c.id FROM customers c WHERE c.tenant = $1 AND c.id = ANY($2::uuid[]) AND"
        f" {access.visible_sql(p)}",
        *p.values,
    )
    known = {r["id"] for r in rows}
    for n, item in enumerate(items):
        if item.customer_id not in known:
            raise ValidationFailed.field(f"items[{n}].customer_id", "No customer you work with has this id")
    await tx.execute(
        "INSERT INTO visit_plan_items (tenant, plan_id, position, customer_id, planned_time, purpose, note)"
        " SELECT $1, $2, x.n, x.c, x.t, x.p, x.note FROM unnest($3::smallint[], $4::uuid[], $5::time[],"
        " $6::text[], $7::text[]) AS x(n, c, t, p, note)",
        scope.tenant_id,
        plan_id,
        list(range(1, len(items) + 1)),
        [i.customer_id for i in items],
        [i.planned_time for i in items],
        [i.purpose for i in items],
        [i.note for i in items],
    )


async def create_plan(scope: TenantScope, data: VisitPlanCreate) -> VisitPlanRead:
    if scope.membership_id is None:
        raise Forbidden("Only a member can plan visits")
    if data.membership_id is not None and data.membership_id != scope.membership_id:
        raise Forbidden("You can only plan your own visits")
    if data.plan_date < local_today(scope.time_zone):
        raise ValidationFailed.field("plan_date", "A plan is for today or a later day")
    async with scope.tx() as tx:
        plan_id: UUID | None = await tx.fetchval(
            "INSERT INTO visit_plans (tenant, membership_id, plan_date) VALUES ($1, $2, $3)"
            " ON CONFLICT (tenant, membership_id, plan_date) DO NOTHING RETURNING id",
            scope.tenant_id,
            scope.membership_id,
            data.plan_date,
        )
        if plan_id is None:
            raise Conflict("You already have a plan for this day")
        await _write_items(tx, scope, plan_id, data.items)
        await audit.record(
            tx,
            scope.user_id,
            "visit_plan.created",
            "visit_plan",
            plan_id,
            data={"date": data.plan_date, "items": len(data.items)},
        )
        return await _full(tx, scope, plan_id)


async def get_plan(scope: TenantScope, plan_id: UUID) -> VisitPlanRead:
    async with scope.tx() as tx:
        return await _full(tx, scope, plan_id)


async def list_plans(
    scope: TenantScope,
    *,
    membership_id: UUID | None = None,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[VisitPlanRead]:
    """The plans the caller sees (own; a manager their team's; admin all), latest day first."""
    check_limit(limit)
    at, after_id = decode_date_id_cursor(cursor) or (None, None)
    async with scope.tx() as tx:
        team = await team_member_ids(tx, scope)
        rows = await tx.fetch(
            _PLAN + f" WHERE p.tenant = $1 AND {reach_sql('p.membership_id', '$2')}"
            " AND ($3::uuid IS NULL OR p.membership_id = $3) AND ($4::text IS NULL OR p.status = $4)"
            " AND ($5::date IS NULL OR p.plan_date >= $5) AND ($6::date IS NULL OR p.plan_date <= $6)"
            " AND ($7::date IS NULL OR (p.plan_date, p.id) < ($7, $8::uuid))"
            " ORDER BY p.plan_date DESC, p.id DESC LIMIT $9",
            scope.tenant_id,
            team,
            membership_id,
            status,
            date_from,
            date_to,
            at,
            after_id,
            limit + 1,
        )
        page = rows[:limit]
        items = await tx.fetch(_ITEMS, scope.tenant_id, [r["id"] for r in page])
    by_plan: dict[UUID, list[asyncpg.Record]] = {}
    for item in items:
        by_plan.setdefault(item["plan_id"], []).append(item)
    plans = [_read(r, by_plan.get(r["id"], [])) for r in page]
    more = len(rows) > limit
    return Page(items=plans, next_cursor=encode_cursor(plans[-1].plan_date, plans[-1].id) if more else None)


async def _own_editable(tx: Tx, scope: TenantScope, plan_id: UUID) -> asyncpg.Record:
    plan = await _load(tx, scope, plan_id, lock=True)
    if plan["membership_id"] != scope.membership_id:
        raise Forbidden("Only the author of a plan can change it")
    if plan["status"] not in ("draft", "returned"):
        raise Conflict("Only a draft or returned plan can be changed")
    return plan


async def update_plan(scope: TenantScope, plan_id: UUID, data: VisitPlanUpdate) -> VisitPlanRead:
    """Replace the items of a draft or returned plan (not once a visit was logged against it)."""
    async with scope.tx() as tx:
        await _own_editable(tx, scope, plan_id)
        if await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM visit_plan_items WHERE tenant = $1 AND plan_id = $2"
            " AND followup_id IS NOT NULL)",
            scope.tenant_id,
            plan_id,
        ):
            raise Conflict("Visits were logged against this plan; its items can no longer be replaced")
        await tx.execute(
            "DELETE FROM visit_plan_items WHERE tenant = $1 AND plan_id = $2", scope.tenant_id, plan_id
        )
        await _write_items(tx, scope, plan_id, data.items)
        await tx.execute(
            "UPDATE visit_plans SET updated_at = now() WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            plan_id,
        )
        await audit.record(
            tx, scope.user_id, "visit_plan.updated", "visit_plan", plan_id, data={"items": len(data.items)}
        )
        return await _full(tx, scope, plan_id)


async def submit_plan(scope: TenantScope, plan_id: UUID) -> VisitPlanRead:
    """Draft or returned → submitted; the member's managers are notified."""
    async with scope.tx() as tx:
        plan = await _own_editable(tx, scope, plan_id)
        if not await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM visit_plan_items WHERE tenant = $1 AND plan_id = $2)",
            scope.tenant_id,
            plan_id,
        ):
            raise ValidationFailed.field("items", "Plan at least one visit before submitting")
        await tx.execute(
            "UPDATE visit_plans SET status = 'submitted', submitted_at = now(), updated_at = now()"
            " WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            plan_id,
        )
        await audit.record(tx, scope.user_id, "visit_plan.submitted", "visit_plan", plan_id)
        params = {"member": plan["member_name"] or "", "date": plan["plan_date"].isoformat()}
        managers = await managers_of(tx, scope.tenant_id, plan["membership_id"])
        await notify(
            tx,
            [
                Notice(
                    m["membership_id"],
                    "visit_plan_submitted",
                    f"visit_plan_submitted:{plan_id}:{m['membership_id']}:{_stamp(plan)}",
                    "visit_plan",
                    plan_id,
                    params,
                )
                for m in managers
            ],
        )
        return await _full(tx, scope, plan_id)


def _stamp(plan: asyncpg.Record) -> str:
    """Distinguishes the rounds of one plan (a returned plan is submitted again)."""
    return plan["updated_at"].isoformat()


async def decide_plan(scope: TenantScope, plan_id: UUID, approve: bool, data: PlanDecision) -> VisitPlanRead:
    """Submitted → approved or returned (a return needs a comment). 404 outside the caller's team;
    403 for one's own plan or a member the caller does not manage; 409 unless submitted."""
    scope.require_person()
    comment = (data.comment or "").strip() or None
    if not approve and comment is None:
        raise ValidationFailed.field("comment", "Say why the plan is returned")
    async with scope.tx() as tx:
        plan = await _load(tx, scope, plan_id, lock=True)
        if plan["membership_id"] == scope.membership_id:
            raise Forbidden("You cannot decide your own plan")
        if not await manages_member(tx, scope, plan["membership_id"]):
            raise Forbidden("Only a manager of the member's territory can decide this plan")
        if plan["status"] != "submitted":
            raise Conflict("Only a submitted plan can be approved or returned")
        status = "approved" if approve else "returned"
        await tx.execute(
            "UPDATE visit_plans SET status = $3, comment = $4, decided_by = $5, decided_at = now(),"
            " updated_at = now() WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            plan_id,
            status,
            comment,
            scope.membership_id,
        )
        await audit.record(tx, scope.user_id, f"visit_plan.{status}", "visit_plan", plan_id, reason=comment)
        notice = Notice(
            plan["membership_id"],
            f"visit_plan_{status}",
            f"visit_plan_{status}:{plan_id}:{_stamp(plan)}",
            "visit_plan",
            plan_id,
            {"date": plan["plan_date"].isoformat(), "comment": comment or ""},
        )
        await notify(tx, [notice])
        return await _full(tx, scope, plan_id)


async def log_visit(scope: TenantScope, plan_id: UUID, item_id: UUID, data: FollowupCreate) -> VisitPlanRead:
    """Log the visit of one item: a follow-up on the item's customer, linked to the item, in one
    transaction (either both or neither)."""
    async with scope.tx() as tx:
        plan = await _load(tx, scope, plan_id, lock=True)
        if plan["membership_id"] != scope.membership_id:
            raise Forbidden("Only the author of a plan can log its visits")
        item = await tx.fetchrow(
            "SELECT * FROM visit_plan_items WHERE tenant = $1 AND plan_id = $2 AND id = $3 FOR UPDATE",
            scope.tenant_id,
            plan_id,
            item_id,
        )
        if item is None:
            raise NotFound("No item with this id in the plan")
        if plan["status"] not in ("submitted", "approved"):
            raise Conflict("Submit the plan before logging its visits")
        if item["followup_id"] is not None:
            raise Conflict("This visit was logged already")
        followup = await create_followup(scope, item["customer_id"], data)
        await tx.execute(
            "UPDATE visit_plan_items SET followup_id = $3, done_at = $4 WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            item_id,
            followup.id,
            followup.happened_at,
        )
        await audit.record(
            tx,
            scope.user_id,
            "visit_plan.visit_logged",
            "visit_plan",
            plan_id,
            data={"item_id": item_id, "followup_id": followup.id},
        )
        return await _full(tx, scope, plan_id)
