"""Helpers for the pool tests: many members at once, a tenant with a territory and reps, moving a
customer's reclaim clock back in time (as the superuser), and reading the ledger."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from tests.factories import assign, customer, db_rows, territory
from tests.helpers import Member, connect, signup


async def quick_members(client: Any, admin_db: str, owner: Member, n: int, role: str = "rep") -> list[Member]:
    """``n`` active members with a session each, made directly in the database (no invitation mail,
    no password hashing): much faster than ``add_member`` when a test needs fifty. The sessions are
    real, resolved by the app like any other."""
    from app.accounts.service import token_hash

    members = []
    async with connect(admin_db) as conn:
        password_hash = await conn.fetchval(
            "SELECT password_hash FROM users WHERE id = $1::uuid", owner.user_id
        )
        for i in range(n):
            addr = f"{role}-{secrets.token_hex(5)}@example.com"
            user_id = await conn.fetchval(
                "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id",
                addr,
                f"业务员{i}",
                password_hash,
            )
            membership_id = await conn.fetchval(
                "INSERT INTO memberships (tenant, user_id, role) VALUES ($1::uuid, $2, $3) RETURNING id",
                owner.tenant_id,
                user_id,
                role,
            )
            token = secrets.token_urlsafe(32)
            await conn.execute(
                "INSERT INTO sessions (token_hash, user_id, tenant, expires_at)"
                " VALUES ($1, $2, $3::uuid, now() + interval '1 day')",
                token_hash(token),
                user_id,
                owner.tenant_id,
            )
            members.append(
                Member(token, "", addr, owner.tenant_slug, owner.tenant_id, str(user_id), str(membership_id))
            )
    me = await client.get("/api/v1/me", headers=members[0].headers) if members else None
    assert me is None or me.status_code == 200, me.text if me else ""
    return members


@dataclass
class Team:
    owner: Member
    reps: list[Member]
    territory: dict[str, Any]


async def team(client: Any, admin_db: str, reps: int = 2, name: str = "苏州市", locale: str = "en") -> Team:
    """A tenant (in ``locale``) with one territory whose reps are ``reps`` new members."""
    owner = await signup(client, locale=locale)
    t = await territory(client, owner, name)
    members = await quick_members(client, admin_db, owner, reps)
    for m in members:
        await assign(client, owner, t["id"], m, "rep")
    return Team(owner, members, t)


async def pool_customer(client: Any, who: Member, territory_id: str, **fields: Any) -> dict[str, Any]:
    """A customer entered straight into the pool."""
    return await customer(client, who, territory_id, owner_membership_id=None, **fields)


async def age(admin_db: str, customer_id: str, days: float) -> None:
    """Move the customer's reclaim clock ``days`` into the past (last follow-up and owner change)."""
    async with connect(admin_db) as conn:
        await conn.execute(
            "UPDATE customers SET last_followup_at = now() - make_interval(secs => $2 * 86400),"
            " owner_changed_at = now() - make_interval(secs => $2 * 86400) WHERE id = $1::uuid",
            customer_id,
            float(days),
        )


async def ledger_rows(admin_db: str, tenant_id: str, customer_id: str | None = None) -> list[dict[str, Any]]:
    rows = await db_rows(
        admin_db,
        "SELECT * FROM customer_ownership_history WHERE tenant = $1::uuid"
        " AND ($2::uuid IS NULL OR customer_id = $2::uuid) ORDER BY seq",
        tenant_id,
        customer_id,
    )
    return [dict(r) for r in rows]


async def put_rules(client: Any, owner: Member, **rules: Any) -> dict[str, Any]:
    r = await client.put("/api/v1/pool-rules", json=rules, headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def set_locale(admin_db: str, member: Member, locale: str | None) -> None:
    """The member's own language (their messages follow it, else the tenant's)."""
    async with connect(admin_db) as conn:
        await conn.execute("UPDATE users SET locale = $2 WHERE id = $1::uuid", member.user_id, locale)
