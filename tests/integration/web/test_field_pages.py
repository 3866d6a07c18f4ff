"""The field pages over HTTP: plan tomorrow's visits from one's customers (search picker, time,
purpose), submit the plan (its manager is notified; Today shows it waiting), log a planned visit
(the follow-up shows in the customer's timeline); the daily report prefilled from the day and filed
once; a market incident; return visits logged; /tasks paging; /notifications read one and all.
Bad input answers inline and saves nothing; another tenant's ids answer the 404 page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.factories import assign, customer, db_value
from tests.factories import today as tenant_today
from tests.helpers import Member
from tests.integration.customers.pool.support import Team, quick_members, team
from tests.integration.deals.support import deal, line, quote
from tests.integration.sales.growth.support import signed, world
from tests.integration.web.support import HTMX, htmx, sign_in


async def field_team(client: Any, admin_db: str) -> tuple[Team, Member, list[dict[str, Any]]]:
    """A rep with two customers and a manager of their territory."""
    t = await team(client, admin_db, reps=1)
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    await assign(client, t.owner, t.territory["id"], manager, "manager")
    rep = t.reps[0]
    names = ("苏州青禾软件有限公司", "无锡远山科技有限公司")
    made = [
        await customer(client, t.owner, t.territory["id"], owner_membership_id=rep.membership_id, full_name=n)
        for n in names
    ]
    return t, manager, made


async def plans(admin_db: str, tenant_id: str) -> int:
    return int(await db_value(admin_db, "SELECT count(*) FROM visit_plans WHERE tenant = $1", tenant_id))


async def test_plan_tomorrow_submit_and_log_a_visit(client, admin_db):
    t, manager, (qinghe, yuanshan) = await field_team(client, admin_db)
    rep = t.reps[0]
    tomorrow = (tenant_today() + timedelta(days=1)).isoformat()
    csrf = await sign_in(client, rep)
    page = await client.get("/visit-plans")
    assert page.status_code == 200 and f"Plan for {tomorrow}" in page.text
    assert "No visit plan yet." in page.text and qinghe["full_name"] in page.text  # the picker's choices
    assert 'href="/visit-plans"' in (await client.get("/")).text  # the Field entry in the navigation
    picked = await client.get("/visit-plans/customer-picker", params={"q": "远山"}, headers=HTMX)
    assert yuanshan["full_name"] in picked.text and qinghe["full_name"] not in picked.text

    # bad input: inline, nothing saved
    form = {"plan_date": tomorrow, "planned_time": "09:30", "purpose": "development"}
    r = await client.post("/visit-plans", data=form, headers=htmx(csrf))
    assert r.status_code == 422 and "Choose a customer" in r.text and "<html" not in r.text
    r = await client.post(
        "/visit-plans", data={**form, "customer_id": qinghe["id"], "purpose": "party"}, headers=htmx(csrf)
    )
    assert r.status_code == 422 and "Choose the purpose of the visit" in r.text
    r = await client.post(
        "/visit-plans", data={**form, "customer_id": qinghe["id"], "planned_time": "late"}, headers=htmx(csrf)
    )
    assert r.status_code == 422 and "Give the time of the visit" in r.text
    yesterday = (tenant_today() - timedelta(days=1)).isoformat()
    r = await client.post(
        "/visit-plans", data={**form, "customer_id": qinghe["id"], "plan_date": yesterday}, headers=htmx(csrf)
    )
    assert r.status_code == 422 and "A plan is for today or a later day" in r.text
    assert await plans(admin_db, t.owner.tenant_id) == 0

    # add two visits, remove one, add it again, submit
    r = await client.post("/visit-plans", data={**form, "customer_id": qinghe["id"]}, headers=htmx(csrf))
    assert (
        r.status_code == 200 and "Added to the plan." in r.text and 'id="plan" hx-swap-oob="true"' in r.text
    )
    plan_id = str(await db_value(admin_db, "SELECT id FROM visit_plans WHERE tenant = $1", t.owner.tenant_id))
    second = {**form, "customer_id": yuanshan["id"], "planned_time": "14:00", "purpose": "collection"}
    r = await client.post(f"/visit-plans/{plan_id}/items", data=second, headers=htmx(csrf))
    assert r.status_code == 200 and "14:00" in r.text and "Collect payment" in r.text
    items = (await client.get(f"/api/v1/visit-plans/{plan_id}", headers=rep.headers)).json()["items"]
    assert [(i["customer_id"], i["planned_time"], i["purpose"]) for i in items] == [
        (qinghe["id"], "09:30:00", "development"),
        (yuanshan["id"], "14:00:00", "collection"),
    ]
    r = await client.post(f"/visit-plans/{plan_id}/items/{items[1]['id']}/remove", headers=htmx(csrf))
    assert r.status_code == 200 and "Removed from the plan." in r.text
    r = await client.post(f"/visit-plans/{plan_id}/items", data=second, headers=htmx(csrf))
    r = await client.post(f"/visit-plans/{plan_id}/submit", headers=htmx(csrf))
    assert r.status_code == 200 and "Awaiting approval" in r.text and "Add a visit" not in r.text
    r = await client.post(f"/visit-plans/{plan_id}/items", data=second, headers=htmx(csrf))
    assert r.status_code == 409 and 'class="error"' in r.text  # a submitted plan is not changed
    home = await client.get("/")
    assert f'id="waiting-plan-{plan_id}"' in home.text and f"Visit plan for {tomorrow}" in home.text

    # log a planned visit: a summary is needed; then the follow-up is in the customer's timeline
    items = (await client.get(f"/api/v1/visit-plans/{plan_id}", headers=rep.headers)).json()["items"]
    done_url = f"/visit-plans/{plan_id}/items/{items[0]['id']}/done"
    r = await client.post(done_url, data={"summary": " ", "result": "appointment"}, headers=htmx(csrf))
    assert r.status_code == 422 and "Write what happened" in r.text
    followups = "SELECT count(*) FROM customer_followups WHERE customer_id = $1::uuid"
    assert await db_value(admin_db, followups, qinghe["id"]) == 0
    r = await client.post(
        done_url, data={"summary": "见了采购经理", "result": "appointment"}, headers=htmx(csrf)
    )
    assert r.status_code == 200 and "Visit logged." in r.text and "1 of 2 visits done" in r.text
    assert await db_value(admin_db, followups, qinghe["id"]) == 1
    assert "见了采购经理" in (await client.get(f"/customers/{qinghe['id']}")).text
    r = await client.post(done_url, data={"summary": "again"}, headers=htmx(csrf))
    assert r.status_code == 409 and "logged already" in r.text

    # the manager was told; the notification links to the plan
    await sign_in(client, manager)
    inbox = await client.get("/notifications")
    assert f'href="/visit-plans/{plan_id}"' in inbox.text and "submitted a visit plan" in inbox.text
    seen = await client.get(f"/visit-plans/{plan_id}")
    assert seen.status_code == 200 and 'href="/approvals?kind=visit_plan"' in seen.text


async def test_today_shows_todays_plan_and_marks_a_visit_done(client, admin_db):
    t, _, (qinghe, _) = await field_team(client, admin_db)
    rep = t.reps[0]
    body = {
        "plan_date": tenant_today().isoformat(),
        "items": [{"customer_id": qinghe["id"], "planned_time": "10:15:00", "purpose": "service"}],
    }
    plan = (await client.post("/api/v1/visit-plans", json=body, headers=rep.headers)).json()
    csrf = await sign_in(client, rep)
    home = await client.get("/")
    assert f'id="plan-item-{plan["items"][0]["id"]}"' in home.text and "10:15" in home.text
    assert "Mark done" not in home.text and "Submit this plan to log its visits." in home.text
    await client.post(f"/api/v1/visit-plans/{plan['id']}/submit", headers=rep.headers)
    home = await client.get("/")
    assert "Mark done" in home.text and "Awaiting approval" in home.text
    r = await client.post(
        f"/visit-plans/{plan['id']}/items/{plan['items'][0]['id']}/done",
        data={"summary": "维护回访"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and f'id="plan-progress-{plan["id"]}" hx-swap-oob="true"' in r.text


async def test_daily_report_prefilled_from_the_day_and_filed_once(client, admin_db):
    t, _, (qinghe, _) = await field_team(client, admin_db)
    rep = t.reps[0]
    r = await client.post(
        f"/api/v1/customers/{qinghe['id']}/followups",
        json={"kind": "call", "summary": "电话沟通", "result": "conversation"},
        headers=rep.headers,
    )
    assert r.status_code == 201
    csrf = await sign_in(client, rep)
    today = tenant_today().isoformat()
    page = await client.get("/daily-reports")
    assert page.status_code == 200 and f"Report for {today}" in page.text
    assert "<dt>Calls</dt><dd>1</dd>" in page.text and "No report filed yet." in page.text

    reports = "SELECT count(*) FROM daily_reports WHERE tenant = $1"
    bad = {"report_date": today, "competitor_news": "对手降价", "incident_title": "窜货"}
    r = await client.post("/daily-reports", data=bad, headers=htmx(csrf))
    assert r.status_code == 422 and "Required" in r.text and "<html" not in r.text
    tomorrow = (tenant_today() + timedelta(days=1)).isoformat()
    r = await client.post("/daily-reports", data={"report_date": tomorrow}, headers=htmx(csrf))
    assert r.status_code == 422 and "A report cannot be for a future day" in r.text
    assert await db_value(admin_db, reports, t.owner.tenant_id) == 0

    good = {**bad, "incident_description": "外省代理商低价窜货到苏州", "customer_feedback": "希望加快交付"}
    r = await client.post("/daily-reports", data=good, headers=htmx(csrf))
    assert r.status_code == 200 and "Report filed." in r.text
    report_id = str(
        await db_value(admin_db, "SELECT id FROM daily_reports WHERE tenant = $1", t.owner.tenant_id)
    )
    r = await client.post("/daily-reports", data=good, headers=htmx(csrf))
    assert r.status_code == 409 and "already filed" in r.text
    page = await client.get("/daily-reports")
    assert f'href="/daily-reports/{report_id}"' in page.text and "Filed." in page.text
    one = await client.get(f"/daily-reports/{report_id}")
    assert one.status_code == 200 and "希望加快交付" in one.text and "窜货" in one.text


async def test_a_filed_report_is_edited_in_place_by_its_author(client, admin_db):
    t, manager, (qinghe, _) = await field_team(client, admin_db)
    rep = t.reps[0]
    r = await client.post(
        "/api/v1/daily-reports",
        json={"report_date": tenant_today().isoformat(), "competitor_news": "对手降价"},
        headers=rep.headers,
    )
    report = r.json()
    await client.post(
        f"/api/v1/customers/{qinghe['id']}/followups",
        json={"kind": "call", "summary": "电话沟通", "result": "conversation"},
        headers=rep.headers,
    )

    csrf = await sign_in(client, rep)
    url = f"/daily-reports/{report['id']}"
    page = await client.get(url)
    assert (
        page.status_code == 200 and f'hx-post="{url}"' in page.text and "You can edit it until" in page.text
    )
    assert ">对手降价</textarea>" in page.text and "<dt>Calls</dt><dd>0</dd>" in page.text
    assert (await client.post(url, data={"competitor_news": "x"}, headers=HTMX)).status_code == 403  # CSRF

    r = await client.post(url, data={"competitor_news": "长" * 5001}, headers=htmx(csrf))
    assert r.status_code == 422 and "This is too long" in r.text and "<html" not in r.text
    r = await client.post(
        url,
        data={"competitor_news": "对手降价 5%", "customer_feedback": "希望加快交付", "refresh_figures": "1"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and "Report saved." in r.text and "<html" not in r.text
    assert 'id="report-notes" hx-swap-oob="true"' in r.text and "希望加快交付" in r.text
    assert "<dt>Calls</dt><dd>1</dd>" in r.text and "Edited " in r.text
    got = (await client.get(f"/api/v1/daily-reports/{report['id']}", headers=rep.headers)).json()
    assert got["competitor_news"] == "对手降价 5%" and got["figures"]["calls"] == 1

    # once the window has closed: no form, and a late save is the 409 inline
    await db_value(
        admin_db,
        "UPDATE daily_reports SET created_at = now() - interval '2 days' WHERE id = $1::uuid RETURNING id",
        report["id"],
    )
    page = await client.get(url)
    assert page.status_code == 200 and f'hx-post="{url}"' not in page.text and "希望加快交付" in page.text
    r = await client.post(url, data={"competitor_news": "太晚了"}, headers=htmx(csrf))
    assert r.status_code == 409 and "end of the day after it was filed" in r.text and "<html" not in r.text

    # the manager reads it without an edit form; their save is refused; in Chinese for the rep
    manager_csrf = await sign_in(client, manager)
    page = await client.get(url)
    assert page.status_code == 200 and "对手降价 5%" in page.text and f'hx-post="{url}"' not in page.text
    r = await client.post(url, data={"competitor_news": "经理改的"}, headers=htmx(manager_csrf))
    assert r.status_code == 403 and "Only the author can edit a daily report" in r.text
    csrf = await sign_in(client, rep)
    await client.post("/language", data={"locale": "zh-CN"}, headers=htmx(csrf))
    r = await client.post(url, data={"competitor_news": "太晚了"}, headers=htmx(csrf))
    assert r.status_code == 409 and "日报可在提交次日结束前修改" in r.text


async def test_market_incident_form_and_page(client, admin_db):
    t, manager, (qinghe, _) = await field_team(client, admin_db)
    rep = t.reps[0]
    csrf = await sign_in(client, rep)
    page = await client.get("/market-incidents")
    assert page.status_code == 200 and "No market incident reported." in page.text
    count = "SELECT count(*) FROM market_incidents WHERE tenant = $1"
    r = await client.post("/market-incidents", data={"title": " ", "description": "x"}, headers=htmx(csrf))
    assert r.status_code == 422 and "Required" in r.text
    r = await client.post(
        "/market-incidents",
        data={"title": "低价窜货", "description": "外省代理商", "severity": "extreme"},
        headers=htmx(csrf),
    )
    assert r.status_code == 422 and "Use normal or serious" in r.text
    assert await db_value(admin_db, count, t.owner.tenant_id) == 0
    r = await client.post(
        "/market-incidents",
        data={
            "title": "低价窜货",
            "description": "外省代理商",
            "severity": "serious",
            "customer_id": qinghe["id"],
        },
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and "Your managers have been told." in r.text
    incident_id = str(
        await db_value(admin_db, "SELECT id FROM market_incidents WHERE tenant = $1", t.owner.tenant_id)
    )
    assert f'href="/market-incidents/{incident_id}"' in (await client.get("/market-incidents")).text
    one = await client.get(f"/market-incidents/{incident_id}")
    assert one.status_code == 200 and "外省代理商" in one.text and "Close the incident" not in one.text
    r = await client.post(f"/market-incidents/{incident_id}/close", headers=htmx(csrf))
    assert r.status_code == 403  # the reporter does not close their own

    csrf = await sign_in(client, manager)
    assert "Close the incident" in (await client.get(f"/market-incidents/{incident_id}")).text
    r = await client.post(f"/market-incidents/{incident_id}/close", headers=htmx(csrf))
    assert r.status_code == 200 and "Closed." in r.text
    status = "SELECT status FROM market_incidents WHERE id = $1::uuid"
    assert await db_value(admin_db, status, incident_id) == "closed"


async def test_another_tenants_ids_are_the_404_page(client, admin_db):
    theirs, _, (their_customer, _) = await field_team(client, admin_db)
    them = theirs.reps[0]
    plan = (
        await client.post(
            "/api/v1/visit-plans",
            json={
                "plan_date": tenant_today().isoformat(),
                "items": [
                    {"customer_id": their_customer["id"], "planned_time": "09:00:00", "purpose": "service"}
                ],
            },
            headers=them.headers,
        )
    ).json()
    report = (
        await client.post(
            "/api/v1/daily-reports", json={"report_date": tenant_today().isoformat()}, headers=them.headers
        )
    ).json()
    incident = (
        await client.post(
            "/api/v1/market-incidents", json={"title": "t", "description": "d"}, headers=them.headers
        )
    ).json()
    await client.post(f"/api/v1/visit-plans/{plan['id']}/submit", headers=them.headers)
    notification = str(
        await db_value(
            admin_db, "SELECT id FROM notifications WHERE tenant = $1 LIMIT 1", theirs.owner.tenant_id
        )
    )

    mine, _, _ = await field_team(client, admin_db)
    csrf = await sign_in(client, mine.reps[0])
    for path in (
        f"/visit-plans/{plan['id']}",
        f"/daily-reports/{report['id']}",
        f"/market-incidents/{incident['id']}",
    ):
        r = await client.get(path)
        assert r.status_code == 404 and "<h1>Not found</h1>" in r.text, path
    item = plan["items"][0]["id"]
    for path, data in (
        (f"/visit-plans/{plan['id']}/submit", {}),
        (
            f"/visit-plans/{plan['id']}/items",
            {"customer_id": their_customer["id"], "planned_time": "09:00", "purpose": "service"},
        ),
        (f"/visit-plans/{plan['id']}/items/{item}/done", {"summary": "x"}),
        (f"/market-incidents/{incident['id']}/close", {}),
        (f"/notifications/{notification}/read", {}),
        (f"/daily-reports/{report['id']}", {"competitor_news": "改别人的"}),
    ):
        r = await client.post(path, data=data, headers=htmx(csrf))
        assert r.status_code == 404 and "<html" not in r.text, path
    # their customer is not one I can plan
    r = await client.post(
        "/visit-plans",
        data={
            "plan_date": tenant_today().isoformat(),
            "customer_id": their_customer["id"],
            "planned_time": "09:00",
            "purpose": "service",
        },
        headers=htmx(csrf),
    )
    assert r.status_code == 422 and "No customer you work with has this id" in r.text
    read = "SELECT read_at FROM notifications WHERE id = $1::uuid"
    assert await db_value(admin_db, read, notification) is None


async def test_notifications_read_one_and_all(client, admin_db):
    t, manager, (qinghe, _) = await field_team(client, admin_db)
    rep = t.reps[0]
    for days in (1, 2, 3):
        body = {
            "plan_date": (tenant_today() + timedelta(days=days)).isoformat(),
            "items": [{"customer_id": qinghe["id"], "planned_time": "09:00:00", "purpose": "service"}],
        }
        plan = (await client.post("/api/v1/visit-plans", json=body, headers=rep.headers)).json()
        await client.post(f"/api/v1/visit-plans/{plan['id']}/submit", headers=rep.headers)
    csrf = await sign_in(client, manager)
    page = await client.get("/notifications")
    assert page.status_code == 200 and page.text.count("submitted a visit plan") == 3
    assert 'class="bell" href="/notifications"' in page.text and "3 unread" in page.text
    first = str(
        await db_value(
            admin_db,
            "SELECT id FROM notifications WHERE membership_id = $1::uuid ORDER BY created_at LIMIT 1",
            manager.membership_id,
        )
    )
    r = await client.post(f"/notifications/{first}/read", headers=htmx(csrf))
    assert r.status_code == 200 and "Marked read." in r.text and "2 unread" in r.text
    assert 'hx-swap-oob="outerHTML:.topbar .bell"' in r.text
    unread = "SELECT count(*) FROM notifications WHERE membership_id = $1::uuid AND read_at IS NULL"
    assert await db_value(admin_db, unread, manager.membership_id) == 2
    assert (await client.get("/notifications", params={"unread": "1"})).text.count(
        "submitted a visit plan"
    ) == 2
    r = await client.post("/notifications/read-all", headers=htmx(csrf))
    assert r.status_code == 200 and "Marked 2 read." in r.text and "Mark read" not in r.text
    assert r.text.count("submitted a visit plan") == 3  # the list anew, all read
    assert await db_value(admin_db, unread, manager.membership_id) == 0
    assert "No unread notification." in (await client.get("/notifications", params={"unread": "1"})).text
    api = await client.post("/api/v1/notifications/read-all", headers=manager.headers)
    assert api.status_code == 200 and api.json() == {"marked": 0}

    # paging: "more" loads the rest in place
    import app.web.notifications as module

    module_size, module.PAGE_SIZE = module.PAGE_SIZE, 2
    try:
        page = await client.get("/notifications")
        assert page.text.count("submitted a visit plan") == 2 and 'id="notifications-more"' in page.text
        cursor = page.text.split("cursor=")[1].split('"')[0]
        more = await client.get(f"/notifications?cursor={cursor}", headers=HTMX)
        assert more.text.count("submitted a visit plan") == 1 and "<html" not in more.text
    finally:
        module.PAGE_SIZE = module_size


async def test_return_visits_are_logged_and_tasks_page_in_place(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    await signed(client, w.rep, w.customer["id"])
    csrf = await sign_in(client, w.rep)
    page = await client.get("/return-visits")
    visits = (await client.get("/api/v1/return-visits", headers=w.rep.headers)).json()["items"]
    assert page.status_code == 200 and all(f'id="return-visit-{v["id"]}"' in page.text for v in visits)
    first = visits[0]["id"]
    r = await client.post(f"/return-visits/{first}/log", data={"satisfaction": "9"}, headers=htmx(csrf))
    assert r.status_code == 422 and "Rate the satisfaction from 1 to 5" in r.text
    status = "SELECT status FROM return_visits WHERE id = $1::uuid"
    assert await db_value(admin_db, status, first) == "scheduled"
    r = await client.post(
        f"/return-visits/{first}/log",
        data={"satisfaction": "4", "notes": "使用顺利", "new_needs": "再买 10 个席位"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and "Satisfaction 4/5" in r.text
    assert await db_value(admin_db, status, first) == "done"
    assert "使用顺利" in (await client.get(f"/customers/{w.customer['id']}")).text
    done = await client.get("/return-visits", params={"status": "done"})
    assert f'id="return-visit-{first}"' in done.text and "再买 10 个席位" in done.text
    assert "Make a deal of these needs" in done.text
    deals = "SELECT count(*) FROM deals WHERE customer_id = $1::uuid"
    before = await db_value(admin_db, deals, w.customer["id"])
    r = await client.post(
        f"/return-visits/{first}/deal", data={"title": "增购席位", "amount": "ten"}, headers=htmx(csrf)
    )
    assert r.status_code == 422 and "Give the amount as a number" in r.text
    assert await db_value(admin_db, deals, w.customer["id"]) == before
    r = await client.post(
        f"/return-visits/{first}/deal", data={"title": "增购席位", "amount": "20000"}, headers=htmx(csrf)
    )
    assert r.status_code == 200 and "Deal made." in r.text and "增购席位" in r.text
    assert await db_value(admin_db, deals, w.customer["id"]) == before + 1
    r = await client.post(f"/return-visits/{first}/deal", data={"title": "再一次"}, headers=htmx(csrf))
    assert r.status_code == 409 and 'class="error"' in r.text

    # /tasks: a return visit's task links to its log form; "more" pages in place
    import app.web.home as home

    size, home.PAGE_SIZE = home.PAGE_SIZE, 1
    try:
        tasks = await client.get("/tasks")
        assert "/return-visits#return-visit-" in tasks.text and 'id="tasks-more"' in tasks.text
        cursor = tasks.text.split("/tasks?cursor=")[1].split('"')[0]
        more = await client.get(f"/tasks?cursor={cursor}", headers=HTMX)
        assert more.status_code == 200 and 'class="item"' in more.text and "<html" not in more.text
    finally:
        home.PAGE_SIZE = size


async def test_a_returned_plan_shows_the_comment_and_can_be_changed_and_submitted_again(client, admin_db):
    t, manager, (qinghe, yuanshan) = await field_team(client, admin_db)
    rep = t.reps[0]
    tomorrow = (tenant_today() + timedelta(days=1)).isoformat()
    body = {
        "plan_date": tomorrow,
        "items": [{"customer_id": qinghe["id"], "planned_time": "09:00:00", "purpose": "service"}],
    }
    plan = (await client.post("/api/v1/visit-plans", json=body, headers=rep.headers)).json()
    await client.post(f"/api/v1/visit-plans/{plan['id']}/submit", headers=rep.headers)
    r = await client.post(
        f"/api/v1/visit-plans/{plan['id']}/return", json={"comment": "先去远山"}, headers=manager.headers
    )
    assert r.status_code == 200, r.text
    csrf = await sign_in(client, rep)
    page = await client.get("/visit-plans")
    assert "Returned with a comment: 先去远山" in page.text and "Add a visit" in page.text
    form = {"plan_date": tomorrow, "customer_id": yuanshan["id"], "planned_time": "08:30", "purpose": "order"}
    r = await client.post(f"/visit-plans/{plan['id']}/items", data=form, headers=htmx(csrf))
    assert r.status_code == 200 and "无锡远山科技有限公司" in r.text
    r = await client.post(f"/visit-plans/{plan['id']}/submit", headers=htmx(csrf))
    assert r.status_code == 200 and "Awaiting approval" in r.text
    status = "SELECT status FROM visit_plans WHERE id = $1::uuid"
    assert await db_value(admin_db, status, plan["id"]) == "submitted"


async def test_today_lists_the_quote_approvals_the_member_asked_for(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    r = await quote(
        client, w.rep, d["id"], [line(w.products["erp"], "1", unit_price="4000.00")], formal=False
    )
    assert r.status_code == 201, r.text
    approval = (await client.post(f"/api/v1/quotes/{r.json()['id']}/submit", headers=w.rep.headers)).json()
    await sign_in(client, w.rep)
    home = await client.get("/")
    assert f'id="waiting-approval-{approval["id"]}"' in home.text and f'href="/deals/{d["id"]}"' in home.text
    assert "Quote, round 1" in home.text and "Nothing you asked for is waiting." not in home.text
    await sign_in(client, w.manager)  # the manager may decide it: not one they asked for
    home = await client.get("/")
    assert f'id="waiting-approval-{approval["id"]}"' not in home.text
    assert "Nothing you asked for is waiting." in home.text
