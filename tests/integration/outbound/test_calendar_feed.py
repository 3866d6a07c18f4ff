"""The member's private calendar feed: their visit-plan items, open tasks and return visits, valid
RFC 5545 as a real parser (``icalendar``) reads it, visits at the right instant of the company's time
zone; only at its secret address, revoked and replaced from the member's own settings, and nobody
else's feed at another company's address."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from tests.factories import assign, customer, db_value, staff, territory, today
from tests.helpers import run_jobs, signup


async def _feed(client: Any, url: str) -> Any:
    r = await client.get(url.removeprefix("http://testserver.local"))
    return r


async def test_the_feed_holds_the_members_day_and_parses(client, app, mailbox, admin_db) -> None:
    owner = await signup(client)
    rep = await staff(client, owner, mailbox, app, role="rep")
    area = await territory(client, owner, "华东")
    await assign(client, owner, area["id"], rep, "rep")
    company = await customer(client, rep, area["id"], full_name="上海启航; 软件, 有限公司")
    tomorrow = today() + timedelta(days=1)
    plan = {
        "plan_date": tomorrow.isoformat(),
        "items": [
            {
                "customer_id": company["id"],
                "planned_time": "09:30:00",
                "purpose": "development",
                "note": "带样品\n第二行",
            }
        ],
    }
    r = await client.post("/api/v1/visit-plans", json=plan, headers=rep.headers)
    assert r.status_code == 201, r.text
    task = {
        "customer_id": company["id"],
        "kind": "call",
        "due_on": (tomorrow + timedelta(days=2)).isoformat(),
    }
    r = await client.post("/api/v1/tasks", json=task, headers=rep.headers)
    assert r.status_code == 201, r.text
    await db_value(
        admin_db,
        "INSERT INTO return_visits (tenant, customer_id, assignee_membership_id, offset_days,"
        " scheduled_from, due_on) VALUES ($1::uuid, $2::uuid, $3::uuid, 30, $4, $5) RETURNING id",
        rep.tenant_id,
        company["id"],
        rep.membership_id,
        today(),
        today() + timedelta(days=30),
    )

    assert (await client.get("/api/v1/me/calendar-feed", headers=rep.headers)).json()["active"] is False
    r = await client.post("/api/v1/me/calendar-feed", headers=rep.headers)
    assert r.status_code == 201 and r.json()["active"] is True, r.text
    url = r.json()["url"]
    assert url.startswith("http://testserver.local/calendar/") and url.endswith(".ics")
    status = (await client.get("/api/v1/me/calendar-feed", headers=rep.headers)).json()
    assert status["active"] is True and status["url"] is None  # shown once

    r = await _feed(client, url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert b"\r\n" in r.content and all(len(line) <= 75 for line in r.content.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(r.content)
    assert str(cal["VERSION"]) == "2.0" and "PRODID" in cal
    events = {str(e["UID"]).split("-", 1)[0]: e for e in cal.walk("VEVENT")}
    assert set(events) == {"visit", "task", "return"}
    visit = events["visit"]
    start = visit.decoded("DTSTART")
    expected = datetime.combine(tomorrow, time(9, 30), tzinfo=ZoneInfo("Asia/Shanghai"))
    assert start == expected and start.tzinfo is not None and start.utcoffset() == timedelta(0)
    assert visit.decoded("DTEND") - start == timedelta(hours=1)
    assert str(visit["SUMMARY"]) == "Visit: 上海启航; 软件, 有限公司"  # escaped and read back
    assert str(visit["DESCRIPTION"]) == "development\n带样品\n第二行"
    assert str(visit["URL"]).endswith(f"/customers/{company['id']}")
    call = events["task"]
    assert call.decoded("DTSTART") == tomorrow + timedelta(days=2) and str(call["SUMMARY"]).startswith(
        "Call: "
    )
    assert events["return"].decoded("DTSTART") == today() + timedelta(days=30)
    for event in events.values():
        assert event.decoded("DTSTAMP").tzinfo == UTC or event.decoded("DTSTAMP").utcoffset() == timedelta(0)

    # another member's feed holds none of it; the owner's is their own
    r = await client.post("/api/v1/me/calendar-feed", headers=owner.headers)
    theirs = icalendar.Calendar.from_ical((await _feed(client, r.json()["url"])).content)
    assert list(theirs.walk("VEVENT")) == []

    # a new address replaces the old one; revoking ends it
    renewed = (await client.post("/api/v1/me/calendar-feed", headers=rep.headers)).json()["url"]
    assert renewed != url
    assert (await _feed(client, url)).status_code == 404
    assert (await _feed(client, renewed)).status_code == 200
    assert (await client.delete("/api/v1/me/calendar-feed", headers=rep.headers)).status_code == 204
    assert (await _feed(client, renewed)).status_code == 404
    await run_jobs(app)


async def test_a_wrong_address_finds_nothing(client) -> None:
    owner = await signup(client)
    stranger = await signup(client)
    url = (await client.post("/api/v1/me/calendar-feed", headers=owner.headers)).json()["url"]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    forged = stranger.tenant_id.replace("-", "") + token[32:]  # the secret under another company
    for path in (
        f"/calendar/{forged}.ics",
        f"/calendar/{token}",
        f"/calendar/{token[:-1]}.ics",
        "/calendar/x.ics",
    ):
        assert (await client.get(path)).status_code == 404, path
    assert (await client.get(f"/calendar/{token}.ics")).status_code == 200
