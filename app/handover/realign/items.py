"""A realignment's ``handover_items``: every customer whose territory or owner it touches, written by
one ``INSERT … SELECT`` over the tree with its paths rewritten as they will be; under ``reassign``
the capacity split is a per-territory quota in Python (:func:`app.handover.assign.quotas`) applied
by one ``UPDATE``."""

from __future__ import annotations

from uuid import UUID

from app.customers.pool.rules import load_rules
from app.db import Tx
from app.handover.assign import quotas
from app.handover.realign.operation import Operation, resolve
from app.handover.schemas import RealignCreate, RealignStored
from app.sql import Params
from tenants.access import in_subtree_sql
from tenants.scope import TenantScope

# (Templates for ``str.format``: the subtree conditions are joined in, so their text keeps its braces.)
# The tree as it will be: every territory with its path after the change (and the new one).
_NP = (
    """
    SELECT t.id, (CASE WHEN {old}::text IS NOT NULL AND """
    + in_subtree_sql("t.path", of="{old}::text")
    + """
        THEN {new}::text || substr(t.path, length({old}::text) + 1) ELSE t.path END) COLLATE "C" AS path
    FROM territories t WHERE t.tenant = $1
    UNION ALL SELECT {new_id}::uuid, {new_path}::text COLLATE "C" WHERE {new_id}::uuid IS NOT NULL
"""
)
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
                   AND """
    + in_subtree_sql("s.fpath", of="w.path")
    + """)
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
_WAITING = (
    """
WITH np AS ({np}), works AS ({works})
SELECT f.id AS territory_id, f.path, x.n,
    (SELECT coalesce(array_agg(DISTINCT w.membership_id ORDER BY w.membership_id), '{{}}') FROM works w
     WHERE w.role = 'rep' AND """
    + in_subtree_sql("f.path", of="w.path")
    + """
       AND length(w.path) = (SELECT max(length(v.path)) FROM works v WHERE v.role = 'rep'
                             AND """
    + in_subtree_sql("f.path", of="v.path")
    + """)) AS reps
FROM (SELECT coalesce(i.to_territory_id, c.territory_id) AS t, count(*) AS n FROM handover_items i
      JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id
      WHERE i.tenant = $1 AND i.plan_id = {plan} AND i.blocked = '_reassign' GROUP BY 1) x
JOIN np f ON f.id = x.t
ORDER BY f.path
"""
)

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


def _sql_parts(p: Params, op: Operation, data: RealignCreate) -> dict[str, str]:
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
            f" AND {in_subtree_sql('path', of=f'{subject_path}::text')})"
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


async def _reassign(tx: Tx, plan_id: UUID, op: Operation, data: RealignCreate) -> None:
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
