"""Rescheduling a task over the API (``PATCH /api/v1/tasks/{id}``): a new due day, today or later in
the tenant's zone; by the assignee or a manager of the customer's territory (anyone else, another
tenant included, gets 404); a closed task is 409; a return visit's task moves its return visit."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from tests.factories import db_rows, today
from tests.helpers import signup
from tests.integration.sales.growth.support import followup, signed, world


async def test_the_assignee_and_their_manager_move_an_open_task(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    due = (today() + timedelta(days=2)).isoformat()
    r = await client.post(
        "/api/v1/tasks",
        json={"customer_id": w.customer["id"], "kind": "visit", "due_on": due, "note": "带实施顾问"},
        headers=w.rep.headers,
    )
    assert r.status_code == 201, r.text
    task = r.json()
    url = f"/api/v1/tasks/{task['id']}"

    later = (today() + timedelta(days=9)).isoformat()
    r = await client.patch(url, json={"due_on": later}, headers=w.rep.headers)
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["due_on"] == later and moved["status"] == "open" and moved["note"] == "带实施顾问"
    listed = (await client.get("/api/v1/tasks", headers=w.rep.headers)).json()["items"]
    assert [t["due_on"] for t in listed if t["id"] == task["id"]] == [later]

    # the province manager may move the rep's task, to today as well
    r = await client.patch(url, json={"due_on": today().isoformat()}, headers=w.manager.headers)
    assert r.status_code == 200 and r.json()["due_on"] == today().isoformat()
    audit = await db_rows(
        admin_db,
        "SELECT data->>'from' AS was, data->>'to' AS now FROM audit_log"
        " WHERE action = 'task.rescheduled' AND subject_id = $1 ORDER BY id",
        task["id"],
    )
    assert [(a["was"], a["now"]) for a in audit] == [(due, later), (later, today().isoformat())]

    # bad input: a day in the past, too far, not a date, unknown fields; nothing changes
    bad = [
        ({"due_on": (today() - timedelta(days=1)).isoformat()}, "due_on"),
        ({"due_on": (today() + timedelta(days=4000)).isoformat()}, "due_on"),
        ({"due_on": "next week"}, None),
        ({}, None),
        ({"due_on": later, "status": "done"}, None),
    ]
    for body, field in bad:
        r = await client.patch(url, json=body, headers=w.rep.headers)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        if field:
            assert r.json()["errors"][0]["field"] == field
    assert (await client.get("/api/v1/tasks", headers=w.rep.headers)).json()["items"][0][
        "due_on"
    ] == today().isoformat()

    # another province's manager and another tenant: 404, as for an unknown id
    other = await signup(client)
    for who in (w.other_manager, other):
        r = await client.patch(url, json={"due_on": later}, headers=who.headers)
        assert r.status_code == 404, r.text
    r = await client.patch(f"/api/v1/tasks/{uuid4()}", json={"due_on": later}, headers=w.rep.headers)
    assert r.status_code == 404

    # a closed task cannot be moved: skipped, or done by a logged follow-up of its kind
    r = await client.post(url + "/skip", json={"reason": "客户已停业"}, headers=w.rep.headers)
    assert r.status_code == 200
    r = await client.patch(url, json={"due_on": later}, headers=w.rep.headers)
    assert r.status_code == 409 and "already closed" in r.json()["detail"]
    call = await client.post(
        "/api/v1/tasks",
        json={"customer_id": w.customer["id"], "kind": "call", "due_on": due},
        headers=w.rep.headers,
    )
    await followup(client, w.rep, w.customer["id"], kind="call")
    r = await client.patch(
        f"/api/v1/tasks/{call.json()['id']}", json={"due_on": later}, headers=w.rep.headers
    )
    assert r.status_code == 409


async def test_a_return_visits_task_moves_its_return_visit(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    await signed(client, w.rep, w.customer["id"])
    tasks = (await client.get("/api/v1/tasks", headers=w.rep.headers)).json()["items"]
    first = tasks[0]
    day = (today() + timedelta(days=12)).isoformat()
    r = await client.patch(f"/api/v1/tasks/{first['id']}", json={"due_on": day}, headers=w.rep.headers)
    assert r.status_code == 200, r.text
    visits = (await client.get("/api/v1/return-visits", headers=w.rep.headers)).json()["items"]
    assert {v["id"]: v["due_on"] for v in visits}[first["return_visit_id"]] == day
