"""A merge of two customers with 1,000 follow-ups each (and 20 contacts, 5 deals, 10 tasks each), in
a tenant of ``--customers`` more customers with 10 follow-ups each, through the merge service (the
catalog's every reference moved, the survivor's fields, audit, both ledger entries) — against the
floor: one hand-written transaction (superuser, no RLS, no ledger) moving the same follow-ups,
contacts, deals and tasks and deleting the absorbed customer. Each round merges a fresh pair.

    uv run python tests/bench/bench_merge.py [--customers 20000] [--followups 1000] [--rounds 5]

Prints one JSON line; the goal is a merge ≤ 100 ms."""

from __future__ import annotations

import argparse
import asyncio
import json
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

FLOOR = """
WITH f AS (UPDATE customer_followups SET customer_id = $3 WHERE tenant = $1 AND customer_id = $2),
c AS (UPDATE customer_contacts SET customer_id = $3 WHERE tenant = $1 AND customer_id = $2),
d AS (UPDATE deals SET customer_id = $3 WHERE tenant = $1 AND customer_id = $2),
t AS (UPDATE sales_tasks SET customer_id = $3 WHERE tenant = $1 AND customer_id = $2)
SELECT 1
"""


async def _data(admin_url: str, n: int, pairs: int, followups: int) -> dict[str, Any]:
    conn = await asyncpg.connect(admin_url)
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
        members = []
        for role in ("owner", "rep", "rep"):
            user = await conn.fetchval(
                "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, '!bench') RETURNING id",
                f"{uuid.uuid4().hex[:10]}@bench.example",
                f"成员{role}",
            )
            members.append(
                await conn.fetchval(
                    "INSERT INTO memberships (tenant, user_id, role) VALUES ($1, $2, $3) RETURNING id",
                    tenant,
                    user,
                    role,
                )
            )
        owner, rep1, rep2 = members
        await conn.execute(
            "INSERT INTO territories (tenant, id, name, level, path) VALUES ($1, $2, '苏州市', 'custom', $3)",
            tenant,
            territory,
            territory.hex + "/",
        )
        total = n + 2 * pairs
        ids = [uuid.uuid4() for _ in range(total)]
        await conn.copy_records_to_table(
            "customers",
            records=[
                (
                    tenant,
                    c,
                    f"基准{i}号科技有限公司",
                    "ABCD"[i % 4],
                    "prospect",
                    territory,
                    rep1 if i % 2 else rep2,
                    f"name:{i}",
                    f"n{i}",
                    f"基准{i}",
                    now - timedelta(days=i % 30),
                )
                for i, c in enumerate(ids)
            ],
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
            ),
        )
        merged = ids[n:]
        counts = [(c, followups) for c in merged] + [(c, 10) for c in ids[:n]]
        await conn.copy_records_to_table(
            "customer_followups",
            records=[
                (tenant, c, rep1, "call", now - timedelta(hours=k + 1), "电话回访")
                for c, many in counts
                for k in range(many)
            ],
            columns=("tenant", "customer_id", "author_membership_id", "kind", "happened_at", "summary"),
        )
        await conn.copy_records_to_table(
            "customer_contacts",
            records=[(tenant, c, f"联系人{k}") for c in merged for k in range(20)],
            columns=("tenant", "customer_id", "name"),
        )
        await conn.copy_records_to_table(
            "deals",
            records=[(tenant, c, rep1, "ERP", 10000, "CNY", "demo", 40) for c in merged for _ in range(5)],
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
        await conn.copy_records_to_table(
            "sales_tasks",
            records=[(tenant, c, rep1, "call", "manual", now.date()) for c in merged for _ in range(10)],
            columns=("tenant", "customer_id", "assignee_membership_id", "kind", "source", "due_on"),
        )
        for table in ("customers", "customer_followups", "customer_contacts", "deals", "sales_tasks"):
            await conn.execute(f"ANALYZE {table}")
        return {
            "tenant": tenant,
            "owner": owner,
            "pairs": [(merged[2 * i], merged[2 * i + 1]) for i in range(pairs)],
        }
    finally:
        await conn.close()


async def run(admin_url: str, n: int, followups: int, rounds: int) -> dict[str, object]:
    from app import db
    from app.customers.merge import merge_customers
    from app.customers.schemas import MergeBody
    from app.settings import get_settings
    from tenants.scope import TenantScope

    data = await _data(admin_url, n, 2 * rounds + 1, followups)
    scope = TenantScope(
        data["tenant"], None, "owner", membership_id=data["owner"], name="基准", tenant_locale="zh-CN"
    )
    await db.start(get_settings().database_url, get_settings().database_pool_size)
    admin = await asyncpg.connect(admin_url)
    merges, floors = [], []
    pairs = list(data["pairs"])
    try:
        survivor, absorbed = pairs.pop()  # warm-up: prepared statements, caches
        await merge_customers(scope, survivor, MergeBody(absorb_id=absorbed, reason="预热"))
        for _ in range(rounds):
            survivor, absorbed = pairs.pop()
            started = time.perf_counter()
            async with admin.transaction():
                await admin.execute(FLOOR, data["tenant"], absorbed, survivor)
                await admin.execute(
                    "DELETE FROM customers WHERE tenant = $1 AND id = $2", data["tenant"], absorbed
                )
            floors.append(time.perf_counter() - started)
            survivor, absorbed = pairs.pop()
            started = time.perf_counter()
            done = await merge_customers(scope, survivor, MergeBody(absorb_id=absorbed, reason="基准合并"))
            merges.append(time.perf_counter() - started)
            assert done.moved["customer_followups"] == followups, done.moved
        moved = await admin.fetchval(
            "SELECT count(*) FROM customer_followups WHERE tenant = $1 AND customer_id = $2",
            data["tenant"],
            survivor,
        )
        assert moved == 2 * followups, moved
    finally:
        await admin.close()
        await db.stop()
    merge_s, floor_s = statistics.median(merges), statistics.median(floors)
    return {
        "customers": n + 2 * len(data["pairs"]),
        "followups_each": followups,
        "merge_ms_p50": round(merge_s * 1000, 1),
        "merge_ms_max": round(max(merges) * 1000, 1),
        "floor_ms_p50": round(floor_s * 1000, 1),
        "ratio_merge_vs_floor": round(merge_s / floor_s, 2),
        "merge_runs_ms": [round(s * 1000, 1) for s in merges],
        "goal_merge_le_100ms": merge_s <= 0.1,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--followups", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with bench_database() as bench:
        figures = asyncio.run(run(bench.admin_url, args.customers, args.followups, args.rounds))
    print(json.dumps({"bench": "merge", **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
