"""A small field-work world: a province managed by a manager, a city below it with two reps, another
province with its own manager and rep, customers of the first rep; plus dates in the tenant's zone."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tests.factories import ZONE, assign, customer, staff, territory
from tests.helpers import Member, signup


@dataclass
class Field:
    owner: Member
    manager: Member
    rep: Member
    rep2: Member
    other_manager: Member
    other_rep: Member
    province: dict[str, Any]
    city: dict[str, Any]
    other_province: dict[str, Any]
    customers: list[dict[str, Any]]


async def field(client: Any, mailbox: Any, app: Any, *, locale: str = "en") -> Field:
    owner = await signup(client, locale=locale)
    manager = await staff(client, owner, mailbox, app, role="manager")
    rep = await staff(client, owner, mailbox, app, role="rep")
    rep2 = await staff(client, owner, mailbox, app, role="rep")
    other_manager = await staff(client, owner, mailbox, app, role="manager")
    other_rep = await staff(client, owner, mailbox, app, role="rep")
    province = await territory(client, owner, f"江苏省{secrets.token_hex(2)}", level="province")
    city = await territory(client, owner, "苏州市", parent=province["id"], level="prefecture")
    other = await territory(client, owner, f"浙江省{secrets.token_hex(2)}", level="province")
    await assign(client, owner, province["id"], manager, "manager")
    await assign(client, owner, city["id"], rep, "rep")
    await assign(client, owner, city["id"], rep2, "rep")
    await assign(client, owner, other["id"], other_manager, "manager")
    await assign(client, owner, other["id"], other_rep, "rep")
    customers = [await customer(client, rep, city["id"]) for _ in range(2)]
    return Field(owner, manager, rep, rep2, other_manager, other_rep, province, city, other, customers)


def item(
    customer_id: str, at: str = "09:30:00", purpose: str = "development", **extra: Any
) -> dict[str, Any]:
    return {"customer_id": customer_id, "planned_time": at, "purpose": purpose, **extra}


async def plan(client: Any, who: Member, day: date, items: list[dict[str, Any]]) -> Any:
    return await client.post(
        "/api/v1/visit-plans", json={"plan_date": day.isoformat(), "items": items}, headers=who.headers
    )


async def followup(
    client: Any, who: Member, customer_id: str, kind: str, result: str | None, at: datetime | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, "summary": "拜访了财务总监"}
    if result:
        body["result"] = result
    if at is not None:
        body["happened_at"] = at.isoformat()
    r = await client.post(f"/api/v1/customers/{customer_id}/followups", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def local_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZONE)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)
