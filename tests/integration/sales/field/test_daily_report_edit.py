"""Editing a filed daily report over the API (``PATCH /api/v1/daily-reports/{id}``): its author
changes the notes and may refresh the figures from the day's data, until the end of the day after
filing (then 409); a manager who reads it may not (403); another team's or tenant's id is 404; bad
input is 422 and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from tests.factories import db_rows, db_value, today
from tests.helpers import signup
from tests.integration.sales.field.support import field, followup

URL = "/api/v1/daily-reports"


async def test_the_author_edits_notes_and_refreshes_figures_inside_the_window(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    c1, _ = f.customers
    r = await client.post(
        URL,
        json={
            "report_date": today().isoformat(),
            "competitor_news": "对手降价",
            "customer_feedback": "交付慢",
        },
        headers=f.rep.headers,
    )
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["updated_at"] is None and report["figures"]["calls"] == 0
    url = f"{URL}/{report['id']}"

    # a call logged after filing: the figures stay as filed unless refreshed
    await followup(client, f.rep, c1["id"], "call", "conversation")
    r = await client.patch(url, json={"competitor_news": "对手降价 5%"}, headers=f.rep.headers)
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["competitor_news"] == "对手降价 5%" and edited["customer_feedback"] == "交付慢"
    assert edited["figures"]["calls"] == 0 and edited["updated_at"] is not None
    r = await client.patch(
        url, json={"customer_feedback": None, "refresh_figures": True}, headers=f.rep.headers
    )
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["customer_feedback"] is None and edited["competitor_news"] == "对手降价 5%"
    assert edited["figures"]["calls"] == 1
    assert (await client.get(url, headers=f.manager.headers)).json()["figures"]["calls"] == 1
    actions = await db_rows(
        admin_db, "SELECT action FROM audit_log WHERE subject_id = $1 ORDER BY id", report["id"]
    )
    assert [a["action"] for a in actions] == [
        "daily_report.filed",
        "daily_report.edited",
        "daily_report.edited",
    ]

    # bad input: too long, an unknown field, a wrong type; nothing changes
    for body in ({"competitor_news": "长" * 5001}, {"report_date": "2030-01-01"}, {"refresh_figures": "yes"}):
        r = await client.patch(url, json=body, headers=f.rep.headers)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(url, headers=f.rep.headers)).json()["competitor_news"] == "对手降价 5%"

    # the manager reads it but may not edit it; another team's manager, a teammate and another tenant: 404
    r = await client.patch(url, json={"competitor_news": "经理改的"}, headers=f.manager.headers)
    assert r.status_code == 403
    stranger = await signup(client)
    for who in (f.other_manager, f.rep2, stranger):
        r = await client.patch(url, json={"competitor_news": "x"}, headers=who.headers)
        assert r.status_code == 404, r.text
    r = await client.patch(f"{URL}/{uuid4()}", json={"competitor_news": "x"}, headers=f.rep.headers)
    assert r.status_code == 404
    assert (await client.get(url, headers=f.rep.headers)).json()["competitor_news"] == "对手降价 5%"


async def test_the_edit_window_closes_at_the_end_of_the_day_after_filing(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    day = (today() - timedelta(days=3)).isoformat()
    r = await client.post(URL, json={"report_date": day}, headers=f.rep.headers)
    assert r.status_code == 201
    report = r.json()
    url = f"{URL}/{report['id']}"
    # filed today for an earlier day: editable through tomorrow, whatever the report's own day
    assert report["editable_until"].startswith((today() + timedelta(days=2)).isoformat())
    assert (
        await client.patch(url, json={"competitor_news": "补充"}, headers=f.rep.headers)
    ).status_code == 200

    # filed yesterday: still editable today; filed two days ago: closed
    await db_value(
        admin_db,
        "UPDATE daily_reports SET created_at = now() - interval '1 day' WHERE id = $1 RETURNING id",
        report["id"],
    )
    assert (
        await client.patch(url, json={"competitor_news": "再补充"}, headers=f.rep.headers)
    ).status_code == 200
    await db_value(
        admin_db,
        "UPDATE daily_reports SET created_at = now() - interval '2 days' WHERE id = $1 RETURNING id",
        report["id"],
    )
    r = await client.patch(url, json={"competitor_news": "太晚了"}, headers=f.rep.headers)
    assert r.status_code == 409 and "end of the day after it was filed" in r.json()["detail"]
    assert (await client.get(url, headers=f.rep.headers)).json()["competitor_news"] == "再补充"
