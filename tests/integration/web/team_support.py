"""Test data of the team pages: the field world (a province with its manager, a city with two reps,
another province) with a month of work in it."""

from __future__ import annotations

from typing import Any

from tests.factories import customer, today
from tests.integration.customers.pool.support import age
from tests.integration.deals.support import deal
from tests.integration.sales.field.support import Field, field, followup


async def busy_team(client: Any, mailbox: Any, app: Any, admin_db: str) -> tuple[Field, dict[str, Any]]:
    """The field world with a month of work: calls and a presentation, an open deal, a signed one, a
    released customer and one about to be reclaimed."""
    f = await field(client, mailbox, app)
    first, second = f.customers
    await followup(client, f.rep, first["id"], "call", "conversation")
    await followup(client, f.rep, first["id"], "call", "appointment")
    await followup(client, f.rep, second["id"], "visit", "presentation")
    await deal(client, f.rep, second["id"], stage="demo", amount="30000.00")
    await deal(client, f.rep, first["id"], stage="signed", amount="50000.00")
    released = await customer(client, f.rep, f.city["id"], full_name="苏州青禾软件有限公司")
    r = await client.post(
        f"/api/v1/customers/{released['id']}/release",
        json={"reason": "other", "note": "不做了"},
        headers=f.rep.headers,
    )
    assert r.status_code == 200, r.text
    due = await customer(client, f.rep, f.city["id"], grade="A", full_name="无锡远山科技有限公司")
    await age(admin_db, due["id"], 13)  # grade A: reclaimed after 15 days without a follow-up
    await customer(client, f.other_rep, f.other_province["id"])  # another subtree: never counted
    r = await client.post(
        "/api/v1/daily-reports",
        json={
            "report_date": today().isoformat(),
            "competitor_news": "用友在苏州降价",
            "incidents": [
                {"title": "竞品恶意压价", "description": "对方报价低于成本", "severity": "serious"}
            ],
        },
        headers=f.rep.headers,
    )
    assert r.status_code == 201, r.text
    return f, due
