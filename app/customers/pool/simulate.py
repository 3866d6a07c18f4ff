"""Trying pool rules before saving them (``POST /api/v1/pool-rules/simulate``): which customers the
proposed rules would reclaim or warn about over the next ``days`` days, per rep and per day, against
the rules in force — if nobody followed anyone up meanwhile.

It is the sweep's own query (``reclaim.due_sql``, the same due condition and ``RECLAIM_EXEMPTIONS``)
asked "as of" the end of the horizon, once with each rule set, in one statement; a customer is
reclaimed on the day of its due time (the next sweep; one already due: today) and warned
``warning_days`` before it (one already inside that window: today). It runs in a READ ONLY
transaction: it cannot change anything, whatever it calls.
"""

from __future__ import annotations

import json
from typing import Final
from uuid import UUID

import msgspec

from app.customers.pool.pools import pool_by_id
from app.customers.pool.reclaim import due_sql
from app.customers.pool.rules import PoolRulesWrite, RuleSet, load_rule_set, rules_for_pool, validate
from app.db import Tx
from tenants.scope import TenantScope

DAYS: Final = 30
LISTED: Final = 200


class SimulationTotals(msgspec.Struct):
    reclaimed: int
    warned: int


class SimulationDay(msgspec.Struct):
    """One rep's day: customers reclaimed and warned under the current and the proposed rules."""

    date: str  # in the tenant's time zone
    membership_id: str
    owner_name: str | None
    current_reclaimed: int
    current_warned: int
    proposed_reclaimed: int
    proposed_warned: int


class SimulatedCustomer(msgspec.Struct):
    """A customer reclaimed or warned within the horizon under either rule set, with its dates."""

    customer_id: str
    customer_name: str
    membership_id: str
    owner_name: str | None
    current_reclaim_date: str | None
    proposed_reclaim_date: str | None
    proposed_warning_date: str | None


class SimulationRead(msgspec.Struct):
    days: int
    current: SimulationTotals
    proposed: SimulationTotals
    per_day: list[SimulationDay]  # by date, then rep; only days with something
    customers: list[SimulatedCustomer]  # the first ``LISTED``, soonest first
    customers_total: int


def simulation_sql(current: RuleSet, proposed: RuleSet) -> str:
    """$1 tenant, $2–$7 the current rule set's arrays, $8–$13 the proposed one's, $14 days, $15 the
    tenant's time zone, $16 how many customers to list. Each customer is warned by its own pool's
    warning days."""
    cur = due_sql(current, 2, name="rules", shift="($14::int + r.warning_days)")
    new = due_sql(proposed, 8, name="proposed_rules", shift="($14::int + r.warning_days)")
    day = "to_char({} AT TIME ZONE $15, 'YYYY-MM-DD')"
    return f"""
WITH cur AS ({cur}), new AS ({new}),
until AS (SELECT now() + make_interval(days => $14) AS at),
j AS (
    SELECT coalesce(n.id, c.id) AS id, coalesce(n.full_name, c.full_name) AS full_name,
        coalesce(n.owner_membership_id, c.owner_membership_id) AS owner,
        CASE WHEN c.id IS NOT NULL THEN GREATEST(c.due_at, now()) END AS cur_at,
        CASE WHEN n.id IS NOT NULL THEN GREATEST(n.due_at, now()) END AS new_at,
        CASE WHEN c.warning_days > 0 AND c.due_at > now()
            THEN GREATEST(c.due_at - make_interval(days => c.warning_days), now()) END AS cur_warn,
        CASE WHEN n.warning_days > 0 AND n.due_at > now()
            THEN GREATEST(n.due_at - make_interval(days => n.warning_days), now()) END AS new_warn
    FROM cur c FULL JOIN new n ON n.id = c.id
),
listed AS (
    SELECT j.id, j.full_name, j.owner,
        CASE WHEN j.cur_at < u.at THEN j.cur_at END AS cur_at,
        CASE WHEN j.new_at < u.at THEN j.new_at END AS new_at,
        CASE WHEN j.cur_warn < u.at THEN j.cur_warn END AS cur_warn,
        CASE WHEN j.new_warn < u.at THEN j.new_warn END AS new_warn
    FROM j, until u
    WHERE j.cur_at < u.at OR j.new_at < u.at OR j.cur_warn < u.at OR j.new_warn < u.at
),
per_day AS (  -- counted per local day first, the day spelled once per group
    SELECT to_char(h.day, 'YYYY-MM-DD') AS date, h.owner,
        count(*) FILTER (WHERE h.k = 1) AS cr, count(*) FILTER (WHERE h.k = 2) AS cw,
        count(*) FILTER (WHERE h.k = 3) AS pr, count(*) FILTER (WHERE h.k = 4) AS pw
    FROM (
        SELECT l.owner, e.k, (e.at AT TIME ZONE $15)::date AS day
        FROM listed l
        CROSS JOIN LATERAL (VALUES (1, l.cur_at), (2, l.cur_warn), (3, l.new_at), (4, l.new_warn))
            AS e (k, at)
        WHERE e.at IS NOT NULL
    ) h GROUP BY h.day, h.owner
),
names AS (
    SELECT m.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id
    WHERE m.tenant = $1 AND m.id IN (SELECT owner FROM per_day)
)
SELECT
    (SELECT coalesce(sum(cr), 0) FROM per_day) AS cur_reclaimed,
    (SELECT coalesce(sum(cw), 0) FROM per_day) AS cur_warned,
    (SELECT coalesce(sum(pr), 0) FROM per_day) AS new_reclaimed,
    (SELECT coalesce(sum(pw), 0) FROM per_day) AS new_warned,
    (SELECT coalesce(json_agg(json_build_array(d.date, d.owner, n.name, d.cr, d.cw, d.pr, d.pw)
        ORDER BY d.date, n.name, d.owner), '[]') FROM per_day d LEFT JOIN names n ON n.id = d.owner)::text
        AS per_day,
    (SELECT count(*) FROM listed) AS customers_total,
    (SELECT coalesce(json_agg(json_build_array(l.id, l.full_name, l.owner, n.name,
        {day.format("l.cur_at")}, {day.format("l.new_at")}, {day.format("l.new_warn")})
        ORDER BY l.o, l.id), '[]') FROM (
        SELECT *, LEAST(new_at, new_warn, cur_at, cur_warn) AS o FROM listed
        ORDER BY LEAST(new_at, new_warn, cur_at, cur_warn), id LIMIT $16) l
        LEFT JOIN names n ON n.id = l.owner)::text AS customers
"""


async def read_only(tx: Tx) -> None:
    """Make ``tx`` READ ONLY from here on: any write in it then fails (``ReadOnlySQLTransactionError``)."""
    await tx.execute("SET TRANSACTION READ ONLY")


async def simulate_rules(
    scope: TenantScope, data: PoolRulesWrite, *, pool_id: UUID | None = None, days: int = DAYS
) -> SimulationRead:
    """The effect of ``data`` (a whole rule set, as ``PUT /pool-rules`` takes it) against the rules in
    force: as the tenant's rules (the pools that override them keep their overrides over the new
    ones), or with ``pool_id`` as that pool's rules (404 for an unknown pool). Owner/admin; 422 naming
    a wrong field, as the PUT would."""
    scope.require("admin")
    wanted = validate(data)
    async with scope.tx() as tx:
        await read_only(tx)
        current = await load_rule_set(tx)
        if pool_id is not None:
            await pool_by_id(tx, pool_id)
            proposed = RuleSet(current.tenant, {**current.pools, pool_id: wanted})
        else:
            overrides = await tx.fetch(
                "SELECT id, rules::text AS rules FROM pools WHERE tenant = $1 AND rules IS NOT NULL",
                scope.tenant_id,
            )
            proposed = RuleSet(wanted, {o["id"]: rules_for_pool(wanted, o["rules"]) for o in overrides})
        row = await tx.fetchrow(
            simulation_sql(current, proposed),
            scope.tenant_id,
            *current.sql_arrays(),
            *proposed.sql_arrays(),
            days,
            scope.time_zone,
            LISTED,
        )
    assert row is not None
    return SimulationRead(
        days=days,
        current=SimulationTotals(int(row["cur_reclaimed"]), int(row["cur_warned"])),
        proposed=SimulationTotals(int(row["new_reclaimed"]), int(row["new_warned"])),
        per_day=[SimulationDay(*d) for d in json.loads(row["per_day"])],
        customers=[SimulatedCustomer(*c) for c in json.loads(row["customers"])],
        customers_total=int(row["customers_total"]),
    )
