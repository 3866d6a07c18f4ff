"""Follow-up tasks (待办): due calls and visits, from the cadences (daily job), from return visits,
or entered by hand.

Who sees a task (``tenants.access.team``): its assignee; a manager the tasks of customers in their
territories (subtrees); owner/admin all. Anything else is 404, like another tenant's id. Whoever sees
a task may close it or move it to another day (``reschedule_task``) while it is open.

A task is done when a follow-up of its kind is logged on the customer after the task was made: the
listing computes that at read time (``EFFECTIVE_STATUS``), and the daily job writes it down
set-based (``close_done_tasks``), so ``customers/followups.py`` needs no hook."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final
from uuid import UUID

import asyncpg

from app import audit
from app.db import Tx
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.localtime import local_today
from app.pagination import Page, check_limit, decode_date_id_cursor, encode_cursor
from app.rows import to_struct
from app.sales.growth.schemas import TaskClose, TaskCreate, TaskRead, TaskReschedule
from app.sql import Params
from tenants.access import assigned_visible_sql, customer_access
from tenants.scope import TenantScope

STATUSES: Final = ("open", "done", "skipped")
KINDS: Final = ("call", "visit")


def followup_kinds_sql(task_kind: str) -> str:
    """The follow-up kinds that count for a task kind (a visit: a visit, meeting or demo on site)."""
    return f"(CASE {task_kind} WHEN 'call' THEN '{{call}}'::text[] ELSE '{{visit,meeting,demo}}'::text[] END)"


# True when a follow-up of the task's kind was logged on its customer since the task was made.
DONE_BY_FOLLOWUP: Final = (
    "EXISTS (SELECT 1 FROM customer_followups f WHERE f.tenant = t.tenant AND f.customer_id = t.customer_id"
    f" AND f.kind = ANY({followup_kinds_sql('t.kind')}) AND f.created_at >= t.created_at)"
)
# The sources a follow-up does: a return visit is done when logged, a warm handoff (a handover's
# task for the previous owner) when its assignee closes it.
BY_FOLLOWUP: Final = "t.source NOT IN ('return_visit', 'handover')"
EFFECTIVE_STATUS: Final = (
    f"CASE WHEN t.status = 'open' AND {BY_FOLLOWUP} AND {DONE_BY_FOLLOWUP} THEN 'done' ELSE t.status END"
)
_SELECT: Final = (
    "SELECT * FROM (SELECT t.id, t.customer_id, c.full_name AS customer_name, c.territory_id,"
    " t.assignee_membership_id, t.kind, t.source, t.due_on, "
    + EFFECTIVE_STATUS
    + " AS status, t.note, t.return_visit_id, t.closed_at, t.close_reason, t.created_at"
    " FROM sales_tasks t JOIN customers c ON c.tenant = t.tenant AND c.id = t.customer_id"
)


def _read(row: asyncpg.Record, today: date) -> TaskRead:
    return to_struct(TaskRead, row, overdue=row["status"] == "open" and row["due_on"] < today)


async def list_tasks(
    scope: TenantScope,
    *,
    status: str | None = "open",
    kind: str | None = None,
    due_before: date | None = None,
    assignee: UUID | None = None,
    customer_id: UUID | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[TaskRead]:
    """Soonest due first. ``status`` open (default; overdue ones first as they are due earliest),
    done, skipped or all; ``assignee`` narrows to one member (a rep: only themselves)."""
    check_limit(limit)
    if status is not None and status != "all" and status not in STATUSES:
        raise ValidationFailed.field("status", "Use open, done, skipped or all")
    if kind is not None and kind not in KINDS:
        raise ValidationFailed.field("kind", "Use call or visit")
    if assignee is not None and assignee != scope.membership_id and not scope.at_least("manager"):
        raise Forbidden("A rep sees only their own tasks")
    after_key = decode_date_id_cursor(cursor)
    async with scope.tx() as tx:
        p = Params(scope.tenant_id)
        where = await assigned_visible_sql(tx, scope, p, "t.assignee_membership_id", "c.territory_id")
        sql = _SELECT + f" WHERE t.tenant = $1 AND {where}"
        if kind:
            sql += f" AND t.kind = {p(kind)}"
        if due_before:
            sql += f" AND t.due_on < {p(due_before)}"
        if assignee:
            sql += f" AND t.assignee_membership_id = {p(assignee)}"
        if customer_id:
            sql += f" AND t.customer_id = {p(customer_id)}"
        if status in ("done", "skipped"):  # a closed row stays closed; open rows may be done by now
            sql += " AND (t.status = 'open' OR t.status = " + p(status) + ")"
        elif status == "open":
            sql += " AND t.status = 'open'"
        sql += ") x WHERE TRUE"
        if status and status != "all":
            sql += f" AND x.status = {p(status)}"
        if after_key:
            sql += f" AND (x.due_on, x.id) > ({p(after_key[0])}, {p(after_key[1])})"
        sql += f" ORDER BY x.due_on, x.id LIMIT {p(limit + 1)}"
        rows = await tx.fetch(sql, *p.values)
    today = local_today(scope.time_zone)
    items = [_read(r, today) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].due_on, items[-1].id) if more else None)


async def _load(tx: Tx, scope: TenantScope, task_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    p = Params(scope.tenant_id, task_id)
    where = await assigned_visible_sql(tx, scope, p, "t.assignee_membership_id", "c.territory_id")
    row = await tx.fetchrow(
        _SELECT
        + f" WHERE t.tenant = $1 AND t.id = $2 AND {where}"
        + (" FOR UPDATE OF t" if lock else "")
        + ") x",
        *p.values,
    )
    if row is None:
        raise NotFound("No task with this id")
    return row


async def reload(tx: Tx, scope: TenantScope, task_id: UUID) -> TaskRead:
    row = await tx.fetchrow(_SELECT + " WHERE t.tenant = $1 AND t.id = $2) x", scope.tenant_id, task_id)
    assert row is not None
    return _read(row, local_today(scope.time_zone))


def _check_due(scope: TenantScope, due_on: date) -> None:
    today = local_today(scope.time_zone)
    if due_on < today:
        raise ValidationFailed.field("due_on", "A task cannot be due in the past")
    if due_on > today + timedelta(days=3650):
        raise ValidationFailed.field("due_on", "Use a date within ten years")


async def create_task(scope: TenantScope, data: TaskCreate) -> TaskRead:
    """A task by hand, for a customer the caller may change; for its owner (or the caller) unless
    a manager names another member."""
    _check_due(scope, data.due_on)
    note = data.note.strip() if data.note else None
    async with scope.tx() as tx:
        access = await customer_access(tx, scope)
        p = Params(scope.tenant_id, data.customer_id)
        customer = await tx.fetchrow(
            "SELECT c.territory_id, c.owner_membership_id FROM customers c"
            f" WHERE c.tenant = $1 AND c.id = $2 AND {access.visible_sql(p)}",
            *p.values,
        )
        if customer is None:
            raise ValidationFailed.field("customer_id", "No customer with this id")
        if not access.can_edit(customer["territory_id"], customer["owner_membership_id"]):
            raise Forbidden("Only the customer's owner or a manager of its territory can change it")
        assignee = data.assignee_membership_id or customer["owner_membership_id"] or scope.membership_id
        if assignee is None:
            raise ValidationFailed.field("assignee_membership_id", "Required")
        if assignee != scope.membership_id:
            if not access.manages(customer["territory_id"]):
                raise Forbidden("A rep can give tasks only to themselves")
            if not await tx.fetchval(
                "SELECT active FROM memberships WHERE tenant = $1 AND id = $2", scope.tenant_id, assignee
            ):
                raise ValidationFailed.field("assignee_membership_id", "No active member with this id")
        task_id: UUID = await tx.fetchval(
            "INSERT INTO sales_tasks (tenant, customer_id, assignee_membership_id, kind, source, due_on,"
            " note, created_by) VALUES ($1, $2, $3, $4, 'manual', $5, $6, $7) RETURNING id",
            scope.tenant_id,
            data.customer_id,
            assignee,
            data.kind,
            data.due_on,
            note or None,
            scope.membership_id,
        )
        await audit.record(
            tx, scope.user_id, "task.created", "task", task_id, data={"customer_id": data.customer_id}
        )
        return await reload(tx, scope, task_id)


async def close_task(scope: TenantScope, task_id: UUID, status: str, data: TaskClose) -> TaskRead:
    """Mark an open task done or skipped (a skip needs a reason). A return visit's task is done by
    logging the return visit; skipping it skips the return visit too."""
    reason = data.reason.strip() if data.reason else None
    if status == "skipped" and not reason:
        raise ValidationFailed.field("reason", "Required")
    async with scope.tx() as tx:
        row = await _load(tx, scope, task_id, lock=True)
        if row["status"] != "open":
            raise Conflict("This task is already closed")
        if status == "done" and row["source"] == "return_visit":
            raise Conflict("Log the return visit to complete this task")
        await tx.execute(
            "UPDATE sales_tasks SET status = $3, closed_at = now(), closed_by = $4, close_reason = $5,"
            " updated_at = now() WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            task_id,
            status,
            scope.membership_id,
            reason,
        )
        if row["return_visit_id"] is not None:
            await tx.execute(
                "UPDATE return_visits SET status = 'skipped', notes = $3, updated_at = now()"
                " WHERE tenant = $1 AND id = $2 AND status = 'scheduled'",
                scope.tenant_id,
                row["return_visit_id"],
                reason,
            )
        await audit.record(tx, scope.user_id, f"task.{status}", "task", task_id, reason=reason)
        return await reload(tx, scope, task_id)


async def reschedule_task(scope: TenantScope, task_id: UUID, data: TaskReschedule) -> TaskRead:
    """Move an open task to another day: today or later in the tenant's zone (422 otherwise), by
    whoever sees it — its assignee, a manager of the customer's territory, owner/admin (anyone else:
    404, as for another tenant's id). A closed task (done, also by a logged follow-up, or skipped) is
    409. A return visit's task moves its return visit with it, so the two stay on the same day."""
    _check_due(scope, data.due_on)
    async with scope.tx() as tx:
        row = await _load(tx, scope, task_id, lock=True)
        if row["status"] != "open":
            raise Conflict("This task is already closed")
        await tx.execute(
            "UPDATE sales_tasks SET due_on = $3, updated_at = now() WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            task_id,
            data.due_on,
        )
        if row["return_visit_id"] is not None:
            await tx.execute(
                "UPDATE return_visits SET due_on = $3, updated_at = now()"
                " WHERE tenant = $1 AND id = $2 AND status = 'scheduled'",
                scope.tenant_id,
                row["return_visit_id"],
                data.due_on,
            )
        await audit.record(
            tx,
            scope.user_id,
            "task.rescheduled",
            "task",
            task_id,
            data={"from": row["due_on"], "to": data.due_on},
        )
        return await reload(tx, scope, task_id)


# --- the daily job, one tenant at a time (set-based) ---------------------------------------------


async def close_done_tasks(tx: Tx) -> int:
    """Write down what the listing computes: open tasks with a matching follow-up since are done;
    open cadence tasks whose customer left the assignee (reclaimed, handed over) are skipped."""
    status = await tx.execute(
        "UPDATE sales_tasks t SET status = 'done', closed_at = now(), close_reason = 'followup',"
        f" updated_at = now() WHERE t.tenant = $1 AND t.status = 'open' AND {BY_FOLLOWUP}"
        f" AND {DONE_BY_FOLLOWUP}",
        tx.tenant_id,
    )
    done = int(status.split()[-1])
    await tx.execute(
        "UPDATE sales_tasks t SET status = 'skipped', closed_at = now(), close_reason = 'owner_changed',"
        " updated_at = now() WHERE t.tenant = $1 AND t.status = 'open' AND t.source = 'cadence'"
        " AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.tenant = t.tenant AND c.id = t.customer_id"
        "  AND c.owner_membership_id = t.assignee_membership_id AND c.status IN ('prospect', 'won'))",
        tx.tenant_id,
    )
    return done


CREATE_DUE_SQL: Final = f"""
WITH rules (grade, kind, days) AS (SELECT * FROM unnest($2::text[], $3::text[], $4::int[])),
due AS (
    SELECT c.tenant, c.id, c.owner_membership_id, r.kind,
        (COALESCE((SELECT max(f.happened_at) FROM customer_followups f
                   WHERE f.tenant = c.tenant AND f.customer_id = c.id
                     AND f.kind = ANY({followup_kinds_sql("r.kind")})),
                  c.owner_changed_at) + make_interval(days => r.days)) AS due_at
    FROM customers c JOIN rules r ON r.grade = c.grade
    WHERE c.tenant = $1 AND c.owner_membership_id IS NOT NULL AND c.status IN ('prospect', 'won')
)
INSERT INTO sales_tasks (tenant, customer_id, assignee_membership_id, kind, source, due_on)
SELECT d.tenant, d.id, d.owner_membership_id, d.kind, 'cadence', (d.due_at AT TIME ZONE $5)::date
FROM due d
WHERE (d.due_at AT TIME ZONE $5)::date <= $6::date
  AND NOT EXISTS (SELECT 1 FROM sales_tasks t WHERE t.tenant = d.tenant AND t.customer_id = d.id
                  AND t.kind = d.kind AND t.status = 'open')
ON CONFLICT (tenant, customer_id, kind) WHERE status = 'open' AND source = 'cadence' DO NOTHING
"""


async def create_due_tasks(tx: Tx, rules: tuple[list[str], list[str], list[int]], time_zone: str) -> int:
    """One ``INSERT … SELECT``: a task for every owned customer whose last call (visit) is older than
    its grade's cadence and who has no open task of that kind. Idempotent (unique partial index)."""
    grades, kinds, days = rules
    status = await tx.execute(
        CREATE_DUE_SQL, tx.tenant_id, grades, kinds, days, time_zone, local_today(time_zone)
    )
    return int(status.split()[-1])
