"""A reusable generator of a realistic pool dataset: 1,000,000 customers × ``scale`` over 100 tenants
(the largest holds 20%), each tenant a territory tree (province → 8 prefectures → 4 counties each),
an owner, a manager per prefecture and enough reps for ~80 customers each, ~85% of customers owned,
one follow-up per followed-up customer, and ``due_fraction`` of all customers due for auto-reclaim.

Loaded the fast way: secondary indexes dropped, FK triggers off, ``COPY`` (binary, streamed from
generators) into the bare tables, then the indexes rebuilt and the tables analysed.

    uv run python tests/bench/bench_datagen.py [--scale 0.1]     # prints one JSON line

Other benchmarks call :func:`generate` on their own bench database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

LIMITS = {"A": 15, "B": 30, "C": 60, "D": 90}
GRADES, GRADE_WEIGHTS = ("A", "B", "C", "D"), (0.1, 0.2, 0.3, 0.4)
INDUSTRIES = ("制造业", "批发零售", "建筑", "物流", "餐饮", "医药", "教育", "电子", "纺织", "化工")
SOURCES = (
    "event",
    "telemarketing",
    "inbound",
    "cold_visit",
    "list",
    "trade_show",
    "web",
    "referral",
    "upsell",
)
BULK_TABLES = ("customers", "customer_followups")


@dataclass
class TenantData:
    id: uuid.UUID
    customers: int
    owner: uuid.UUID  # membership ids
    managers: list[uuid.UUID]
    reps: list[uuid.UUID]
    prefectures: list[uuid.UUID]
    counties: list[uuid.UUID]


@dataclass
class Dataset:
    scale: float
    tenants: list[TenantData]
    customers: int = 0
    owned: int = 0
    due: int = 0
    followups: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def largest(self) -> TenantData:
        return self.tenants[0]


def _sizes(total: int, tenants: int, largest_share: float) -> list[int]:
    first = round(total * largest_share)
    rest, extra = divmod(total - first, tenants - 1)
    return [first] + [rest + (1 if i < extra else 0) for i in range(tenants - 1)]


def _hex(u: uuid.UUID) -> str:
    return u.hex + "/"


async def _structure(conn: asyncpg.Connection, sizes: list[int]) -> list[TenantData]:
    """Tenants, users, memberships, territories and territory members (small: plain COPY)."""
    tenants: list[tuple[Any, ...]] = []
    users: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    territories: list[tuple[Any, ...]] = []
    tmembers: list[tuple[Any, ...]] = []
    made: list[TenantData] = []
    now = datetime.now(UTC)
    for k, n in enumerate(sizes):
        tid = uuid.uuid4()
        tenants.append(
            (
                tid,
                f"基准软件{k}有限公司",
                f"bench-{k}-{secrets.token_hex(3)}",
                "zh-CN",
                "Asia/Shanghai",
                "CNY",
                now,
                now + timedelta(days=30),
            )
        )
        province = uuid.uuid4()
        territories.append((tid, province, None, f"省{k}", "province", _hex(province)))
        prefectures, counties = [], []
        for p in range(8):
            pref = uuid.uuid4()
            prefectures.append(pref)
            territories.append((tid, pref, province, f"市{p}", "prefecture", _hex(province) + _hex(pref)))
            for c in range(4):
                county = uuid.uuid4()
                counties.append(county)
                territories.append(
                    (tid, county, pref, f"县{p}-{c}", "county", _hex(province) + _hex(pref) + _hex(county))
                )

        def member(role: str, tenant: uuid.UUID = tid, number: int = k) -> uuid.UUID:
            user, mid = uuid.uuid4(), uuid.uuid4()
            users.append((user, f"b{number}-{len(users)}@bench.example", f"成员{len(users)}", "!bench"))
            members.append((tenant, mid, user, role))
            return mid

        owner = member("owner")
        managers = [member("manager") for _ in prefectures]
        tmembers += [(tid, pref, m, "manager") for pref, m in zip(prefectures, managers, strict=True)]
        reps = [member("rep") for _ in range(max(len(counties), round(n * 0.85 / 80)))]
        tmembers += [(tid, counties[i % len(counties)], r, "rep") for i, r in enumerate(reps)]
        made.append(TenantData(tid, n, owner, managers, reps, prefectures, counties))
    await conn.copy_records_to_table(
        "tenants",
        records=tenants,
        columns=("id", "name", "slug", "locale", "time_zone", "currency", "created_at", "trial_ends_at"),
    )
    await conn.copy_records_to_table("users", records=users, columns=("id", "email", "name", "password_hash"))
    await conn.copy_records_to_table(
        "memberships", records=members, columns=("tenant", "id", "user_id", "role")
    )
    await conn.copy_records_to_table(
        "territories", records=territories, columns=("tenant", "id", "parent_id", "name", "level", "path")
    )
    await conn.copy_records_to_table(
        "territory_members", records=tmembers, columns=("tenant", "territory_id", "membership_id", "role")
    )
    return made


CUSTOMER_COLUMNS = (
    "tenant",
    "id",
    "full_name",
    "industry",
    "source",
    "grade",
    "status",
    "territory_id",
    "owner_membership_id",
    "identity_key",
    "name_key",
    "search_text",
    "last_followup_at",
    "created_at",
    "updated_at",
    "owner_changed_at",
    "pool_id",
)
FOLLOWUP_COLUMNS = ("tenant", "customer_id", "author_membership_id", "kind", "happened_at", "summary")


def _customers(
    data: Dataset,
    rng: random.Random,
    due_fraction: float,
    pool_fraction: float,
    followups: list[tuple[Any, ...]],
    pools: dict[uuid.UUID, uuid.UUID],
) -> Iterator[tuple[Any, ...]]:
    now = datetime.now(UTC)
    day = timedelta(days=1)
    p_due = due_fraction / (1 - pool_fraction)
    for t in data.tenants:
        by_county: dict[uuid.UUID, list[uuid.UUID]] = {}
        for i, r in enumerate(t.reps):
            by_county.setdefault(t.counties[i % len(t.counties)], []).append(r)
        for i in range(t.customers):
            county = t.counties[i % len(t.counties)]
            grade = rng.choices(GRADES, GRADE_WEIGHTS)[0]
            cid = uuid.uuid4()
            if rng.random() >= pool_fraction:
                owner = rng.choice(by_county[county])
                status = "prospect"
                data.owned += 1
                if rng.random() < p_due:
                    clock = now - (LIMITS[grade] + 1 + rng.random() * 60) * day
                    data.due += 1
                else:
                    clock = now - rng.random() * (LIMITS[grade] - 5) * day
                last: datetime | None = clock
                changed = clock - rng.random() * 100 * day
            else:
                owner, status = None, "lost" if rng.random() < 0.1 else "prospect"
                last = None if rng.random() < 0.2 else now - rng.random() * 365 * day
                changed = now - rng.random() * 365 * day
            name = f"{INDUSTRIES[i % 10]}{i}号科技有限公司"
            if last is not None:
                followups.append((t.id, cid, owner, "call", last, "电话回访"))
            created = changed - rng.random() * 30 * day
            yield (
                t.id,
                cid,
                name,
                INDUSTRIES[rng.randrange(10)],
                SOURCES[rng.randrange(9)],
                grade,
                status,
                county,
                owner,
                f"name:{i}",
                f"n{i}",
                name,
                last,
                created,
                created,
                changed,
                pools[county],  # the county's own pool (the insert trigger is off during the COPY)
            )


async def _indexes(conn: asyncpg.Connection) -> tuple[list[str], list[str]]:
    """The secondary (non-constraint) indexes of the bulk tables: (definitions, names)."""
    rows = await conn.fetch(
        "SELECT indexdef, indexname FROM pg_indexes WHERE tablename = ANY($1::text[]) AND indexname NOT IN"
        " (SELECT conname FROM pg_constraint) AND NOT EXISTS (SELECT 1 FROM pg_constraint k"  # FKs use it
        " WHERE k.conindid = format('%I.%I', schemaname, indexname)::regclass)",
        list(BULK_TABLES),
    )
    return [r["indexdef"] for r in rows], [r["indexname"] for r in rows]


async def generate(
    admin_url: str,
    *,
    scale: float = 1.0,
    tenants: int = 100,
    largest_share: float = 0.2,
    due_fraction: float = 0.10,
    pool_fraction: float = 0.15,
    seed: int = 7,
) -> Dataset:
    """Fill the (migrated, empty) database at ``admin_url``; returns what was made, with phase timings."""
    rng = random.Random(seed)
    total = round(1_000_000 * scale)
    conn = await asyncpg.connect(admin_url)
    started = time.perf_counter()
    try:
        data = Dataset(scale, [])
        data.tenants = await _structure(conn, _sizes(total, tenants, largest_share))
        data.seconds["structure"] = round(time.perf_counter() - started, 2)
        await conn.execute("SET synchronous_commit = off")
        definitions, names = await _indexes(conn)
        for table in BULK_TABLES:
            await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        for name in names:
            await conn.execute(f'DROP INDEX "{name}"')
        mark = time.perf_counter()
        pools = {
            r["territory_id"]: r["id"]
            for r in await conn.fetch("SELECT territory_id, id FROM pools WHERE territory_id IS NOT NULL")
        }
        followups: list[tuple[Any, ...]] = []
        await conn.copy_records_to_table(
            "customers",
            records=_customers(data, rng, due_fraction, pool_fraction, followups, pools),
            columns=CUSTOMER_COLUMNS,
        )
        data.customers = total
        await conn.copy_records_to_table("customer_followups", records=followups, columns=FOLLOWUP_COLUMNS)
        data.followups = len(followups)
        data.seconds["copy"] = round(time.perf_counter() - mark, 2)
        mark = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '1GB'")
        for definition in definitions:
            await conn.execute(definition)
        for table in BULK_TABLES:
            await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")
        data.seconds["indexes"] = round(time.perf_counter() - mark, 2)
        mark = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        data.seconds["analyze"] = round(time.perf_counter() - mark, 2)
    finally:
        await conn.close()
    data.seconds["total"] = round(time.perf_counter() - started, 2)
    return data


async def session_token(admin_url: str, tenant: uuid.UUID, membership_id: uuid.UUID) -> str:
    """A real session for a generated member (sessions are resolved by the app like any other)."""
    from app.accounts.service import token_hash

    token = secrets.token_urlsafe(32)
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(
            "INSERT INTO sessions (token_hash, user_id, tenant, expires_at)"
            " SELECT $1, user_id, tenant, now() + interval '1 day' FROM memberships WHERE id = $2",
            token_hash(token),
            membership_id,
        )
    finally:
        await conn.close()
    assert tenant
    return token


def main() -> None:
    from tests.bench.harness import bench_database

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 customers")
    parser.add_argument("--tenants", type=int, default=100)
    args = parser.parse_args()
    with bench_database() as bench:
        data = asyncio.run(generate(bench.admin_url, scale=args.scale, tenants=args.tenants))
    print(
        json.dumps(
            {
                "bench": "datagen",
                "scale": args.scale,
                "tenants": len(data.tenants),
                "customers": data.customers,
                "largest_tenant_customers": data.largest.customers,
                "owned": data.owned,
                "due": data.due,
                "followups": data.followups,
                "seconds": data.seconds,
                "customers_per_s_copy": round(data.customers / max(data.seconds["copy"], 1e-9)),
            }
        )
    )


if __name__ == "__main__":
    main()
