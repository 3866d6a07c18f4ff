"""Authenticated GET /api/v1/me and GET /api/v1/members (50 members) against a bare route
returning the same JSON bytes from memory, in the same server and run.

    uv run python tests/bench/bench_api.py [--seconds 8] [--connections 32]

Prints one JSON line. Goal: members ≥ 50% of the bare route's requests/s."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import bench_database, load, server

PASSWORD = "Bench-password-2026"


async def seed(members: int) -> None:
    """One tenant with ``members`` members, written as the application would (RLS on)."""
    from app import db
    from app.accounts import service as accounts
    from app.settings import get_settings

    await db.start(get_settings().database_url, get_settings().database_pool_size)
    tenant = uuid.uuid4()
    password_hash = accounts.hash_password(PASSWORD)
    async with db.transaction(tenant) as tx:
        await tx.execute(
            "INSERT INTO tenants (id, name, slug, locale, time_zone, currency)"
            " VALUES ($1, '基准测试软件有限公司', 'bench', 'zh-CN', 'Asia/Shanghai', 'CNY')",
            tenant,
        )
        for i in range(members):
            user = await tx.fetchval(
                "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id",
                f"m{i}@bench.example",
                f"成员 {i}",
                password_hash,
            )
            await tx.execute(
                "INSERT INTO memberships (tenant, user_id, role) VALUES ($1, $2, $3)",
                tenant,
                user,
                "owner" if i == 0 else "rep",
            )
    await db.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with bench_database(), tempfile.TemporaryDirectory() as tmp:
        asyncio.run(seed(50))
        body_file = Path(tmp) / "members.json"
        body_file.write_bytes(b"{}")
        with server({"ACRE_BENCH_BARE_BODY_FILE": str(body_file)}) as url:
            login = httpx.post(
                f"{url}/api/v1/auth/login", json={"email": "m0@bench.example", "password": PASSWORD}
            )
            token = login.json()["session"]["token"]
            auth = {"Authorization": f"Bearer {token}"}
            members = httpx.get(f"{url}/api/v1/members?limit=50", headers=auth)
            assert len(members.json()["items"]) == 50, members.text
            body_file.write_bytes(members.content)
            assert httpx.get(f"{url}/bench/bare").content == members.content
            bare = load(f"{url}/bench/bare", seconds=args.seconds, connections=args.connections)
            me = load(f"{url}/api/v1/me", auth, seconds=args.seconds, connections=args.connections)
            listing = load(
                f"{url}/api/v1/members?limit=50", auth, seconds=args.seconds, connections=args.connections
            )
    result = {
        "bench": "api",
        "connections": args.connections,
        "seconds": args.seconds,
        "bare": vars(bare),
        "me": vars(me),
        "members": vars(listing),
        "ratio_me_vs_bare": round(me.rps / bare.rps, 3),
        "ratio_members_vs_bare": round(listing.rps / bare.rps, 3),
        "goal_members_ratio": 0.5,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
