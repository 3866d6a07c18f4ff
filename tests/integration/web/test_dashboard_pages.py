"""The team dashboard (``/team``) and the team's report pages over HTTP: the figures on the page are
the API's for the same data and period, the period and territory pickers filter, a rep gets the API's
403, another tenant's territory is the 404 page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from tests.factories import customer, today
from tests.helpers import Member
from tests.integration.deals.support import deal
from tests.integration.sales.field.support import field, followup, monday_of
from tests.integration.web.support import htmx, sign_in
from tests.integration.web.team_support import busy_team


async def _api(client: Any, who: Member, path: str, **params: Any) -> Any:
    r = await client.get(path, params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _cells(html: str, attribute: str) -> dict[str, str]:
    """``<td data-{attribute}="key">value</td>`` cells of the page, by key."""
    return dict(re.findall(rf'<td data-{attribute}="([^"]+)">([^<]*)</td>', html))


async def test_the_dashboard_shows_the_apis_figures(client, mailbox, app, admin_db):
    f, due = await busy_team(client, mailbox, app, admin_db)
    await sign_in(client, f.manager)
    r = await client.get("/team")
    assert r.status_code == 200, r.text
    page = r.text
    assert 'src="/static/echarts.' in page and 'type="application/json" id="chart-funnel-data"' in page
    assert 'href="/team" aria-current="page"' in page  # the nav item, managers only

    funnel = await _api(client, f.manager, "/api/v1/funnel")
    totals = _cells(page, "total")
    assert {k: int(v) for k, v in totals.items()} == {
        s: funnel["total"][s] for s in ("calls", "conversations", "appointments", "presentations", "sales")
    }
    assert totals["calls"] == "2" and totals["sales"] == "1"

    pipe = await _api(client, f.manager, "/api/v1/pipeline")
    shown_amounts = dict(re.findall(r'data-total-amount="([^"]+)" data-value="([^"]+)"', page))
    assert shown_amounts == {t["currency"]: t["amount"] for t in pipe["totals"]}
    assert shown_amounts == {"CNY": "80000.00"}  # signed is open until won

    changes = await _api(client, f.manager, "/api/v1/list-changes")
    shown = {k: int(v) for k, v in _cells(page, "change").items()}
    assert shown == {k: v for k, v in changes["total"].items() if k not in ("membership_id", "name")}
    assert shown["won"] == 1 and shown["released"] == 1

    reclaims = await _api(client, f.manager, "/api/v1/reclaims-due")
    assert [i["customer_id"] for i in reclaims["items"]] == [due["id"]]
    assert f'data-reclaim="{due["id"]}"' in page and "1 customers in all" in page

    # the other province's manager sees none of it
    await sign_in(client, f.other_manager)
    other = (await client.get("/team")).text
    assert _cells(other, "total")["calls"] == "0" and f'data-reclaim="{due["id"]}"' not in other


async def test_the_period_and_territory_pickers_filter(client, mailbox, app, admin_db):
    f, _ = await busy_team(client, mailbox, app, admin_db)
    await sign_in(client, f.manager)
    long_ago = (today() - timedelta(days=400)).replace(day=1)
    end = long_ago + timedelta(days=27)
    page = (await client.get("/team", params={"from": long_ago.isoformat(), "to": end.isoformat()})).text
    api = await _api(
        client, f.manager, "/api/v1/funnel", date_from=long_ago.isoformat(), date_to=end.isoformat()
    )
    assert api["total"]["calls"] == 0 and _cells(page, "total")["calls"] == "0"
    assert f'value="{long_ago.isoformat()}"' in page
    assert _cells(page, "change")["won"] == "0"

    page = (await client.get("/team", params={"period": "this_year", "territory_id": f.city["id"]})).text
    api = await _api(
        client,
        f.manager,
        "/api/v1/funnel",
        date_from=today().replace(month=1, day=1).isoformat(),
        territory_id=f.city["id"],
    )
    assert _cells(page, "total")["calls"] == str(api["total"]["calls"]) == "2"
    assert 'href="/team?period=this_year&territory_id=' in page and 'aria-current="true"' in page

    r = await client.get("/team", params={"from": "not-a-date"})
    assert r.status_code == 400 and "<html" in r.text


async def test_a_rep_gets_the_apis_403(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    assert (await client.get("/api/v1/list-changes", headers=f.rep.headers)).status_code == 403
    await sign_in(client, f.rep)
    r = await client.get("/team")
    assert r.status_code == 403 and "<h1>" in r.text
    assert 'href="/team"' not in (await client.get("/")).text  # not in a rep's navigation


async def test_another_tenants_territory_is_404_and_an_unmanaged_one_403(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    g = await field(client, mailbox, app)
    await sign_in(client, f.manager)
    r = await client.get("/team", params={"territory_id": g.city["id"]})
    assert r.status_code == 404 and "<h1>Not found</h1>" in r.text
    api = await client.get(
        "/api/v1/list-changes", params={"territory_id": g.city["id"]}, headers=f.manager.headers
    )
    assert api.status_code == 404
    r = await client.get("/team", params={"territory_id": f.other_province["id"]})
    assert r.status_code == 403


# --- the team's report pages ------------------------------------------------------------------------


async def test_daily_reports_and_incidents_of_the_team(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    await followup(client, f.rep, f.customers[0]["id"], "call", "conversation")
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
    report = r.json()
    await sign_in(client, f.manager)
    page = (await client.get("/team/daily-reports")).text
    assert f'href="/daily-reports/{report["id"]}"' in page and "用友在苏州降价" in page
    assert '<dd data-figure="calls">1</dd>' in page
    empty = (await client.get("/team/daily-reports", params={"date_to": "2020-01-01"})).text
    assert "No daily report matches." in empty
    incidents = (await client.get("/team/market-incidents", params={"severity": "serious"})).text
    assert "竞品恶意压价" in incidents and "No market incident matches." not in incidents
    closed = (await client.get("/team/market-incidents", params={"status": "closed"})).text
    assert "竞品恶意压价" not in closed
    await sign_in(client, f.other_manager)  # another subtree's manager: none of it, as in the API
    assert report["id"] not in (await client.get("/team/daily-reports")).text
    assert "竞品恶意压价" not in (await client.get("/team/market-incidents")).text


async def test_the_weekly_plan_is_saved_in_place(client, mailbox, app, admin_db):
    from app.settings import get_settings
    from tests.helpers import run_jobs

    f = await field(client, mailbox, app)
    week = monday_of(today()) - timedelta(days=7)
    await app.state.arq.enqueue_job(
        "weekly_reports_for", f.owner.tenant_id, week.isoformat(), _queue_name=get_settings().queue_name
    )
    await run_jobs(app)
    csrf = await sign_in(client, f.manager)
    page = (await client.get("/team/weekly-reports")).text
    [report_id] = re.findall(r'id="weekly-([0-9a-f-]{36})"', page)
    r = await client.post(
        f"/team/weekly-reports/{report_id}/plan",
        data={"next_week_plan": "重点跟进A类客户"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and f'data-saved="{report_id}"' in r.text and "<html" not in r.text
    api = await _api(client, f.manager, f"/api/v1/weekly-reports/{report_id}")
    assert api["next_week_plan"] == "重点跟进A类客户"
    assert "重点跟进A类客户" in (await client.get("/team/weekly-reports")).text
    r = await client.post(
        f"/team/weekly-reports/{report_id}/plan", data={"next_week_plan": "x" * 5001}, headers=htmx(csrf)
    )
    assert r.status_code in (400, 422) and "<html" not in r.text
    assert (await _api(client, f.manager, f"/api/v1/weekly-reports/{report_id}"))[
        "next_week_plan"
    ] == "重点跟进A类客户"
    csrf = await sign_in(client, f.other_manager)  # not their territory: the service's 404
    r = await client.post(
        f"/team/weekly-reports/{report_id}/plan", data={"next_week_plan": "改"}, headers=htmx(csrf)
    )
    assert r.status_code == 404


async def test_targets_are_set_and_split_with_live_attainment(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    await deal(client, f.rep, f.customers[0]["id"], stage="signed", amount="20000.00")
    year = today().replace(month=1, day=1)
    csrf = await sign_in(client, f.manager)
    r = await client.post(
        "/team/targets",
        data={
            "metric": "amount",
            "scope_id": f"territory:{f.province['id']}",
            "period": "year",
            "period_start": year.isoformat(),
            "value": "120000",
        },
        headers=htmx(csrf),
    )
    assert r.status_code == 204 and r.headers["hx-redirect"].startswith("/team/targets")
    [made] = (await _api(client, f.manager, "/api/v1/targets", territory_id=f.province["id"]))["items"]
    assert made["actual"] == "20000.00" and made["attainment"] == "16.67"
    page = (await client.get("/team/targets")).text
    assert f'<span data-attainment="{made["id"]}">16.67 %</span>' in page and "chart-attainment-data" in page

    # a value that is no number, and a territory the manager does not manage: inline, nothing made
    r = await client.post(
        "/team/targets",
        data={
            "metric": "amount",
            "scope_id": f"territory:{f.province['id']}",
            "period": "month",
            "period_start": year.isoformat(),
            "value": "lots",
        },
        headers=htmx(csrf),
    )
    assert r.status_code == 422 and 'class="error"' in r.text and "<html" not in r.text
    r = await client.post(
        "/team/targets",
        data={
            "metric": "amount",
            "scope_id": f"territory:{f.other_province['id']}",
            "period": "year",
            "period_start": year.isoformat(),
            "value": "1",
        },
        headers=htmx(csrf),
    )
    assert r.status_code == 403 and 'class="error"' in r.text
    assert len((await _api(client, f.owner, "/api/v1/targets"))["items"]) == 1

    # split by month: twelve rows prefilled with shares adding up; then down the tree
    form = (
        await client.get(f"/team/targets/{made['id']}/split", params={"by": "period"}, headers=htmx(csrf))
    ).text
    keys = re.findall(r'name="key" value="([^"]+)"', form)
    values = re.findall(r'name="value" inputmode="decimal" value="([^"]+)"', form)
    assert len(keys) == 12 and sum(Decimal(v) for v in values) == Decimal("120000")
    bad = await client.post(
        f"/team/targets/{made['id']}/split", data={"key": keys, "value": ["1"] * 12}, headers=htmx(csrf)
    )
    assert bad.status_code == 422 and "add up" in bad.text
    ok = await client.post(
        f"/team/targets/{made['id']}/split", data={"key": keys, "value": values}, headers=htmx(csrf)
    )
    assert ok.status_code == 204, ok.text
    children = (await _api(client, f.manager, "/api/v1/targets", parent_id=made["id"]))["items"]
    assert len(children) == 12 and {c["period"] for c in children} == {"month"}
    form = (
        await client.get(f"/team/targets/{made['id']}/split", params={"by": "scope"}, headers=htmx(csrf))
    ).text
    assert f'value="territory:{f.city["id"]}"' in form


async def test_grants_are_given_and_revoked(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    csrf = await sign_in(client, f.manager)
    until = (today() + timedelta(days=10)).isoformat()
    r = await client.post(
        "/team/grants",
        data={
            "membership_id": f.other_rep.membership_id,
            "territory_id": f.city["id"],
            "until": until,
            "reason": "协助",
        },
        headers=htmx(csrf),
    )
    assert r.status_code == 204, r.text
    [grant] = (await _api(client, f.manager, "/api/v1/cross-territory-grants"))["items"]
    assert grant["active"] and grant["territory_id"] == f.city["id"]
    page = (await client.get("/team/grants")).text
    assert f'id="grant-{grant["id"]}"' in page and 'data-grant-state="active"' in page
    r = await client.post(
        "/team/grants",
        data={"membership_id": f.rep.membership_id, "territory_id": f.other_province["id"], "until": until},
        headers=htmx(csrf),
    )
    assert r.status_code == 403 and 'class="error"' in r.text
    r = await client.post(f"/team/grants/{grant['id']}/revoke", headers=htmx(csrf))
    assert r.status_code == 200 and 'data-grant-state="ended"' in r.text
    assert not (await _api(client, f.manager, "/api/v1/cross-territory-grants"))["items"][0]["active"]
    g = await field(client, mailbox, app)
    csrf = await sign_in(client, g.manager)
    assert (await client.post(f"/team/grants/{grant['id']}/revoke", headers=htmx(csrf))).status_code == 404


async def test_referral_rewards_are_marked_paid(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    r = await client.put(
        "/api/v1/referral-reward-settings", json={"kind": "points", "points": 200}, headers=f.owner.headers
    )
    assert r.status_code == 200, r.text
    referred = await customer(client, f.rep, f.city["id"], full_name="常州启明软件有限公司")
    r = await client.put(
        f"/api/v1/customers/{referred['id']}/referral",
        json={"referrer_customer_id": f.customers[0]["id"]},
        headers=f.rep.headers,
    )
    assert r.status_code == 200, r.text
    await deal(client, f.rep, referred["id"], stage="signed", amount="9000.00")
    [reward] = (await _api(client, f.manager, "/api/v1/referral-rewards"))["items"]
    csrf = await sign_in(client, f.manager)
    page = (await client.get("/team/referral-rewards", params={"status": "pending"})).text
    assert "常州启明软件有限公司" in page and "200 points" in page
    r = await client.post(f"/team/referral-rewards/{reward['id']}/paid", headers=htmx(csrf))
    assert r.status_code == 200 and 'data-reward-state="paid"' in r.text
    r = await client.post(f"/team/referral-rewards/{reward['id']}/paid", headers=htmx(csrf))
    assert r.status_code == 409 and 'class="error"' in r.text
    assert (
        "常州启明软件有限公司"
        not in (await client.get("/team/referral-rewards", params={"status": "pending"})).text
    )
    await sign_in(client, f.rep)
    assert (await client.get("/team/referral-rewards")).status_code == 403  # the API's answer to a rep


async def test_overdue_collections_by_rep_and_territory(client, mailbox, app, admin_db):
    from app import db
    from app.deals.collections.items import start_collections

    f = await field(client, mailbox, app)
    d = await deal(client, f.rep, f.customers[0]["id"], amount="50000.00")
    async with db.transaction(UUID(f.owner.tenant_id)) as tx:
        await start_collections(tx, UUID(d["id"]), datetime.now(UTC) - timedelta(days=90))
    api = await client.get("/api/v1/collections/overdue", headers=f.manager.headers)
    [group] = api.json()
    await sign_in(client, f.manager)
    page = (await client.get("/team/collections")).text
    row = f'data-group="{group["owner_membership_id"]}:{group["territory_id"]}"'
    assert row in page and f'data-outstanding="{group["outstanding"]}"' in page
    assert f"<td data-count>{group['count']}</td>" in page
    other = (await client.get("/team/collections", params={"territory_id": f.other_province["id"]})).text
    assert row not in other and "No collection is overdue." in other
    dash = (await client.get("/team")).text
    assert f'data-overdue="{group["owner_membership_id"]}"' in dash
