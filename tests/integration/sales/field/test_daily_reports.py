"""Daily reports (prefilled from the day's data, vs targets) and market incidents."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from app import db
from app.deals.collections.items import start_collections
from tests.factories import customer, db_rows, db_value, today
from tests.helpers import mails_to, run_jobs, signup
from tests.integration.deals.support import deal
from tests.integration.sales.field.support import field, followup, item, plan

URL = "/api/v1/daily-reports"


async def _paid(admin_db, tenant_id, deal_id, amount):
    await db_rows(
        admin_db,
        "INSERT INTO collections (tenant, deal_id, seq, code, percent, amount, currency, due_date, paid_at,"
        " paid_amount) VALUES ($1, $2, 1, 'full', 100, $3, 'CNY', current_date, now(), $3) RETURNING id",
        tenant_id,
        deal_id,
        Decimal(amount),
    )


async def test_report_is_prefilled_from_the_day(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    c1, c2 = f.customers
    month = today().replace(day=1).isoformat()
    for metric, value in (("amount", "300000"), ("collections", "31000")):
        r = await client.post(
            "/api/v1/targets",
            json={
                "metric": metric,
                "scope_type": "rep",
                "period": "month",
                "period_start": month,
                "value": value,
                "membership_id": f.rep.membership_id,
            },
            headers=f.manager.headers,
        )
        assert r.status_code == 201, r.text
    p = (
        await plan(client, f.rep, today(), [item(c1["id"]), item(c2["id"], "15:00:00", "collection")])
    ).json()
    await client.post(f"/api/v1/visit-plans/{p['id']}/submit", headers=f.rep.headers)
    r = await client.post(
        f"/api/v1/visit-plans/{p['id']}/items/{p['items'][0]['id']}/done",
        json={"kind": "visit", "summary": "演示", "result": "presentation"},
        headers=f.rep.headers,
    )
    assert r.status_code == 200
    await followup(client, f.rep, c1["id"], "visit", "no_answer")
    await followup(client, f.rep, c2["id"], "meeting", "order")
    await followup(client, f.rep, c2["id"], "call", "conversation")
    other = await customer(client, f.rep2, f.city["id"])
    await followup(client, f.rep2, other["id"], "visit", "order")  # someone else's day
    d = await deal(client, f.rep, c2["id"], stage="signed", amount="8000.00")
    open_deal = await deal(client, f.rep, c1["id"], stage="negotiation", amount="5000.00")
    await _paid(admin_db, f.owner.tenant_id, d["id"], "3100.00")
    async with db.transaction(UUID(f.owner.tenant_id)) as tx:  # its items, then a partial payment today
        items = await start_collections(tx, UUID(open_deal["id"]), datetime.now(UTC))
    r = await client.post(
        f"/api/v1/collections/{items[0].id}/paid",
        json={"amount": "1000.00", "paid_on": today().isoformat()},
        headers=f.rep.headers,
    )
    assert r.status_code == 200, r.text

    r = await client.post(
        URL,
        json={
            "report_date": today().isoformat(),
            "competitor_news": " 用友在苏州降价 20% ",
            "customer_feedback": "希望增加移动端",
        },
        headers=f.rep.headers,
    )
    assert r.status_code == 201, r.text
    rep = r.json()
    fig = rep["figures"]
    assert (fig["followups"], fig["calls"], fig["visits"], fig["effective_visits"]) == (4, 1, 3, 2)
    assert fig["visits_by_result"] == {"no_answer": 1, "order": 1, "presentation": 1}
    assert fig["effective_visit_rate"] == "66.67"
    assert (fig["planned_visits"], fig["planned_done"]) == (2, 1)
    assert (
        fig["orders"] == 1
        and fig["order_amount"] == {"CNY": "8000.00"}
        and fig["orders_per_visit"] == "33.33"
    )
    assert fig["collections"] == {"CNY": "4100.00"}
    days = calendar.monthrange(today().year, today().month)[1]
    amount = fig["targets"]["amount"]
    assert amount["month_target"] == "300000.00" and amount["month_to_date"] == "8000.00"
    assert amount["day_target"] == str((Decimal(300000) / days).quantize(Decimal("0.01")))
    assert amount["month_attainment"] == "2.67"
    assert fig["targets"]["collections"]["month_attainment"] == "13.23"
    assert rep["competitor_news"] == "用友在苏州降价 20%" and rep["customer_feedback"] == "希望增加移动端"

    r = await client.post(URL, json={"report_date": today().isoformat()}, headers=f.rep.headers)
    assert r.status_code == 409
    r = await client.get(URL + "/preview", params={"report_date": today().isoformat()}, headers=f.rep.headers)
    assert r.status_code == 200 and r.json()["visits"] == 3
    # rep2's report of the same day counts only rep2's visit
    r = await client.post(URL, json={"report_date": today().isoformat()}, headers=f.rep2.headers)
    assert (
        r.json()["figures"]["visits"] == 1
        and r.json()["figures"]["targets"]["amount"]["month_target"] is None
    )


async def test_future_day_is_refused_and_lists_by_role(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    r = await client.post(
        URL, json={"report_date": (today() + timedelta(days=1)).isoformat()}, headers=f.rep.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "report_date"
    r = await client.get(
        URL + "/preview",
        params={"report_date": (today() + timedelta(days=1)).isoformat()},
        headers=f.rep.headers,
    )
    assert r.status_code == 422
    assert (
        await db_value(admin_db, "SELECT count(*) FROM daily_reports WHERE tenant = $1", f.owner.tenant_id)
        == 0
    )

    ids = []
    for n in (2, 1, 0):
        r = await client.post(
            URL, json={"report_date": (today() - timedelta(days=n)).isoformat()}, headers=f.rep.headers
        )
        assert r.status_code == 201
        ids.append(r.json()["id"])
    theirs = (
        await client.post(URL, json={"report_date": today().isoformat()}, headers=f.other_rep.headers)
    ).json()
    managed = (await client.get(URL, headers=f.manager.headers)).json()["items"]
    assert [x["id"] for x in managed] == list(reversed(ids))
    assert [x["id"] for x in (await client.get(URL, headers=f.other_manager.headers)).json()["items"]] == [
        theirs["id"]
    ]
    assert (await client.get(URL, headers=f.rep2.headers)).json()["items"] == []
    page = (await client.get(URL, params={"limit": 2}, headers=f.rep.headers)).json()
    rest = (
        await client.get(URL, params={"limit": 2, "cursor": page["next_cursor"]}, headers=f.rep.headers)
    ).json()
    assert [x["id"] for x in page["items"] + rest["items"]] == list(reversed(ids))
    assert (await client.get(f"{URL}/{ids[0]}", headers=f.manager.headers)).status_code == 200
    assert (await client.get(f"{URL}/{ids[0]}", headers=f.other_manager.headers)).status_code == 404
    stranger = await signup(client)
    assert (await client.get(f"{URL}/{ids[0]}", headers=stranger.headers)).status_code == 404


async def test_serious_incident_tells_the_managers_at_once(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    foreign = await customer(client, f.other_rep, f.other_province["id"])
    bad = {
        "report_date": today().isoformat(),
        "incidents": [
            {
                "title": "竞品挖角",
                "description": "客户被挖",
                "severity": "serious",
                "customer_id": foreign["id"],
            }
        ],
    }
    r = await client.post(URL, json=bad, headers=f.rep.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "incidents[0].customer_id"
    assert (
        await db_value(admin_db, "SELECT count(*) FROM daily_reports WHERE tenant = $1", f.owner.tenant_id)
        == 0
    )
    assert (
        await db_value(admin_db, "SELECT count(*) FROM market_incidents WHERE tenant = $1", f.owner.tenant_id)
        == 0
    )

    good = {
        "report_date": today().isoformat(),
        "incidents": [
            {
                "title": "竞品低价倾销",
                "description": "金蝶报价低于成本价",
                "severity": "serious",
                "customer_id": f.customers[0]["id"],
            }
        ],
    }
    r = await client.post(URL, json=good, headers=f.rep.headers)
    assert r.status_code == 201, r.text
    incident = r.json()["incidents"][0]
    assert (incident["severity"], incident["status"], incident["report_id"]) == (
        "serious",
        "open",
        r.json()["id"],
    )
    r = await client.post(
        "/api/v1/market-incidents",
        json={"title": "展会", "description": "本周有行业展会"},
        headers=f.rep.headers,
    )
    assert r.status_code == 201 and r.json()["severity"] == "normal"
    normal = r.json()
    await run_jobs(app)
    mails = [m for m in mails_to(mailbox, f.manager.email) if "incident" in m["Subject"]]
    assert [m["Subject"] for m in mails] == ["Serious market incident: 竞品低价倾销"]
    assert "金蝶报价低于成本价" in mails[0].get_body(preferencelist=("plain",)).get_content()
    assert not [m for m in mails_to(mailbox, f.other_manager.email) if "incident" in m["Subject"]]
    notes = (await client.get("/api/v1/notifications", headers=f.manager.headers)).json()["items"]
    assert [n["kind"] for n in notes] == ["market_incident"] and "竞品低价倾销" in notes[0]["message"]

    listed = (await client.get("/api/v1/market-incidents", headers=f.manager.headers)).json()["items"]
    assert [i["id"] for i in listed] == [normal["id"], incident["id"]]
    serious = (
        await client.get(
            "/api/v1/market-incidents", params={"severity": "serious"}, headers=f.manager.headers
        )
    ).json()["items"]
    assert [i["id"] for i in serious] == [incident["id"]]
    assert (await client.get("/api/v1/market-incidents", headers=f.other_manager.headers)).json()[
        "items"
    ] == []
    url = f"/api/v1/market-incidents/{incident['id']}"
    assert (await client.get(url, headers=f.rep2.headers)).status_code == 404
    assert (await client.post(url + "/close", headers=f.rep.headers)).status_code == 403
    r = await client.post(url + "/close", headers=f.manager.headers)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert (await client.post(url + "/close", headers=f.manager.headers)).status_code == 409
    stranger = await signup(client)
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    assert (await client.post(url + "/close", headers=stranger.headers)).status_code == 404


async def test_incident_of_a_rep_without_a_manager_goes_to_the_admins(client, mailbox, app):
    owner = await signup(client, locale="zh-CN")
    from tests.factories import staff

    loner = await staff(client, owner, mailbox, app, role="rep")
    r = await client.post(
        "/api/v1/market-incidents",
        json={"title": "政策变化", "description": "税控新规", "severity": "serious"},
        headers=loner.headers,
    )
    assert r.status_code == 201
    await run_jobs(app)
    assert [m["Subject"] for m in mails_to(mailbox, owner.email) if "异常" in m["Subject"]] == [
        "严重市场异常：政策变化"
    ]
