"""The pipeline summary: by stage, by rep and in total per currency (never adding currencies up),
weighted by probability, filtered by territory subtree, expected close date or a named period, and
scoped to what the caller sees (rep: own deals, manager: subtree, owner: all)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from app.deals.pipeline import period_range
from app.errors import ValidationFailed
from app.localtime import local_today
from tests.factories import customer, db_value, territory
from tests.helpers import signup
from tests.integration.deals.support import deal, move, world


def _rows(body: dict[str, Any], key: str, by: str) -> dict[tuple[str, str], tuple[int, str, str]]:
    return {(r[by], r["currency"]): (r["count"], r["amount"], r["weighted_amount"]) for r in body[key]}


async def _pipeline(client: Any, who: Any, **params: Any) -> Any:
    return await client.get("/api/v1/pipeline", params=params, headers=who.headers)


async def test_pipeline_by_stage_rep_and_currency_scoped_to_the_caller(client, mailbox, app):
    w = await world(client, mailbox, app)
    await deal(
        client, w.rep, w.customer["id"], stage="demo", amount="50000.00", expected_close_date="2026-12-15"
    )
    await deal(
        client,
        w.rep,
        w.customer["id"],
        stage="formal_quote",
        amount="20000.00",
        expected_close_date="2027-01-20",
    )
    await deal(client, w.rep, w.customer["id"], stage="first_visit", amount="1000.00", currency="USD")
    lost = await deal(client, w.rep, w.customer["id"], stage="demo", amount="999.00")
    assert (await move(client, w.rep, lost["id"], "lost", reason="预算取消")).status_code == 200
    far = await customer(client, w.other_manager, w.other_province["id"])
    await deal(client, w.other_manager, far["id"], stage="demo", amount="7000.00")

    r = await _pipeline(client, w.owner)
    assert r.status_code == 200, r.text
    body = r.json()
    assert _rows(body, "totals", "currency") == {
        ("CNY", "CNY"): (3, "77000.00", "29950.00"),  # 50000×35% + 20000×50% + 7000×35%
        ("USD", "USD"): (1, "1000.00", "100.00"),
    }
    assert [(s["stage"], s["currency"]) for s in body["by_stage"]] == [
        ("demo", "CNY"),
        ("formal_quote", "CNY"),
        ("first_visit", "USD"),
    ]
    assert _rows(body, "by_stage", "stage")[("demo", "CNY")] == (2, "57000.00", "19950.00")
    assert _rows(body, "by_rep", "owner_membership_id") == {
        (w.rep.membership_id, "CNY"): (2, "70000.00", "27500.00"),
        (w.other_manager.membership_id, "CNY"): (1, "7000.00", "2450.00"),
        (w.rep.membership_id, "USD"): (1, "1000.00", "100.00"),
    }
    closed = (await _pipeline(client, w.owner, closed="true")).json()
    assert _rows(closed, "by_stage", "stage")[("lost", "CNY")] == (1, "999.00", "0.00")

    # a rep: their own deals; a manager: their subtree; the other manager: theirs only
    rep = (await _pipeline(client, w.rep)).json()
    assert _rows(rep, "totals", "currency") == {
        ("CNY", "CNY"): (2, "70000.00", "27500.00"),
        ("USD", "USD"): (1, "1000.00", "100.00"),
    }
    manager = (await _pipeline(client, w.manager)).json()
    assert manager["totals"] == rep["totals"] and manager["by_rep"] == rep["by_rep"]
    other = (await _pipeline(client, w.other_manager)).json()
    assert _rows(other, "totals", "currency") == {("CNY", "CNY"): (1, "7000.00", "2450.00")}

    # territory subtree (the province includes the city), currency, expected close date
    for tid in (w.province["id"], w.city["id"]):
        got = (await _pipeline(client, w.owner, territory_id=tid, currency="CNY")).json()
        assert _rows(got, "totals", "currency") == {("CNY", "CNY"): (2, "70000.00", "27500.00")}
    got = (await _pipeline(client, w.owner, territory_id=w.other_province["id"])).json()
    assert [t["amount"] for t in got["totals"]] == ["7000.00"]
    got = (await _pipeline(client, w.owner, **{"from": "2026-12-01", "to": "2026-12-31"})).json()
    assert _rows(got, "by_stage", "stage") == {("demo", "CNY"): (1, "50000.00", "17500.00")}
    assert got["from_date"] == "2026-12-01" and got["to_date"] == "2026-12-31"
    # the manager asking about a subtree they do not manage sees nothing of it
    got = (await _pipeline(client, w.manager, territory_id=w.other_province["id"])).json()
    assert got["totals"] == [] and got["by_rep"] == []


async def test_pipeline_named_period_and_bad_input(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    zone = await db_value(admin_db, "SELECT time_zone FROM tenants WHERE id = $1", UUID(w.owner.tenant_id))
    today = local_today(zone)  # periods are the tenant's
    await deal(client, w.rep, w.customer["id"], stage="demo", expected_close_date=today.isoformat())
    await deal(client, w.rep, w.customer["id"], stage="demo", expected_close_date="2001-01-01")
    got = (await _pipeline(client, w.rep, period="this_month")).json()
    assert [t["count"] for t in got["totals"]] == [1] and got["from_date"] == today.replace(day=1).isoformat()
    for params, name in (
        ({"period": "someday"}, "period"),
        ({"period": "this_month", "from": "2026-01-01"}, "period"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
        ({"currency": "cny"}, "currency"),
    ):
        r = await _pipeline(client, w.rep, **params)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == name, (params, r.text)

    other = await signup(client)
    foreign = await territory(client, other, "别人的省", level="province")
    r = await _pipeline(client, w.owner, territory_id=foreign["id"])
    assert r.status_code == 404


def test_period_range() -> None:
    assert period_range("this_month", date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_range("next_month", date(2026, 12, 31)) == (date(2027, 1, 1), date(2027, 1, 31))
    assert period_range("this_quarter", date(2026, 11, 30)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_range("next_quarter", date(2026, 11, 30)) == (date(2027, 1, 1), date(2027, 3, 31))
    assert period_range("this_year", date(2026, 5, 5)) == (date(2026, 1, 1), date(2026, 12, 31))
    with pytest.raises(ValidationFailed):
        period_range("later", date(2026, 5, 5))
