"""A handover carries the previous owner's open work on the moved customers to the receiver.

What goes: open tasks (``sales_tasks``: cadence, return-visit and manual ones) assigned to the
previous owner, their scheduled return visits (``return_visits``), and the items of their visit
plans for a day after today (in the tenant's time zone) not yet visited — into the receiver's plan
of that day (made as a draft when they have none; appended after its items). What stays: done or
skipped tasks, a task a follow-up already did (``DONE_BY_FOLLOWUP``, as the task list counts it), a
warm handoff (the previous owner's own task from an earlier handover), logged return visits, visited
items and today's and earlier plans — the history stays with who did it — and everything of a
customer going to the pool (nobody receives it; a release leaves it so too).

Each carried row is written to ``handover_carried``; the preview counts from it once executed, and
an undo gives back what is still open and still the receiver's (a visit item to the plan it came
from, after that plan's items) and keeps the record, as it does of the deals. All set-based: one
statement per kind.
"""

from __future__ import annotations

from datetime import date
from typing import Final
from uuid import UUID

from app.db import Tx
from app.sales.growth.tasks import BY_FOLLOWUP, DONE_BY_FOLLOWUP

KINDS: Final = ("task", "return_visit", "visit_item")

# Items whose customer goes from one member to another.
_HANDED = (
    "i.tenant = $1 AND i.plan_id = $2 AND i.blocked IS NULL AND i.from_membership_id IS NOT NULL"
    " AND i.to_membership_id IS NOT NULL AND i.to_membership_id <> i.from_membership_id"
)
_TASK = (
    "t.tenant = i.tenant AND t.customer_id = i.customer_id"
    " AND t.assignee_membership_id = i.from_membership_id"
    f" AND t.status = 'open' AND t.source <> 'handover' AND NOT ({BY_FOLLOWUP} AND {DONE_BY_FOLLOWUP})"
)
_TASKS = f"FROM handover_items i JOIN sales_tasks t ON {_TASK} WHERE {_HANDED}"
_VISIT = (
    "r.tenant = i.tenant AND r.customer_id = i.customer_id"
    " AND r.assignee_membership_id = i.from_membership_id"
    " AND r.status = 'scheduled'"
)
_VISITS = f"FROM handover_items i JOIN return_visits r ON {_VISIT} WHERE {_HANDED}"
# $3: the tenant's today
_ITEMS = (
    "FROM handover_items i JOIN visit_plan_items v ON v.tenant = i.tenant AND v.customer_id = i.customer_id"
    " AND v.followup_id IS NULL AND v.done_at IS NULL"
    " JOIN visit_plans p ON p.tenant = v.tenant AND p.id = v.plan_id"
    " AND p.membership_id = i.from_membership_id AND p.plan_date > $3::date"
    f" WHERE {_HANDED}"
)

_COUNT = f"""
SELECT i.to_membership_id AS m, 'task' AS kind, count(*) AS n {_TASKS} GROUP BY 1
UNION ALL SELECT i.to_membership_id, 'return_visit', count(*) {_VISITS} GROUP BY 1
UNION ALL SELECT i.to_membership_id, 'visit_item', count(*) {_ITEMS} GROUP BY 1
"""
_COUNT_CARRIED = """
SELECT to_membership_id AS m, kind, count(*) AS n FROM handover_carried
WHERE tenant = $1 AND plan_id = $2 GROUP BY 1, 2
"""

_CARRY_TASKS = f"""
WITH moved AS (
    UPDATE sales_tasks t SET assignee_membership_id = i.to_membership_id, updated_at = now()
    FROM handover_items i WHERE {_HANDED} AND {_TASK}
    RETURNING t.id, i.from_membership_id AS from_m, i.to_membership_id AS to_m
)
INSERT INTO handover_carried (tenant, plan_id, kind, row_id, from_membership_id, to_membership_id)
SELECT $1, $2, 'task', id, from_m, to_m FROM moved
"""
_CARRY_VISITS = f"""
WITH moved AS (
    UPDATE return_visits r SET assignee_membership_id = i.to_membership_id, updated_at = now()
    FROM handover_items i WHERE {_HANDED} AND {_VISIT}
    RETURNING r.id, i.from_membership_id AS from_m, i.to_membership_id AS to_m
)
INSERT INTO handover_carried (tenant, plan_id, kind, row_id, from_membership_id, to_membership_id)
SELECT $1, $2, 'return_visit', id, from_m, to_m FROM moved
"""
# The receivers' plans for the days the carried items are on (new ones are drafts).
_RECEIVING_PLANS = f"""
INSERT INTO visit_plans (tenant, membership_id, plan_date)
SELECT DISTINCT $1::uuid, i.to_membership_id, p.plan_date {_ITEMS}
ON CONFLICT (tenant, membership_id, plan_date) DO NOTHING
"""
_CARRY_ITEMS = f"""
WITH src AS (
    SELECT v.id, v.plan_id AS from_plan, v.position AS from_pos, v.planned_time, p.plan_date,
           i.from_membership_id AS from_m, i.to_membership_id AS to_m {_ITEMS}
), dest AS (
    SELECT s.*, q.id AS to_plan,
           (SELECT coalesce(max(o.position), 0) FROM visit_plan_items o
            WHERE o.tenant = $1 AND o.plan_id = q.id)
           + row_number() OVER (PARTITION BY q.id ORDER BY s.planned_time, s.id) AS pos
    FROM src s
    JOIN visit_plans q ON q.tenant = $1 AND q.membership_id = s.to_m AND q.plan_date = s.plan_date
), moved AS (
    UPDATE visit_plan_items v SET plan_id = d.to_plan, position = d.pos
    FROM dest d WHERE v.tenant = $1 AND v.id = d.id
    RETURNING v.id, d.from_m, d.to_m, d.from_plan, d.from_pos
)
INSERT INTO handover_carried
    (tenant, plan_id, kind, row_id, from_membership_id, to_membership_id, from_plan_id, from_position)
SELECT $1, $2, 'visit_item', id, from_m, to_m, from_plan, from_pos FROM moved
"""

_BACK_TASKS = """
UPDATE sales_tasks t SET assignee_membership_id = h.from_membership_id, updated_at = now()
FROM handover_carried h
WHERE h.tenant = $1 AND h.plan_id = $2 AND h.kind = 'task' AND t.tenant = h.tenant AND t.id = h.row_id
  AND t.status = 'open' AND t.assignee_membership_id = h.to_membership_id
"""
_BACK_VISITS = """
UPDATE return_visits r SET assignee_membership_id = h.from_membership_id, updated_at = now()
FROM handover_carried h
WHERE h.tenant = $1 AND h.plan_id = $2 AND h.kind = 'return_visit' AND r.tenant = h.tenant
  AND r.id = h.row_id AND r.status = 'scheduled' AND r.assignee_membership_id = h.to_membership_id
"""
# Back to the plan it came from (if it still exists), after that plan's items.
_BACK_ITEMS = """
WITH back AS (
    SELECT v.id, h.from_plan_id,
           (SELECT coalesce(max(o.position), 0) FROM visit_plan_items o
            WHERE o.tenant = $1 AND o.plan_id = h.from_plan_id)
           + row_number() OVER (PARTITION BY h.from_plan_id ORDER BY h.from_position, v.id) AS pos
    FROM handover_carried h
    JOIN visit_plan_items v ON v.tenant = h.tenant AND v.id = h.row_id AND v.followup_id IS NULL
      AND v.done_at IS NULL
    JOIN visit_plans p ON p.tenant = v.tenant AND p.id = v.plan_id AND p.membership_id = h.to_membership_id
    JOIN visit_plans f ON f.tenant = h.tenant AND f.id = h.from_plan_id
    WHERE h.tenant = $1 AND h.plan_id = $2 AND h.kind = 'visit_item'
)
UPDATE visit_plan_items v SET plan_id = b.from_plan_id, position = b.pos
FROM back b WHERE v.tenant = $1 AND v.id = b.id
"""


async def counts(tx: Tx, plan_id: UUID, today: date, *, executed: bool) -> dict[UUID, dict[str, int]]:
    """Per receiver, per kind: what the execution would carry (a draft) or carried (executed)."""
    rows = (
        await tx.fetch(_COUNT_CARRIED, tx.tenant_id, plan_id)
        if executed
        else await tx.fetch(_COUNT, tx.tenant_id, plan_id, today)
    )
    out: dict[UUID, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["m"], dict.fromkeys(KINDS, 0))[r["kind"]] = r["n"]
    return out


async def carry(tx: Tx, plan_id: UUID, today: date) -> None:
    """Give the receivers the previous owners' open work on the plan's customers (before their
    owners change; a stale plan rolls it back with the rest)."""
    await tx.execute(_CARRY_TASKS, tx.tenant_id, plan_id)
    await tx.execute(_CARRY_VISITS, tx.tenant_id, plan_id)
    await tx.execute(_RECEIVING_PLANS, tx.tenant_id, plan_id, today)
    await tx.execute(_CARRY_ITEMS, tx.tenant_id, plan_id, today)


async def carry_back(tx: Tx, plan_id: UUID) -> None:
    """Give back what is still open and still the receiver's (done work stays with who did it)."""
    for sql in (_BACK_TASKS, _BACK_VISITS, _BACK_ITEMS):
        await tx.execute(sql, tx.tenant_id, plan_id)
