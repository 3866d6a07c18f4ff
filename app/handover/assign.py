"""Distributing a plan's customers: the quotas (pure) and the one ``INSERT … SELECT`` that writes
``handover_items`` — customers ordered (grade, name, id) matched to receiver slots spread evenly, so
every receiver gets a mix of grades."""

from __future__ import annotations

from uuid import UUID

from app.customers.pool.rules import load_rules
from app.db import Tx
from app.errors import ValidationFailed
from app.handover.schemas import HandoverCreate, HandoverSelection, HandoverTarget, SkippedTarget
from app.i18n import N_
from app.sql import Params
from tenants.access import in_subtree_sql, managed_territory_ids
from tenants.scope import TenantScope

NOT_YOUR_RECEIVER = N_("This receiver is not a member of a territory you manage")

# --- quotas (pure) -------------------------------------------------------------------------------


def split(n: int, weights: list[int]) -> list[int]:
    """``n`` split by ``weights`` (largest remainder; ties to the earlier one). Sums to ``n``."""
    total = sum(weights)
    if n <= 0 or total <= 0:
        return [0] * len(weights)
    exact = [n * w / total for w in weights]
    base = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[: n - sum(base)]:
        base[i] += 1
    return base


def quotas(n: int, weights: list[int], rooms: list[int] | None = None) -> list[int]:
    """How many of ``n`` customers each receiver gets. Without ``rooms``: by weight. With ``rooms``
    (capacity: cap minus what each owns): by weight but nobody beyond their room while anyone has
    room left; what does not fit anywhere is split by weight (those receivers then exceed a cap,
    which the preview reports)."""
    if not weights:
        return []
    if rooms is None:
        return split(n, weights)
    result = [0] * len(weights)
    remaining = n
    open_ = [i for i, room in enumerate(rooms) if room > 0]
    while remaining and open_:
        shares = split(remaining, [weights[i] for i in open_])
        taken = 0
        for i, share in zip(open_, shares, strict=True):
            take = min(share, rooms[i] - result[i])
            result[i] += take
            taken += take
        remaining -= taken
        open_ = [i for i in open_ if result[i] < rooms[i]]
        if not taken:
            break
    if remaining:
        result = [r + e for r, e in zip(result, split(remaining, weights), strict=True)]
    return result


# --- selecting -----------------------------------------------------------------------------------


def selection_where(sel: HandoverSelection, p: Params) -> str:
    """The SQL condition on customer ``c`` for the selection (the tenant is ``$1``)."""
    parts = ["c.tenant = $1"]
    owners = f"c.owner_membership_id = ANY({p(sel.owner_ids)}::uuid[])" if sel.owner_ids else None
    pool = "(c.owner_membership_id IS NULL AND c.status IN ('prospect', 'lost'))" if sel.pool else None
    if owners and pool:
        parts.append(f"({owners} OR {pool})")
    elif owners or pool:
        parts.append(owners or pool or "")
    if sel.territory_ids:
        parts.append(
            "c.territory_id IN (SELECT t.id FROM territories a JOIN territories t ON t.tenant = a.tenant"
            f" AND {in_subtree_sql('t.path', of='a.path')} WHERE a.tenant = $1"
            f" AND a.id = ANY({p(sel.territory_ids)}::uuid[]))"
        )
    if sel.grades:
        parts.append(f"c.grade = ANY({p(list(sel.grades))}::text[])")
    if sel.statuses:
        parts.append(f"c.status = ANY({p(list(sel.statuses))}::text[])")
    if sel.customer_ids:
        parts.append(f"c.id = ANY({p(sel.customer_ids)}::uuid[])")
    return " AND ".join(parts)


def check_create(data: HandoverCreate) -> None:
    if not data.reason.strip():
        raise ValidationFailed.field("reason", "Give a reason for the handover")
    s = data.selection
    if not (s.owner_ids or s.pool or s.territory_ids or s.customer_ids):
        raise ValidationFailed.field("selection", "Choose customers by owner, pool, territory or a list")
    if data.mode == "single" and len(data.targets) != 1:
        raise ValidationFailed.field("targets", "Give exactly one receiver")
    if data.mode != "pool" and not data.targets:
        raise ValidationFailed.field("targets", "Give at least one receiver")
    if len({t.membership_id for t in data.targets}) != len(data.targets):
        raise ValidationFailed.field("targets", "Each receiver once")


async def check_receivers(tx: Tx, scope: TenantScope, targets: list[HandoverTarget]) -> None:
    """A manager hands customers only to members of territories inside their subtree: 422 naming the
    first receiver who is not (owner/admin: anyone of the tenant)."""
    if scope.at_least("admin") or not targets:
        return
    outside = await tx.fetchval(
        "SELECT t.id FROM unnest($2::uuid[]) WITH ORDINALITY AS t (id, ord) WHERE NOT EXISTS"
        " (SELECT 1 FROM territory_members tm WHERE tm.tenant = $1 AND tm.membership_id = t.id"
        "  AND tm.territory_id = ANY($3::uuid[])) ORDER BY t.ord LIMIT 1",
        tx.tenant_id,
        [t.membership_id for t in targets],
        await managed_territory_ids(tx, scope),
    )
    if outside is not None:
        error = ValidationFailed.field("targets", NOT_YOUR_RECEIVER)
        error.extra["membership_id"] = str(outside)
        raise error


async def active_targets(
    tx: Tx, targets: list[HandoverTarget]
) -> tuple[list[HandoverTarget], list[SkippedTarget]]:
    """The active receivers (in the given order) and the skipped ones with why."""
    rows = await tx.fetch(
        "SELECT id, active FROM memberships WHERE tenant = $1 AND id = ANY($2::uuid[])",
        tx.tenant_id,
        [t.membership_id for t in targets],
    )
    active = {r["id"]: r["active"] for r in rows}
    keep = [t for t in targets if active.get(t.membership_id)]
    skipped = [
        SkippedTarget(t.membership_id, "unknown" if t.membership_id not in active else "inactive")
        for t in targets
        if not active.get(t.membership_id)
    ]
    return keep, skipped


_BUILD = """
WITH sel AS (
    SELECT c.id, c.owner_membership_id AS from_id, c.updated_at, c.grade, c.full_name,
        CASE WHEN NOT ({in_scope}) THEN 'not_managed' WHEN c.status = 'closed' THEN 'closed' END AS blocked
    FROM customers c WHERE {where}
), movable AS (
    SELECT s.*, row_number() OVER (ORDER BY s.grade, s.full_name, s.id) AS rn
    FROM sel s WHERE s.blocked IS NULL
), slots AS (
    SELECT q.membership_id, row_number() OVER (ORDER BY (k - 0.5) / q.quota, q.ord) AS rn
    FROM unnest({targets}::uuid[], {quotas}::int[]) WITH ORDINALITY AS q (membership_id, quota, ord)
    CROSS JOIN LATERAL generate_series(1, q.quota) AS k
)
INSERT INTO handover_items (tenant, plan_id, customer_id, from_membership_id, to_membership_id,
    seen_updated_at, blocked)
SELECT $1::uuid, {plan}::uuid, m.id, m.from_id,
    CASE WHEN s.membership_id IS DISTINCT FROM m.from_id THEN s.membership_id END,
    m.updated_at,
    CASE WHEN {to_pool} AND m.from_id IS NULL THEN 'in_pool'
         WHEN NOT {to_pool} AND s.rn IS NULL THEN 'no_receiver'
         WHEN s.membership_id = m.from_id THEN 'already_owner' END
FROM movable m LEFT JOIN slots s ON s.rn = m.rn
UNION ALL
SELECT $1::uuid, {plan}::uuid, s.id, s.from_id, NULL::uuid, s.updated_at, s.blocked
    FROM sel s WHERE s.blocked IS NOT NULL
UNION ALL
SELECT $1::uuid, {plan}::uuid, x.id, NULL::uuid, NULL::uuid, NULL::timestamptz, 'not_found'
    FROM unnest({ids}::uuid[]) AS x (id)
    WHERE NOT EXISTS (SELECT 1 FROM sel WHERE sel.id = x.id)
"""


async def build_items(tx: Tx, scope: TenantScope, plan_id: UUID, data: HandoverCreate) -> None:
    """(Re)write the plan's assignment from the current data: one count, one INSERT … SELECT."""
    await tx.execute("DELETE FROM handover_items WHERE tenant = $1 AND plan_id = $2", tx.tenant_id, plan_id)
    p = Params(tx.tenant_id)
    where = selection_where(data.selection, p)
    if scope.at_least("admin"):
        in_scope = "TRUE"
    else:
        in_scope = f"c.territory_id = ANY({p(await managed_territory_ids(tx, scope))}::uuid[])"
    n = await tx.fetchval(
        f"SELECT count(*) FROM customers c WHERE {where} AND ({in_scope}) AND c.status <> 'closed'", *p.values
    )
    to_pool = data.mode == "pool"
    receivers, _ = ([], []) if to_pool else await active_targets(tx, data.targets)
    rooms = None
    if data.mode == "capacity" and receivers:
        rules = await load_rules(tx)
        owned = dict(
            await tx.fetch(
                "SELECT owner_membership_id, count(*) FROM customers WHERE tenant = $1"
                " AND owner_membership_id = ANY($2::uuid[]) AND status = 'prospect' GROUP BY 1",
                tx.tenant_id,
                [r.membership_id for r in receivers],
            )
        )
        rooms = [max(rules.owned_cap - owned.get(r.membership_id, 0), 0) for r in receivers]
    weights = [1 if data.mode != "capacity" else r.weight for r in receivers]
    counts = quotas(n, weights, rooms)
    ids = list(dict.fromkeys(data.selection.customer_ids))
    sql = _BUILD.format(
        where=where,
        in_scope=in_scope,
        targets=p([r.membership_id for r in receivers]),
        quotas=p(counts),
        plan=p(plan_id),
        to_pool=p(to_pool) + "::bool",
        ids=p(ids),
    )
    await tx.execute(sql, *p.values)
