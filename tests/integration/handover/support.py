"""Helpers for the handover tests: a team of reps in one territory, customers owned by one of
them, a plan, and direct reads of what the database holds."""

from __future__ import annotations

from typing import Any

from tests.factories import customer, db_rows, db_value
from tests.helpers import Member, connect
from tests.integration.customers.pool.support import Team, team

__all__ = ["Team", "db_rows", "db_value", "deal", "owned", "owners", "plan", "team"]


async def owned(client: Any, t: Team, rep: Member, grades: str) -> list[dict[str, Any]]:
    """One customer per letter of ``grades``, owned by ``rep``."""
    return [
        await customer(client, t.owner, t.territory["id"], grade=g, owner_membership_id=rep.membership_id)
        for g in grades
    ]


async def plan(client: Any, who: Member, expect: int = 201, **body: Any) -> dict[str, Any]:
    body.setdefault("reason", "业务员调岗")
    r = await client.post("/api/v1/handovers", json=body, headers=who.headers)
    assert r.status_code == expect, r.text
    return r.json()  # type: ignore[no-any-return]


async def owners(admin_db: str, ids: list[str]) -> dict[str, str | None]:
    rows = await db_rows(
        admin_db, "SELECT id, owner_membership_id FROM customers WHERE id = ANY($1::uuid[])", ids
    )
    return {str(r["id"]): str(r["owner_membership_id"]) if r["owner_membership_id"] else None for r in rows}


async def deal(
    admin_db: str, t: Team, customer_id: str, owner: Member, amount: str, stage: str = "demo"
) -> str:
    """An open deal straight in the database (the deals API has its own tests)."""
    async with connect(admin_db) as conn:
        return str(
            await conn.fetchval(
                "INSERT INTO deals (tenant, customer_id, owner_membership_id, title, amount, currency, stage,"
                " probability) VALUES ($1::uuid, $2::uuid, $3::uuid, 'ERP', $4::numeric, 'CNY', $5, 40)"
                " RETURNING id",
                t.owner.tenant_id,
                customer_id,
                owner.membership_id,
                amount,
                stage,
            )
        )
