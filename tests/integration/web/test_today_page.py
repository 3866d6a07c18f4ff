"""Today (``/``) and ``/tasks`` over HTTP: the rep's due and overdue tasks with done / skip in place
(CSRF header required), their customers nearing the reclaim with the days left, the empty states, and
another tenant's task id answering the 404 page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.factories import customer, db_value
from tests.factories import today as tenant_today
from tests.helpers import Member
from tests.integration.customers.pool.support import age, team
from tests.integration.web.test_app_pages import HTMX, sign_in


async def make_task(client: Any, who: Member, customer_id: str, due_in_days: int, note: str) -> str:
    due = (tenant_today() + timedelta(days=due_in_days)).isoformat()
    r = await client.post(
        "/api/v1/tasks",
        json={"customer_id": customer_id, "kind": "call", "due_on": due, "note": note},
        headers=who.headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_today_lists_due_tasks_and_reclaim_warnings_and_closes_tasks(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    soon = await customer(
        client,
        t.owner,
        t.territory["id"],
        grade="B",
        owner_membership_id=rep.membership_id,
        full_name="苏州青禾软件有限公司",
    )
    later = await customer(
        client,
        t.owner,
        t.territory["id"],
        grade="B",
        owner_membership_id=rep.membership_id,
        full_name="无锡远山科技有限公司",
    )
    await age(admin_db, soon["id"], 28)  # due in 2 days: inside the 3-day warning window
    await age(admin_db, later["id"], 20)  # due in 10 days: no warning yet
    overdue = await make_task(client, rep, later["id"], 1, "回电确认报价")
    await db_value(  # a task cannot be made due in the past: let two days pass
        admin_db, "UPDATE sales_tasks SET due_on = due_on - 3 WHERE id = $1::uuid RETURNING id", overdue
    )
    future = await make_task(client, rep, later["id"], 5, "下周演示")

    csrf = await sign_in(client, rep)
    page = await client.get("/")
    assert page.status_code == 200
    assert (
        f'id="task-{overdue}"' in page.text and "回电确认报价" in page.text and "Overdue since" in page.text
    )
    assert f'id="task-{future}"' not in page.text  # not due yet: only on /tasks
    assert f'id="reclaim-{soon["id"]}"' in page.text and "(2 days left)" in page.text
    assert f'id="reclaim-{later["id"]}"' not in page.text
    assert f'id="task-{future}"' in (await client.get("/tasks")).text

    # an unsafe request without the CSRF header is refused, as in the API
    r = await client.post(f"/tasks/{overdue}/done", headers=HTMX)
    assert r.status_code == 403
    headers = {**HTMX, "X-CSRF-Token": csrf}
    r = await client.post(f"/tasks/{future}/skip", data={"reason": " "}, headers=headers)
    assert r.status_code == 422 and 'class="error"' in r.text and "<html" not in r.text  # inline
    r = await client.post(f"/tasks/{overdue}/done", headers=headers)
    assert r.status_code == 200 and "Marked done." in r.text
    assert f'id="task-actions-{overdue}" hx-swap-oob="true"' in r.text
    r = await client.post(f"/tasks/{overdue}/done", headers=headers)
    assert r.status_code == 409 and "already closed" in r.text
    r = await client.post(f"/tasks/{future}/skip", data={"reason": "客户已停业"}, headers=headers)
    assert r.status_code == 200 and "Skipped." in r.text
    api = (await client.get("/api/v1/tasks", params={"status": "all"}, headers=rep.headers)).json()
    assert {i["id"]: i["status"] for i in api["items"]} == {overdue: "done", future: "skipped"}

    page = await client.get("/")
    assert "No tasks due today." in page.text
    assert "No open tasks." in (await client.get("/tasks")).text


async def test_empty_today_and_another_tenants_task(client, admin_db):
    mine, theirs = await team(client, admin_db, reps=1), await team(client, admin_db, reps=1)
    their_customer = await customer(
        client, theirs.owner, theirs.territory["id"], owner_membership_id=theirs.reps[0].membership_id
    )
    their_task = await make_task(client, theirs.reps[0], their_customer["id"], 1, "别人的任务")

    csrf = await sign_in(client, mine.reps[0])
    page = await client.get("/")
    assert page.status_code == 200 and "别人的任务" not in page.text
    assert "No tasks due today." in page.text
    assert "None of your customers returns to the pool soon." in page.text
    assert "Nothing new." in page.text
    r = await client.post(f"/tasks/{their_task}/done", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in r.text
    r = await client.post(
        f"/tasks/{their_task}/skip", data={"reason": "x"}, headers={**HTMX, "X-CSRF-Token": csrf}
    )
    assert r.status_code == 404 and "<html" not in r.text
    status = (
        await client.get("/api/v1/tasks", params={"status": "all"}, headers=theirs.reps[0].headers)
    ).json()
    assert status["items"][0]["status"] == "open"


async def test_reschedule_a_task_in_place_with_errors_inline(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    mine = await customer(client, t.owner, t.territory["id"], owner_membership_id=rep.membership_id)
    task = await make_task(client, rep, mine["id"], 0, "今天回电")
    other = await team(client, admin_db, reps=1)
    their_customer = await customer(
        client, other.owner, other.territory["id"], owner_membership_id=other.reps[0].membership_id
    )
    their_task = await make_task(client, other.reps[0], their_customer["id"], 1, "别人的任务")

    csrf = await sign_in(client, rep)
    page = await client.get("/")
    assert (
        f'hx-post="/tasks/{task}/reschedule"' in page.text
        and f'min="{tenant_today().isoformat()}"' in page.text
    )
    assert f'hx-post="/tasks/{task}/reschedule"' in (await client.get("/tasks")).text
    url = f"/tasks/{task}/reschedule"
    headers = {**HTMX, "X-CSRF-Token": csrf}
    assert (await client.post(url, data={"due_on": "2030-01-01"}, headers=HTMX)).status_code == 403  # no CSRF

    # refusals inline, in the member's words: a day in the past, not a date
    yesterday = (tenant_today() - timedelta(days=1)).isoformat()
    r = await client.post(url, data={"due_on": yesterday}, headers=headers)
    assert r.status_code == 422 and "cannot be due in the past" in r.text and "<html" not in r.text
    r = await client.post(url, data={"due_on": "next week"}, headers=headers)
    assert r.status_code == 422 and "YYYY-MM-DD" in r.text and "<html" not in r.text

    later = (tenant_today() + timedelta(days=6)).isoformat()
    r = await client.post(url, data={"due_on": later}, headers=headers)
    assert r.status_code == 200 and f"Moved to {later}." in r.text
    assert f'id="task-due-{task}" hx-swap-oob="true"' in r.text and f"Due {later}" in r.text
    api = (await client.get("/api/v1/tasks", headers=rep.headers)).json()["items"]
    assert [i["due_on"] for i in api if i["id"] == task] == [later]
    page = await client.get("/")
    assert f'id="task-{task}"' not in page.text  # not due today any more: only on /tasks
    assert f'id="task-{task}"' in (await client.get("/tasks")).text

    # another tenant's task: the 404 fragment; a closed task: the 409 inline
    r = await client.post(f"/tasks/{their_task}/reschedule", data={"due_on": later}, headers=headers)
    assert r.status_code == 404 and "<html" not in r.text
    r = await client.post(f"/tasks/{task}/skip", data={"reason": "客户已停业"}, headers=headers)
    assert r.status_code == 200
    r = await client.post(url, data={"due_on": later}, headers=headers)
    assert r.status_code == 409 and "already closed" in r.text

    # in Chinese
    await client.post("/language", data={"locale": "zh-CN"}, headers=headers)
    tomorrow = (tenant_today() + timedelta(days=1)).isoformat()
    fresh = await make_task(client, rep, mine["id"], 0, "再约")
    r = await client.post(f"/tasks/{fresh}/reschedule", data={"due_on": tomorrow}, headers=headers)
    assert r.status_code == 200 and f"已改到 {tomorrow}。" in r.text
    assert "改期" in (await client.get("/tasks")).text
