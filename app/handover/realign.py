"""Territory realignment (区域调整) through the handover machinery: plan → preview → execute.

``POST /api/v1/realignments`` drafts a handover plan of kind ``realign`` (see
:class:`~app.handover.schemas.RealignCreate` for move / merge / split and the owner rules). Its
``handover_items`` are every customer whose territory or owner the change touches: the customer, its
owner and ``updated_at`` as seen, the territory it ends in (``to_territory_id``; NULL when it stays
where it is, as in a move) and its owner afterwards (the same one when the owner works the territory
it ends in — is an active member of it or of one of its ancestors *in the tree after the change*, or
an owner/admin of the tenant). All of it is computed by one ``INSERT … SELECT`` over the tree with its
paths rewritten as they will be; only the capacity split of ``reassign`` is a per-territory quota in
Python (:func:`app.handover.assign.quotas`), applied by one ``UPDATE``.

Execute (inside :func:`app.handover.execute.execute_plan`'s transaction, under the plan lock and the
tenant's tree lock): refused with 409 while any customer is blocked (conflicts under ``keep``, no rep
to take it, ids not in the territory); stale (the tree moved since planning, or a customer changed
owner or was edited) → :class:`Stale`, so the caller plans it again and answers 409 with the fresh
preview. Then the new territory (split), the customers (territory and owner in one ``UPDATE``, the
ownership history appended in the same statement, cause ``handover`` with the plan id), their open
deals and envelopes (owner changes only), and the tree (paths rewritten in one ``UPDATE``; a merge
also moves B's members and references to A and deletes B). Only a manager of every affected subtree
(or an owner/admin) may plan or run it. A realignment cannot be undone: plan the reverse one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import msgspec

from app import audit
from app.customers.access import Params
from app.customers.ledger import append_expr
from app.customers.pool.rules import load_rules
from app.db import Tx
from app.errors import Conflict, NotFound, ValidationFailed
from app.handover.assign import quotas
from app.handover.schemas import (
    HandoverOptions,
    HandoverRead,
    HandoverSelection,
    RealignCreate,
    RealignPreview,
    RealignStored,
    TerritoryImpact,
)
from app.territories import tree
from app.territories.service import require_manages
from tenants.scope import TenantScope

RULE_MODE = {"keep": "keep", "reassign": "capacity", "release": "pool"}
_TREE_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('territory-tree:' || $1::uuid::text, 0))"
_OPEN = "stage NOT IN ('won', 'lost')"


class Stale(Exception):
    """Raised inside the execute transaction to roll it back when the plan no longer matches."""


# --- the operation ------------------------------------------------------------------------------


class _Op(msgspec.Struct):
    """The operation resolved against the tree: the path prefix rewrite (``old`` → ``new``), the
    territory customers are selected from, where they go, and the territories it touches."""

    subject: asyncpg.Record
    target: asyncpg.Record | None
    old: str | None
    new: str | None
    new_id: UUID | None
    new_path: str | None
    seen: dict[str, str]


async def _territory(tx: Tx, territory_id: UUID, field: str) -> asyncpg.Record:
    row = await tx.fetchrow(
        "SELECT id, parent_id, name, path FROM territories WHERE tenant = $1 AND id = $2",
        tx.tenant_id,
        territory_id,
    )
    if row is None:
        if field == "territory_id":  # the territory acted on, like an id in a route: 404
            raise NotFound("No territory with this id")
        raise ValidationFailed.field(field, "No territory with this id")
    return row


async def _parent_path(tx: Tx, parent_id: UUID | None) -> str | None:
    if parent_id is None:
        return None
    return str(
        await tx.fetchval(
            "SELECT path FROM territories WHERE tenant = $1 AND id = $2", tx.tenant_id, parent_id
        )
    )


async def _deepest_below(tx: Tx, path: str) -> int:
    """How many levels the subtree at ``path`` has below itself."""
    longest = await tx.fetchval(
        "SELECT max(length(path)) FROM territories WHERE tenant = $1 AND path >= $2 AND path < $2 || '~'",
        tx.tenant_id,
        path,
    )
    return (int(longest) - len(path)) // tree.SEGMENT


async def resolve(tx: Tx, scope: TenantScope, data: RealignCreate, new_id: UUID | None) -> _Op:
    """Check the operation against the tree (422 for what cannot be, 403 for what the member may not
    change) and resolve its paths."""
    subject = await _territory(tx, data.territory_id, "territory_id")
    path = str(subject["path"])
    seen = {str(subject["id"]): path}
    if data.operation == "move":
        if data.into_id is not None or data.new_territory is not None:
            raise ValidationFailed.field("operation", "A move takes only new_parent_id")
        parent_path: str | None = None
        if data.new_parent_id is not None:
            target = await _territory(tx, data.new_parent_id, "new_parent_id")
            parent_path = str(target["path"])
            if tree.is_within(parent_path, path):
                raise ValidationFailed.field(
                    "new_parent_id", "A territory cannot be moved under itself or its own subtree"
                )
            seen[str(target["id"])] = parent_path
        else:
            target = None
        await require_manages(tx, scope, subject["parent_id"])
        await require_manages(tx, scope, data.new_parent_id)
        new = tree.child_path(parent_path, subject["id"])
        if tree.depth(new) + await _deepest_below(tx, path) > tree.MAX_DEPTH:
            raise ValidationFailed.field(
                "new_parent_id", "Territories nest at most {max} levels deep", max=tree.MAX_DEPTH
            )
        return _Op(subject, target, path, new, None, None, seen)
    if data.operation == "merge":
        if data.into_id is None:
            raise ValidationFailed.field("into_id", "Choose the territory to merge into")
        target = await _territory(tx, data.into_id, "into_id")
        into = str(target["path"])
        if tree.is_within(into, path):
            raise ValidationFailed.field(
                "into_id", "A territory cannot be merged into itself or its own subtree"
            )
        seen[str(target["id"])] = into
        await require_manages(tx, scope, subject["parent_id"])
        await require_manages(tx, scope, target["id"])
        if tree.depth(into) + await _deepest_below(tx, path) > tree.MAX_DEPTH:
            raise ValidationFailed.field(
                "into_id", "Territories nest at most {max} levels deep", max=tree.MAX_DEPTH
            )
        return _Op(subject, target, path, into, None, None, seen)
    # split
    if (data.into_id is None) == (data.new_territory is None):
        raise ValidationFailed.field("into_id", "Give either into_id or new_territory")
    if not (data.customer_ids or data.grades or data.statuses or data.owner_ids):
        raise ValidationFailed.field(
            "customer_ids", "Choose the customers by id or by grade, status or owner"
        )
    await require_manages(tx, scope, subject["id"])
    if data.into_id is not None:
        target = await _territory(tx, data.into_id, "into_id")
        if target["id"] == subject["id"]:
            raise ValidationFailed.field("into_id", "Choose another territory than the one being split")
        seen[str(target["id"])] = str(target["path"])
        await require_manages(tx, scope, target["id"])
        return _Op(subject, target, None, None, None, None, seen)
    assert data.new_territory is not None
    if not data.new_territory.name.strip():
        raise ValidationFailed.field("new_territory.name", "Required")
    await require_manages(tx, scope, subject["parent_id"])
    new_id = new_id or uuid4()
    new_path = tree.child_path(await _parent_path(tx, subject["parent_id"]), new_id)
    return _Op(subject, None, None, None, new_id, new_path, seen)


# --- the assignment -----------------------------------------------------------------------------

# The tree as it will be: every territory with its path after the change (and the new one).
_NP = """
    SELECT t.id, (CASE WHEN {old}::text IS NOT NULL AND t.path >= {old}::text AND t.path < {old}::text || '~'
        THEN {new}::text || substr(t.path, length({old}::text) + 1) ELSE t.path END) COLLATE "C" AS path
    FROM territories t WHERE t.tenant = $1
    UNION ALL SELECT {new_id}::uuid, {new_path}::text COLLATE "C" WHERE {new_id}::uuid IS NOT NULL
"""
# Who works where after the change: active members with the path of their territory.
_WORKS = """
    SELECT w.membership_id, w.role, a.path FROM (
        SELECT territory_id, membership_id, role FROM territory_members WHERE tenant = $1
        UNION ALL SELECT {new_id}::uuid, x.m, x.r FROM unnest({mids}::uuid[], {mroles}::text[]) AS x (m, r)
    ) w JOIN np a ON a.id = w.territory_id
    JOIN memberships m ON m.tenant = $1 AND m.id = w.membership_id AND m.active
"""

_BUILD = (
    "WITH np AS ("
    + _NP
    + "), works AS ("
    + _WORKS
    + """), sel AS (
    SELECT c.id, c.owner_membership_id AS from_id, c.updated_at, c.status, {to_t} AS to_t, f.path AS fpath
    FROM customers c JOIN np f ON f.id = coalesce({to_t}, c.territory_id)
    WHERE {where}
), judged AS (
    SELECT s.*, (s.from_id IS NULL OR s.status = 'closed'
        OR EXISTS (SELECT 1 FROM works w WHERE w.membership_id = s.from_id
                   AND s.fpath >= w.path AND s.fpath < w.path || '~')
        OR EXISTS (SELECT 1 FROM memberships m WHERE m.tenant = $1 AND m.id = s.from_id AND m.active
                   AND m.role IN ('owner', 'admin'))) AS stays
    FROM sel s
)
INSERT INTO handover_items (tenant, plan_id, customer_id, from_membership_id, to_membership_id,
    seen_updated_at, to_territory_id, blocked)
SELECT $1::uuid, {plan}::uuid, j.id, j.from_id, CASE WHEN j.stays THEN j.from_id END, j.updated_at, j.to_t,
    CASE WHEN j.stays OR {rule}::text = 'release' THEN NULL
         WHEN {rule}::text = 'keep' THEN 'owner_not_member' ELSE '_reassign' END
FROM judged j
UNION ALL
SELECT $1::uuid, {plan}::uuid, x.id, NULL::uuid, NULL::uuid, NULL::timestamptz, NULL::uuid,
    CASE WHEN EXISTS (SELECT 1 FROM customers c WHERE c.tenant = $1 AND c.id = x.id) THEN 'not_in_territory'
         ELSE 'not_found' END
    FROM unnest({ids}::uuid[]) AS x (id)
    WHERE NOT EXISTS (SELECT 1 FROM sel WHERE sel.id = x.id)
"""
)

# Per territory the customers end in: how many wait for a rep, and its reps — those of the territory
# itself, or with none there, of its nearest ancestor that has reps (after the change).
_WAITING = """
WITH np AS ({np}), works AS ({works})
SELECT f.id AS territory_id, f.path, x.n,
    (SELECT coalesce(array_agg(DISTINCT w.membership_id ORDER BY w.membership_id), '{{}}') FROM works w
     WHERE w.role = 'rep' AND f.path >= w.path AND f.path < w.path || '~'
       AND length(w.path) = (SELECT max(length(v.path)) FROM works v WHERE v.role = 'rep'
                             AND f.path >= v.path AND f.path < v.path || '~')) AS reps
FROM (SELECT coalesce(i.to_territory_id, c.territory_id) AS t, count(*) AS n FROM handover_items i
      JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id
      WHERE i.tenant = $1 AND i.plan_id = {plan} AND i.blocked = '_reassign' GROUP BY 1) x
JOIN np f ON f.id = x.t
ORDER BY f.path
"""

_ASSIGN = """
WITH waiting AS (
    SELECT i.customer_id, coalesce(i.to_territory_id, c.territory_id) AS t,
        row_number() OVER (PARTITION BY coalesce(i.to_territory_id, c.territory_id)
                           ORDER BY c.grade, c.full_name, c.id) AS rn
    FROM handover_items i JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id
    WHERE i.tenant = $1 AND i.plan_id = $2 AND i.blocked = '_reassign'
), slots AS (
    SELECT q.t, q.m, row_number() OVER (PARTITION BY q.t ORDER BY (k - 0.5) / q.quota, q.ord) AS rn
    FROM unnest($3::uuid[], $4::uuid[], $5::int[]) WITH ORDINALITY AS q (t, m, quota, ord)
    CROSS JOIN LATERAL generate_series(1, q.quota) AS k
    WHERE q.quota > 0
)
UPDATE handover_items i SET to_membership_id = s.m, blocked = CASE WHEN s.m IS NULL THEN 'no_receiver' END
FROM waiting w LEFT JOIN slots s ON s.t = w.t AND s.rn = w.rn
WHERE i.tenant = $1 AND i.plan_id = $2 AND i.customer_id = w.customer_id
"""


def _stored(row: asyncpg.Record) -> RealignStored:
    value = row["realign"]
    if isinstance(value, str | bytes):
        return msgspec.json.decode(value, type=RealignStored)
    return msgspec.convert(value, type=RealignStored)


def _sql_parts(p: Params, op: _Op, data: RealignCreate) -> dict[str, str]:
    new = data.new_territory
    mids = [*(new.reps if new else []), *(new.managers if new else [])]
    mroles = ["rep"] * len(new.reps if new else []) + ["manager"] * len(new.managers if new else [])
    return {
        "old": p(op.old),
        "new": p(op.new),
        "new_id": p(op.new_id),
        "new_path": p(op.new_path),
        "mids": p(mids),
        "mroles": p(mroles),
    }


async def build_items(tx: Tx, scope: TenantScope, plan_id: UUID, stored: RealignStored) -> RealignStored:
    """(Re)write the plan's items from the current tree and customers; returns what to store."""
    data = stored.request
    op = await resolve(tx, scope, data, stored.new_territory_id)
    await tx.execute("DELETE FROM handover_items WHERE tenant = $1 AND plan_id = $2", tx.tenant_id, plan_id)
    p = Params(tx.tenant_id)
    parts = _sql_parts(p, op, data)
    ids: list[UUID] = []
    if data.operation == "split":
        subject = p(op.subject["id"])
        target = p(op.target["id"] if op.target is not None else op.new_id)
        crit = [f"c.territory_id = {subject}"]
        if data.customer_ids:
            ids = list(dict.fromkeys(data.customer_ids))
            crit.append(f"c.id = ANY({p(ids)}::uuid[])")
        if data.grades:
            crit.append(f"c.grade = ANY({p(list(data.grades))}::text[])")
        if data.statuses:
            crit.append(f"c.status = ANY({p(list(data.statuses))}::text[])")
        if data.owner_ids:
            crit.append(f"c.owner_membership_id = ANY({p(data.owner_ids)}::uuid[])")
        to_t = f"{target}::uuid"
        where = "c.tenant = $1 AND " + " AND ".join(crit)
    else:
        subject_path = p(str(op.subject["path"]))
        in_subtree = (
            "c.territory_id IN (SELECT id FROM territories WHERE tenant = $1"
            f" AND path >= {subject_path}::text AND path < {subject_path}::text || '~')"
        )
        where = f"c.tenant = $1 AND {in_subtree}"
        if data.operation == "merge":
            assert op.target is not None
            merged, into = p(op.subject["id"]), p(op.target["id"])
            to_t = f"(CASE WHEN c.territory_id = {merged}::uuid THEN {into}::uuid END)"
        else:
            to_t = "NULL::uuid"
    sql = _BUILD.format(**parts, to_t=to_t, where=where, plan=p(plan_id), rule=p(data.owner_rule), ids=p(ids))
    await tx.execute(sql, *p.values)
    if data.owner_rule == "reassign":
        await _reassign(tx, plan_id, op, data)
    return RealignStored(request=data, new_territory_id=op.new_id, seen_paths=op.seen)


async def _reassign(tx: Tx, plan_id: UUID, op: _Op, data: RealignCreate) -> None:
    p = Params(tx.tenant_id)
    parts = _sql_parts(p, op, data)
    np_sql, works = _NP.format(**parts), _WORKS.format(**parts)
    waiting = await tx.fetch(_WAITING.format(np=np_sql, works=works, plan=p(plan_id)), *p.values)
    if not waiting:
        return
    rules = await load_rules(tx)
    everyone = sorted({m for w in waiting for m in w["reps"]}, key=str)
    owned: dict[UUID, int] = dict(
        await tx.fetch(
            "SELECT owner_membership_id, count(*) FROM customers WHERE tenant = $1"
            " AND owner_membership_id = ANY($2::uuid[]) AND status = 'prospect' GROUP BY 1",
            tx.tenant_id,
            everyone,
        )
    )
    room = {m: max(rules.owned_cap - owned.get(m, 0), 0) for m in everyone}
    ts: list[UUID] = []
    ms: list[UUID] = []
    qs: list[int] = []
    for w in waiting:  # one row per territory customers end in (not per customer)
        reps = list(w["reps"])
        share = quotas(w["n"], [1] * len(reps), [room[m] for m in reps]) if reps else []
        for m, q in zip(reps, share, strict=True):
            room[m] = max(room[m] - q, 0)
            ts.append(w["territory_id"])
            ms.append(m)
            qs.append(q)
    await tx.execute(_ASSIGN, tx.tenant_id, plan_id, ts, ms, qs)


# --- planning -----------------------------------------------------------------------------------


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def create_realignment(scope: TenantScope, data: RealignCreate) -> HandoverRead:
    """Draft a realignment and preview it. 403 for a rep or a manager of only part of it; 422 for an
    unknown territory, a cycle, too deep a tree, or a missing choice."""
    from app.handover.plan import read_plan

    scope.require("manager")
    if not data.reason.strip():
        raise ValidationFailed.field("reason", "Give a reason for the handover")
    async with scope.tx() as tx:
        selection = HandoverSelection(
            territory_ids=[data.territory_id],
            customer_ids=data.customer_ids,
            grades=data.grades,
            statuses=[s for s in data.statuses if s != "closed"],
            owner_ids=data.owner_ids,
        )
        options = HandoverOptions(carry_deals=data.carry_deals, carry_envelopes=data.carry_envelopes)
        plan_id: UUID = await tx.fetchval(
            "INSERT INTO handover_plans (tenant, kind, mode, reason, selection, targets, options, created_by)"
            " VALUES ($1, 'realign', $2, $3, $4::jsonb, '[]'::jsonb, $5::jsonb, $6) RETURNING id",
            tx.tenant_id,
            RULE_MODE[data.owner_rule],
            data.reason.strip(),
            _json(selection),
            _json(options),
            scope.membership_id,
        )
        stored = await build_items(tx, scope, plan_id, RealignStored(request=data))
        row = await tx.fetchrow(
            "UPDATE handover_plans SET realign = $3::jsonb WHERE tenant = $1 AND id = $2 RETURNING *",
            tx.tenant_id,
            plan_id,
            _json(stored),
        )
        assert row is not None
        await audit.record(
            tx,
            scope.user_id,
            "handover.planned",
            "handover_plan",
            plan_id,
            reason=data.reason.strip(),
            data={"kind": "realign", "realign": msgspec.to_builtins(data)},
        )
        return await read_plan(tx, scope, row)


async def replan(tx: Tx, scope: TenantScope, row: asyncpg.Record) -> None:
    stored = await build_items(tx, scope, row["id"], _stored(row))
    await tx.execute(
        "UPDATE handover_plans SET realign = $3::jsonb WHERE tenant = $1 AND id = $2",
        tx.tenant_id,
        row["id"],
        _json(stored),
    )


# --- preview ------------------------------------------------------------------------------------

_IMPACT = f"""
SELECT f.id, f.name, count(*) AS n,
    count(*) FILTER (WHERE i.blocked IS NULL AND i.to_membership_id IS NOT DISTINCT FROM i.from_membership_id)
        AS kept,
    count(*) FILTER (WHERE i.blocked IS NULL AND i.to_membership_id IS NOT NULL
        AND i.to_membership_id IS DISTINCT FROM i.from_membership_id) AS reassigned,
    count(*) FILTER (WHERE i.blocked IS NULL AND i.to_membership_id IS NULL
        AND i.from_membership_id IS NOT NULL)
        AS released,
    count(*) FILTER (WHERE i.blocked IS NOT NULL) AS conflicts,
    coalesce(sum(d.n), 0)::int AS deals, coalesce(sum(d.amount), 0) AS amount,
    count(*) OVER () AS total
FROM handover_items i
JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id
LEFT JOIN territories f ON f.tenant = i.tenant AND f.id = coalesce(i.to_territory_id, c.territory_id)
LEFT JOIN LATERAL (SELECT count(*) AS n, sum(amount) AS amount FROM deals d
    WHERE d.tenant = c.tenant AND d.customer_id = c.id AND d.{_OPEN}) d ON TRUE
WHERE i.tenant = $1 AND i.plan_id = $2
GROUP BY f.id, f.name ORDER BY f.name NULLS FIRST, f.id LIMIT 200
"""


async def preview(tx: Tx, row: asyncpg.Record) -> RealignPreview:
    stored = _stored(row)
    data = stored.request
    target = data.new_parent_id if data.operation == "move" else (data.into_id or stored.new_territory_id)
    name = data.new_territory.name.strip() if data.new_territory else ""
    rows = await tx.fetch(_IMPACT, tx.tenant_id, row["id"])
    moved = members = 0
    path = stored.seen_paths.get(str(data.territory_id))
    if data.operation != "split" and path:
        moved = int(
            await tx.fetchval(
                "SELECT count(*) FROM territories WHERE tenant = $1 AND path >= $2 AND path < $2 || '~'",
                tx.tenant_id,
                path,
            )
        )
        if data.operation == "merge":
            members = int(
                await tx.fetchval(
                    "SELECT count(*) FROM territory_members WHERE tenant = $1 AND territory_id = $2",
                    tx.tenant_id,
                    data.territory_id,
                )
            )
            moved -= 1  # B itself is not moved, it is merged away
    conflicts = await tx.fetchval(
        "SELECT count(*) FROM handover_items WHERE tenant = $1 AND plan_id = $2 AND blocked IS NOT NULL",
        tx.tenant_id,
        row["id"],
    )
    return RealignPreview(
        operation=data.operation,
        territory_id=data.territory_id,
        target_id=target,
        owner_rule=data.owner_rule,
        territories_moved=moved,
        members_moved=members,
        targets=[
            TerritoryImpact(
                territory_id=r["id"] or stored.new_territory_id or data.territory_id,
                name=r["name"] or name,
                customers=r["n"],
                deals=r["deals"],
                pipeline_amount=Decimal(r["amount"]),
                kept=r["kept"],
                reassigned=r["reassigned"],
                released=r["released"],
                conflicts=r["conflicts"],
            )
            for r in rows
        ],
        conflicts=int(conflicts),
    )


# --- execution ----------------------------------------------------------------------------------

_MOVE = f"""
WITH moved AS (
    UPDATE customers c SET owner_membership_id = i.to_membership_id,
        territory_id = coalesce(i.to_territory_id, c.territory_id),
        updated_at = CASE WHEN i.to_membership_id IS DISTINCT FROM i.from_membership_id
            OR i.to_territory_id IS DISTINCT FROM NULL THEN now() ELSE c.updated_at END,
        status = CASE WHEN c.status = 'lost' AND i.to_membership_id IS NOT NULL
            AND i.to_membership_id IS DISTINCT FROM i.from_membership_id THEN 'prospect' ELSE c.status END
    FROM handover_items i
    WHERE i.tenant = $1 AND i.plan_id = $2 AND i.blocked IS NULL
      AND c.tenant = i.tenant AND c.id = i.customer_id
      AND c.owner_membership_id IS NOT DISTINCT FROM i.from_membership_id AND c.updated_at = i.seen_updated_at
    RETURNING c.id, i.from_membership_id AS f, i.to_membership_id AS t
)
SELECT count(*) AS n, CASE WHEN count(*) = $6 THEN
    {
    append_expr(
        "array_agg(id) FILTER (WHERE f IS DISTINCT FROM t)",
        "array_agg(f) FILTER (WHERE f IS DISTINCT FROM t)",
        "array_agg(t) FILTER (WHERE f IS DISTINCT FROM t)",
        "$3::text",
        "$4::uuid",
        "$5::text",
        "$2::uuid",
    )
}
    END AS written
FROM moved
"""

_SAME_TARGET = (
    "a.tenant = $1 AND b.tenant = $1 AND b.territory_id = $2 AND a.territory_id = $3"
    " AND a.metric = b.metric AND a.period = b.period AND a.period_start = b.period_start"
)
_REFERENCES = (
    # rows of other domains that point at the merged-away territory follow it into A
    "UPDATE customer_conflicts SET territory_id = $3 WHERE tenant = $1 AND territory_id = $2",
    "UPDATE cross_territory_grants SET territory_id = $3 WHERE tenant = $1 AND territory_id = $2",
    "UPDATE customer_imports SET default_territory_id = $3 WHERE tenant = $1 AND default_territory_id = $2",
    "UPDATE approvals SET territory_id = $3 WHERE tenant = $1 AND territory_id = $2",
    # B's targets fold into A's: where A has the same metric and period, A's value grows by B's and
    # B's children (its decomposition) hang under A's; the rest simply become A's
    "UPDATE targets a SET value = a.value + b.value, updated_at = now() FROM targets b"
    f" WHERE {_SAME_TARGET}",
    "UPDATE targets child SET parent_id = a.id FROM targets b, targets a"
    f" WHERE child.tenant = $1 AND child.parent_id = b.id AND {_SAME_TARGET}",
    f"DELETE FROM targets b USING targets a WHERE {_SAME_TARGET}",
    "UPDATE targets SET territory_id = $3 WHERE tenant = $1 AND territory_id = $2",
)


async def apply(tx: Tx, scope: TenantScope, row: asyncpg.Record) -> int:
    """Run the realignment in ``tx``; returns the customers it touched. Raises :class:`Stale` when the
    tree or a customer changed since planning, 409 while customers are blocked, 403/422 as planning."""
    stored = _stored(row)
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
        moved = await tx.fetchrow(
            _MOVE, tx.tenant_id, plan_id, "handover", scope.membership_id, row["reason"], expected
        )
        assert moved is not None
        if moved["n"] != expected:
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


async def _create_territory(tx: Tx, scope: TenantScope, op: _Op, data: RealignCreate) -> None:
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


async def _rewrite_tree(tx: Tx, scope: TenantScope, op: _Op, data: RealignCreate) -> None:
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
                " WHERE tenant = $1 AND path >= $2 AND path < $2 || '~' AND NOT ($7 AND id = $5)",
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
