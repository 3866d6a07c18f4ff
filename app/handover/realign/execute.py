"""Running a realignment inside :func:`app.handover.execute.execute_plan`'s transaction, under the plan
lock and the tenant's tree lock: the new territory (split), the customers (territory and owner in one
``UPDATE`` with their ownership history, ``change_owners``), then the tree (paths rewritten in one
``UPDATE``; a merge also moves B's members, targets and references to A and deletes B)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from app import audit
from app.customers.owner_changes import Moves, change_owners
from app.db import Tx
from app.errors import Conflict, NotFound, ValidationFailed
from app.handover.realign.operation import Operation, resolve, stored_request
from app.handover.schemas import RealignCreate
from tenants.access import in_subtree_sql
from tenants.scope import TenantScope

_TREE_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('territory-tree:' || $1::uuid::text, 0))"


class Stale(Exception):
    """Raised inside the execute transaction to roll it back when the plan no longer matches."""


def _move(plan_id: UUID) -> Moves:
    """The plan's customers to their new owner and territory, while unchanged since planning."""
    return Moves(
        "(SELECT customer_id, from_membership_id AS from_owner, to_membership_id AS to_owner,"
        " to_territory_id, seen_updated_at FROM handover_items"
        " WHERE tenant = $1 AND plan_id = $2 AND blocked IS NULL) x",
        (plan_id,),
        where="c.updated_at = x.seen_updated_at",
        also_set="territory_id = coalesce(x.to_territory_id, c.territory_id)",
        touch="x.to_territory_id IS NOT NULL",
    )


_SAME_TARGET = (
    "a.tenant = $1 AND b.tenant = $1 AND b.territory_id = $2 AND a.territory_id = $3"
    " AND a.metric = b.metric AND a.period = b.period AND a.period_start = b.period_start"
)
_REFERENCES = (
    # rows of other domains that point at the merged-away territory follow it into A
    "UPDATE customer_conflicts SET territory_id = $3 WHERE tenant = $1 AND territory_id = $2",
    "UPDATE cross_territory_grants SET territory_id = $3 WHERE tenant = $1 AND territory_id = $2",
    # (a member's pending request for B, when they have one for A too, goes with B: one is enough)
    "UPDATE cross_territory_requests r SET territory_id = $3 WHERE r.tenant = $1 AND r.territory_id = $2"
    " AND NOT (r.status = 'pending' AND EXISTS (SELECT 1 FROM cross_territory_requests o WHERE o.tenant = $1"
    " AND o.membership_id = r.membership_id AND o.territory_id = $3 AND o.status = 'pending'))",
    "UPDATE customer_imports SET default_territory_id = $3 WHERE tenant = $1 AND default_territory_id = $2",
    "UPDATE approvals SET territory_id = $3 WHERE tenant = $1 AND territory_id = $2",
    # B's targets fold into A's: where A has the same metric and period, A's value grows by B's and
    # B's children (its decomposition) hang under A's; the rest simply become A's
    f"UPDATE targets a SET value = a.value + b.value, updated_at = now() FROM targets b WHERE {_SAME_TARGET}",
    "UPDATE targets child SET parent_id = a.id FROM targets b, targets a"
    f" WHERE child.tenant = $1 AND child.parent_id = b.id AND {_SAME_TARGET}",
    f"DELETE FROM targets b USING targets a WHERE {_SAME_TARGET}",
    "UPDATE targets SET territory_id = $3 WHERE tenant = $1 AND territory_id = $2",
)


async def apply(tx: Tx, scope: TenantScope, row: asyncpg.Record) -> int:
    """Run the realignment in ``tx``; returns the customers it touched. Raises :class:`Stale` when the
    tree or a customer changed since planning, 409 while customers are blocked, 403/422 as planning."""
    stored = stored_request(row)
    data = stored.request
    plan_id = row["id"]
    await tx.execute(_TREE_LOCK, tx.tenant_id)
    try:
        op = await resolve(tx, scope, data, stored.new_territory_id)
    except (ValidationFailed, NotFound):
        raise Stale from None
    if op.seen != stored.seen_paths:
        raise Stale
    counts = await tx.fetchrow(
        "SELECT count(*) AS n, count(*) FILTER (WHERE blocked IS NOT NULL) AS blocked"
        " FROM handover_items WHERE tenant = $1 AND plan_id = $2",
        tx.tenant_id,
        plan_id,
    )
    assert counts is not None
    if counts["blocked"]:
        raise Conflict(
            "{count} customers cannot be realigned as planned; resolve them or choose another owner rule",
            count=counts["blocked"],
            extra={"blocked": counts["blocked"]},
        )
    if op.new_id is not None and data.new_territory is not None:
        await _create_territory(tx, scope, op, data)
    expected = int(counts["n"])
    if expected:
        move = _move(plan_id)
        moved = await change_owners(
            tx, scope, move, cause="handover", reason=row["reason"], plan_id=plan_id, expect=expected
        )
        if moved.moved != expected:
            raise Stale
    if data.operation in ("move", "merge"):
        await _rewrite_tree(tx, scope, op, data)
    await audit.record(
        tx,
        scope.user_id,
        "territory.realigned",
        "territory",
        data.territory_id,
        reason=row["reason"],
        data={
            "operation": data.operation,
            "handover_plan": str(plan_id),
            "target_id": str(op.target["id"]) if op.target is not None else str(op.new_id or ""),
            "customers": expected,
            "owner_rule": data.owner_rule,
        },
    )
    return expected


async def _create_territory(tx: Tx, scope: TenantScope, op: Operation, data: RealignCreate) -> None:
    new = data.new_territory
    assert new is not None and op.new_path is not None
    try:
        async with tx.connection.transaction():  # a savepoint
            await tx.execute(
                "INSERT INTO territories (tenant, id, parent_id, name, level, path)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                tx.tenant_id,
                op.new_id,
                op.subject["parent_id"],
                new.name.strip(),
                new.level,
                op.new_path,
            )
    except asyncpg.UniqueViolationError:
        raise Conflict(
            "A territory named {name} already exists here", name=new.name.strip(), extra={"field": "name"}
        ) from None
    await tx.execute(
        "INSERT INTO territory_members (tenant, territory_id, membership_id, role)"
        " SELECT $1, $2, x.m, x.r FROM unnest($3::uuid[], $4::text[]) AS x (m, r)"
        " JOIN memberships m ON m.tenant = $1 AND m.id = x.m AND m.active"
        " ON CONFLICT (tenant, territory_id, membership_id) DO NOTHING",
        tx.tenant_id,
        op.new_id,
        [*new.reps, *new.managers],
        ["rep"] * len(new.reps) + ["manager"] * len(new.managers),
    )
    await audit.record(
        tx,
        scope.user_id,
        "territory.created",
        "territory",
        op.new_id or "",
        data={"name": new.name.strip(), "level": new.level, "parent_id": op.subject["parent_id"]},
    )


async def _rewrite_tree(tx: Tx, scope: TenantScope, op: Operation, data: RealignCreate) -> None:
    assert op.old is not None and op.new is not None
    subject = op.subject["id"]
    merge = data.operation == "merge"
    target = op.target["id"] if op.target is not None else None
    try:
        async with tx.connection.transaction():  # a savepoint
            # move: the subtree itself; merge: what is strictly below B (B's path becomes A's)
            await tx.execute(
                "UPDATE territories SET path = $3 || substr(path, $4),"
                " parent_id = CASE WHEN id = $5 THEN $6 WHEN $7 AND parent_id = $5 THEN $6"
                " ELSE parent_id END,"
                " updated_at = CASE WHEN id = $5 OR ($7 AND parent_id = $5) THEN now() ELSE updated_at END"
                f" WHERE tenant = $1 AND {in_subtree_sql('path', of='$2')} AND NOT ($7 AND id = $5)",
                tx.tenant_id,
                op.old,
                op.new,
                len(op.old) + 1,
                subject,
                target,
                merge,
            )
    except asyncpg.UniqueViolationError:
        raise Conflict(
            "The new parent already has a territory with this name", extra={"field": "name"}
        ) from None
    if not merge:
        return
    await tx.execute(
        "INSERT INTO territory_members (tenant, territory_id, membership_id, role)"
        " SELECT tenant, $3, membership_id, role FROM territory_members"
        " WHERE tenant = $1 AND territory_id = $2"
        " ON CONFLICT (tenant, territory_id, membership_id) DO UPDATE SET role = 'manager'"
        " WHERE EXCLUDED.role = 'manager'",
        tx.tenant_id,
        subject,
        target,
    )
    if await tx.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM targets a, targets b WHERE {_SAME_TARGET}"
        " AND a.currency IS DISTINCT FROM b.currency)",
        tx.tenant_id,
        subject,
        target,
    ):
        raise Conflict("The two territories have targets for the same period in different currencies")
    for sql in _REFERENCES:
        await tx.execute(sql, tx.tenant_id, subject, target)
    await tx.execute(
        "DELETE FROM territory_members WHERE tenant = $1 AND territory_id = $2", tx.tenant_id, subject
    )
    await tx.execute("DELETE FROM territories WHERE tenant = $1 AND id = $2", tx.tenant_id, subject)
    await audit.record(
        tx,
        scope.user_id,
        "territory.deleted",
        "territory",
        subject,
        data={"name": op.subject["name"], "merged_into": str(target)},
    )
