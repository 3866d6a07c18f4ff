from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import assign, customer, staff, territory
from tests.helpers import signup


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_followups_move_last_and_next(client):
    owner = await signup(client)
    t = await territory(client, owner, "南京市")
    made = await customer(client, owner, t["id"])
    url = f"/api/v1/customers/{made['id']}/followups"
    now = datetime.now(UTC).replace(microsecond=0)
    visit_at, next_at = now - timedelta(hours=1), now + timedelta(days=3)
    r = await client.post(
        url,
        json={
            "kind": "visit",
            "summary": "拜访李总，演示财务模块",
            "outcome": "有兴趣",
            "happened_at": iso(visit_at),
            "next_followup_at": iso(next_at),
        },
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["author_name"] == "Owner 王" and r.json()["kind"] == "visit"
    got = (await client.get(f"/api/v1/customers/{made['id']}", headers=owner.headers)).json()
    assert parse(got["last_followup_at"]) == visit_at and parse(got["next_followup_at"]) == next_at

    # logged late, about an older call: neither moves last back nor replaces the plan
    old_at = now - timedelta(days=5)
    r = await client.post(
        url,
        json={
            "kind": "call",
            "summary": "补记：上周电话",
            "happened_at": iso(old_at),
            "next_followup_at": iso(now + timedelta(days=1)),
        },
        headers=owner.headers,
    )
    assert r.status_code == 201
    got = (await client.get(f"/api/v1/customers/{made['id']}", headers=owner.headers)).json()
    assert parse(got["last_followup_at"]) == visit_at and parse(got["next_followup_at"]) == next_at

    # the latest one with a new plan replaces it; without one, keeps it
    r = await client.post(
        url,
        json={"kind": "message", "summary": "微信确认", "next_followup_at": iso(now + timedelta(days=10))},
        headers=owner.headers,
    )
    assert r.status_code == 201
    latest = parse(r.json()["happened_at"])
    got = (await client.get(f"/api/v1/customers/{made['id']}", headers=owner.headers)).json()
    assert parse(got["last_followup_at"]) == latest and parse(got["next_followup_at"]) == now + timedelta(
        days=10
    )

    page1 = (await client.get(url, params={"limit": 2}, headers=owner.headers)).json()
    page2 = (
        await client.get(url, params={"limit": 2, "cursor": page1["next_cursor"]}, headers=owner.headers)
    ).json()
    kinds = [f["kind"] for f in page1["items"] + page2["items"]]
    assert kinds == ["message", "visit", "call"] and page2["next_cursor"] is None


async def test_bad_followups_are_422_and_change_nothing(client):
    owner = await signup(client)
    t = await territory(client, owner, "南京市")
    made = await customer(client, owner, t["id"])
    url = f"/api/v1/customers/{made['id']}/followups"
    now = datetime.now(UTC)
    cases = [
        ({"kind": "telepathy", "summary": "x"}, "kind"),
        ({"kind": "call", "summary": ""}, "summary"),
        ({"kind": "call", "summary": "   "}, "summary"),
        ({"kind": "call", "summary": "x", "happened_at": iso(now + timedelta(days=2))}, "happened_at"),
        (
            {
                "kind": "call",
                "summary": "x",
                "happened_at": iso(now - timedelta(days=1)),
                "next_followup_at": iso(now - timedelta(days=2)),
            },
            "next_followup_at",
        ),
    ]
    for body, field in cases:
        r = await client.post(url, json=body, headers=owner.headers)
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], (field, r.text)
    assert (await client.get(url, headers=owner.headers)).json()["items"] == []
    assert (await client.get(f"/api/v1/customers/{made['id']}", headers=owner.headers)).json()[
        "last_followup_at"
    ] is None


async def test_a_rep_cannot_log_on_a_pool_customer(client, mailbox, app):
    owner = await signup(client)
    rep = await staff(client, owner, mailbox, app, role="rep")
    t = await territory(client, owner, "南京市")
    await assign(client, owner, t["id"], rep, "rep")
    pool = await customer(client, owner, t["id"], owner_membership_id=None)
    r = await client.post(
        f"/api/v1/customers/{pool['id']}/followups",
        json={"kind": "call", "summary": "x"},
        headers=rep.headers,
    )
    assert r.status_code == 403
    assert (await client.get(f"/api/v1/customers/{pool['id']}/followups", headers=rep.headers)).json()[
        "items"
    ] == []
