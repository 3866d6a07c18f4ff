"""The pool rule simulation (``simulate_rules``: the sweep's own query asked as of the horizon, once
per rule set, per rep and day, in a READ ONLY transaction, JSON out) on a tenant of ``--customers``
owned prospects (20 reps, follow-ups spread over 120 days, 2% with a late-stage deal, 1% with a
contract out) — against one hand-written statement computing the same per-rep, per-day counts as the
superuser (no RLS): each customer's clock once, both rule sets as literals, the exemptions spelled
out. The two answers are compared (they must be equal). Each side runs ``--rounds`` times; medians.

    uv run python tests/bench/bench_simulate.py [--customers 200000] [--rounds 5]

Prints one JSON line; the goal is the simulation ≤ 2× the hand-written statement."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import bench_database

CURRENT = {"A": 15, "B": 30, "C": 60, "D": 90}  # the defaults, in force
PROPOSED = {"A": 20, "B": 25, "C": 45, "D": 75}
WARNING = 3
DAYS = 30
EXPLAIN = "--explain" in sys.argv

HAND = """
WITH base AS (
    SELECT c.owner_membership_id AS owner, c.grade,
        GREATEST(c.last_followup_at, c.owner_changed_at) AS clock
    FROM customers c
    WHERE c.tenant = $1 AND c.owner_membership_id IS NOT NULL AND c.status = 'prospect'
      AND NOT EXISTS (SELECT 1 FROM deals d WHERE d.tenant = $1 AND d.customer_id = c.id
          AND d.stage IN ('demo', 'formal_quote', 'objections_cleared', 'negotiation', 'signed'))
      AND NOT EXISTS (SELECT 1 FROM envelopes e WHERE e.tenant = $1 AND e.customer_id = c.id
          AND e.status = 'sent')
      AND NOT EXISTS (SELECT 1 FROM vendor_registrations v WHERE v.tenant = $1 AND v.customer_id = c.id
          AND v.status = 'active' AND v.protected_until >= current_date)
),
due AS (
    SELECT b.owner, b.clock + make_interval(days => r.cur) AS cur_due,
        b.clock + make_interval(days => r.new) AS new_due
    FROM base b JOIN (VALUES ('A', {A0}, {A1}), ('B', {B0}, {B1}), ('C', {C0}, {C1}), ('D', {D0}, {D1}))
        AS r (grade, cur, new) ON r.grade = b.grade
),
hits AS (
    SELECT owner, 'cr' AS k, GREATEST(cur_due, now()) AS at FROM due
    UNION ALL SELECT owner, 'pr', GREATEST(new_due, now()) FROM due
    UNION ALL SELECT owner, 'cw', GREATEST(cur_due - interval '{W} days', now()) FROM due
        WHERE cur_due > now()
    UNION ALL SELECT owner, 'pw', GREATEST(new_due - interval '{W} days', now()) FROM due
        WHERE new_due > now()
)
SELECT to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS date, owner,
    count(*) FILTER (WHERE k = 'cr') AS cr, count(*) FILTER (WHERE k = 'cw') AS cw,
    count(*) FILTER (WHERE k = 'pr') AS pr, count(*) FILTER (WHERE k = 'pw') AS pw
FROM hits WHERE at < now() + interval '{D} days' GROUP BY 1, 2
""".format(
    **{f"{g}0": d for g, d in CURRENT.items()},
    **{f"{g}1": d for g, d in PROPOSED.items()},
    W=WARNING,
    D=DAYS,
)


async def _data(admin_url: str, n: int) -> dict[str, Any]:
    conn = await asyncpg.connect(admin_url)
    rnd = random.Random(19)
    try:
        tenant, territory = uuid.uuid4(), uuid.uuid4()
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO tenants (id, name, slug, locale, time_zone, currency, trial_ends_at)"
            " VALUES ($1, '基准软件有限公司', $2, 'zh-CN', 'Asia/Shanghai', 'CNY', $3)",
            tenant,
            f"bench-{tenant.hex[:8]}",
            now + timedelta(days=30),
        )
        reps = []
        for i in range(21):
            user = await conn.fetchval(
                "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, '!bench') RETURNING id",
                f"{uuid.uuid4().hex[:10]}@bench.example",
                f"业务员{i}",
            )
            reps.append(
                await conn.fetchval(
                    "INSERT INTO memberships (tenant, user_id, role) VALUES ($1, $2, $3) RETURNING id",
                    tenant,
                    user,
                    "owner" if i == 0 else "rep",
                )
            )
        owner, reps = reps[0], reps[1:]
        await conn.execute(
            "INSERT INTO territories (tenant, id, name, level, path) VALUES ($1, $2, '苏州市', 'custom', $3)",
            tenant,
            territory,
            territory.hex + "/",
        )
        ids = [uuid.uuid4() for _ in range(n)]
        rows = []
        for i, c in enumerate(ids):
            clock = now - timedelta(days=rnd.uniform(0, 120))
            rows.append(
                (
                    tenant,
                    c,
                    f"基准{i}号科技有限公司",
                    "ABCD"[i % 4],
                    "prospect",
                    territory,
                    reps[i % 20],
                    f"name:{i}",
                    f"n{i}",
                    f"基准{i}",
                    clock,
                    clock,
                )
            )
        await conn.copy_records_to_table(
            "customers",
            records=rows,
            columns=(
                "tenant",
                "id",
                "full_name",
                "grade",
                "status",
                "territory_id",
                "owner_membership_id",
                "identity_key",
                "name_key",
                "search_text",
                "last_followup_at",
                "owner_changed_at",
            ),
        )
        await conn.copy_records_to_table(
            "deals",
            records=[(tenant, c, reps[0], "ERP", 10000, "CNY", "negotiation", 70) for c in ids[::50]],
            columns=(
                "tenant",
                "customer_id",
                "owner_membership_id",
                "title",
                "amount",
                "currency",
                "stage",
                "probability",
            ),
        )
        doc = await conn.fetchval(
            "INSERT INTO documents (tenant, idempotency_key, kind, locale, subject_type, subject_id, status)"
            " VALUES ($1, 'bench', 'contract', 'zh-CN', 'customer', 'x', 'ready') RETURNING id",
            tenant,
        )
        await conn.copy_records_to_table(
            "envelopes",
            records=[
                (tenant, doc, c, "customer", str(c), "合同", "parallel", 14, 3, 1, "0" * 64, "k", "sent")
                for c in ids[1::100]
            ],
            columns=(
                "tenant",
                "document_id",
                "customer_id",
                "subject_type",
                "subject_id",
                "title",
                "signing_order",
                "expiry_days",
                "reminder_interval_days",
                "reminder_max",
                "original_sha256",
                "original_key",
                "status",
            ),
        )
        for table in ("customers", "deals", "envelopes"):
            await conn.execute(f"ANALYZE {table}")
        return {"tenant": tenant, "owner": owner}
    finally:
        await conn.close()


async def run(admin_url: str, n: int, rounds: int) -> dict[str, object]:
    from app import db
    from app.customers.pool.rules import GradeRuleWrite, PoolRulesWrite
    from app.customers.pool.simulate import simulate_rules
    from app.settings import get_settings
    from tenants.scope import TenantScope

    data = await _data(admin_url, n)
    scope = TenantScope(
        data["tenant"],
        None,
        "owner",
        membership_id=data["owner"],
        name="基准",
        tenant_locale="zh-CN",
        time_zone="Asia/Shanghai",
    )
    proposed = PoolRulesWrite(
        warning_days=WARNING, grades={g: GradeRuleWrite(no_followup_days=d) for g, d in PROPOSED.items()}
    )
    await db.start(get_settings().database_url, get_settings().database_pool_size)
    admin = await asyncpg.connect(admin_url)
    sims, hands = [], []
    try:
        await simulate_rules(scope, proposed)  # warm-up
        await admin.fetch(HAND, data["tenant"])
        for _ in range(rounds):
            started = time.perf_counter()
            sim = await simulate_rules(scope, proposed)
            sims.append(time.perf_counter() - started)
            started = time.perf_counter()
            hand = await admin.fetch(HAND, data["tenant"])
            hands.append(time.perf_counter() - started)
        if EXPLAIN:
            from app.customers.pool.rules import RuleSet, load_rule_set, validate
            from app.customers.pool.simulate import LISTED, simulation_sql

            async with scope.tx() as tx:
                current = await load_rule_set(tx)
                wanted = RuleSet(validate(proposed), {})
                plan = await tx.fetch(
                    "EXPLAIN (ANALYZE, BUFFERS) " + simulation_sql(current, wanted),
                    scope.tenant_id,
                    *current.sql_arrays(),
                    *wanted.sql_arrays(),
                    DAYS,
                    scope.time_zone,
                    LISTED,
                )
            print("\n".join(r[0] for r in plan), file=sys.stderr)
        ours = {
            (d.date, d.membership_id): (
                d.current_reclaimed,
                d.current_warned,
                d.proposed_reclaimed,
                d.proposed_warned,
            )
            for d in sim.per_day
        }
        theirs = {(r["date"], str(r["owner"])): (r["cr"], r["cw"], r["pr"], r["pw"]) for r in hand}
        assert ours == theirs, (len(ours), len(theirs))
    finally:
        await admin.close()
        await db.stop()
    sim_s, hand_s = statistics.median(sims), statistics.median(hands)
    return {
        "customers": n,
        "reps": 20,
        "days": DAYS,
        "proposed_reclaimed": sim.proposed.reclaimed,
        "current_reclaimed": sim.current.reclaimed,
        "simulate_ms_p50": round(sim_s * 1000, 1),
        "hand_sql_ms_p50": round(hand_s * 1000, 1),
        "ratio_simulate_vs_hand_sql": round(sim_s / hand_s, 2),
        "simulate_runs_ms": [round(s * 1000, 1) for s in sims],
        "goal_le_2x_hand_sql": sim_s <= 2 * hand_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print the simulation's plan to stderr")
    args = parser.parse_args()
    with bench_database() as bench:
        figures = asyncio.run(run(bench.admin_url, args.customers, args.rounds))
    print(json.dumps({"bench": "simulate", **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
