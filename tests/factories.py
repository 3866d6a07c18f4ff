"""Test data shared by the integration tests: members with their membership ids, territories,
customers, today in the test tenants' time zone, and direct (admin) database reads to check what a
refused request left behind."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from tests.helpers import Member, add_member

ZONE = ZoneInfo("Asia/Shanghai")  # the zone tests.helpers.signup gives every tenant


def today() -> date:
    """Today in the test tenants' time zone."""
    return datetime.now(ZONE).date()


async def staff(client: Any, owner: Member, mailbox: Any, app: Any, role: str = "rep") -> Member:
    """``add_member`` plus the new member's membership id."""
    member = await add_member(client, owner, mailbox, app, role=role)
    r = await client.get("/api/v1/members", params={"limit": 200}, headers=owner.headers)
    member.membership_id = next(m["id"] for m in r.json()["items"] if m["user_id"] == member.user_id)
    return member


async def territory(
    client: Any, who: Member, name: str, parent: str | None = None, level: str = "custom"
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/territories", json={"name": name, "level": level, "parent_id": parent}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def assign(client: Any, who: Member, territory_id: str, member: Member, role: str) -> None:
    r = await client.post(
        f"/api/v1/territories/{territory_id}/members",
        json={"membership_id": member.membership_id, "role": role},
        headers=who.headers,
    )
    assert r.status_code == 201, r.text


def company(prefix: str = "测试") -> str:
    return f"{prefix}{secrets.token_hex(4)}科技有限公司"


async def customer(client: Any, who: Member, territory_id: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"full_name": company(), "territory_id": territory_id, "grade": "B"}
    body.update(fields)
    r = await client.post("/api/v1/customers", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def db_rows(admin_db: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(admin_db)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def db_value(admin_db: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(admin_db)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()
