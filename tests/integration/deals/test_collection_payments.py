"""Collection items across deals: the list with filters and pages, the overdue list by rep and
territory, partial payments (overpaying, other currencies, bad amounts refused and nothing saved),
edited milestones, and the daily reminder digest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from app import db
from app.deals.collections.items import start_collections
from app.deals.reminders import remind_tenant
from tenants.scope import TenantScope
from tests.factories import customer, db_value
from tests.helpers import mails_to, run_jobs, signup
from tests.integration.deals.support import World, deal, move, world


async def _signed(w: World, deal_id: str, days_ago: int) -> list[Any]:
    async with db.transaction(UUID(w.owner.tenant_id)) as tx:
        return await start_collections(tx, UUID(deal_id), datetime.now(UTC) - timedelta(days=days_ago))


async def _setup(client: Any, mailbox: Any, app: Any) -> tuple[World, dict[str, Any], dict[str, Any]]:
    """The rep's 50,000 deal signed 40 days ago: deposit and delivery overdue, the balance due in 4
    days; the other manager's 8,000 deal signed today: one item due in 30 days."""
    w = await world(client, mailbox, app)
    big = await deal(client, w.rep, w.customer["id"], amount="50000.00", title="恒泰 ERP")
    await _signed(w, big["id"], 40)
    far = await customer(client, w.other_manager, w.other_province["id"])
    small = await deal(client, w.other_manager, far["id"], amount="8000.00", title="远方 CRM")
    await _signed(w, small["id"], 0)
    return w, big, small


async def _list(client: Any, who: Any, **params: Any) -> Any:
    r = await client.get("/api/v1/collections", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_list_filters_pages_and_scopes(client, mailbox, app):
    w, big, small = await _setup(client, mailbox, app)
    everything = await _list(client, w.owner)
    assert [(i["deal_id"], i["code"], i["status"]) for i in everything["items"]] == [
        (big["id"], "deposit", "overdue"),
        (big["id"], "delivery", "overdue"),
        (big["id"], "balance", "open"),
        (small["id"], "full", "open"),
    ]
    first = everything["items"][0]
    assert first["customer_name"] == w.customer["full_name"] and first["territory_id"] == w.city["id"]
    assert first["outstanding"] == "10000.00" and first["owner_membership_id"] == w.rep.membership_id

    rep = await _list(client, w.rep)
    assert {i["deal_id"] for i in rep["items"]} == {big["id"]}
    assert [i["code"] for i in (await _list(client, w.rep, status="overdue"))["items"]] == [
        "deposit",
        "delivery",
    ]
    assert [i["code"] for i in (await _list(client, w.rep, status="open"))["items"]] == ["balance"]
    assert (await _list(client, w.rep, status="paid"))["items"] == []
    other = await _list(client, w.other_manager)
    assert [i["deal_id"] for i in other["items"]] == [small["id"]]
    assert [i["code"] for i in (await _list(client, w.manager))["items"]] == [
        "deposit",
        "delivery",
        "balance",
    ]

    by_owner = await _list(client, w.owner, owner=w.other_manager.membership_id)
    assert [i["deal_id"] for i in by_owner["items"]] == [small["id"]]
    by_territory = await _list(client, w.owner, territory_id=w.province["id"])
    assert len(by_territory["items"]) == 3
    soon = (date.today() + timedelta(days=10)).isoformat()
    assert len((await _list(client, w.owner, due_before=soon))["items"]) == 3
    assert [i["code"] for i in (await _list(client, w.owner, due_after=soon))["items"]] == ["full"]

    page1 = await _list(client, w.owner, limit=3)
    assert len(page1["items"]) == 3 and page1["next_cursor"]
    page2 = await _list(client, w.owner, limit=3, cursor=page1["next_cursor"])
    assert [i["code"] for i in page2["items"]] == ["full"] and page2["next_cursor"] is None

    for params, name in (
        ({"status": "late"}, "status"),
        ({"cursor": "nope"}, "cursor"),
        ({"limit": 0}, "limit"),
    ):
        r = await client.get("/api/v1/collections", params=params, headers=w.owner.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == name
    stranger = await signup(client)
    r = await client.get(
        "/api/v1/collections", params={"territory_id": w.city["id"]}, headers=stranger.headers
    )
    assert r.status_code == 404


async def test_overdue_list_by_rep_and_territory(client, mailbox, app):
    w, _big, _small = await _setup(client, mailbox, app)
    groups = (await client.get("/api/v1/collections/overdue", headers=w.owner.headers)).json()
    assert [
        (g["owner_membership_id"], g["territory_id"], g["currency"], g["count"], g["outstanding"])
        for g in groups
    ] == [(w.rep.membership_id, w.city["id"], "CNY", 2, "40000.00")]
    assert groups[0]["oldest_due_date"] == (date.today() - timedelta(days=33)).isoformat()
    r = await client.get(
        "/api/v1/collections/overdue",
        params={"territory_id": w.other_province["id"]},
        headers=w.owner.headers,
    )
    assert r.json() == []
    assert (await client.get("/api/v1/collections/overdue", headers=w.other_manager.headers)).json() == []
    stranger = await signup(client)
    r = await client.get(
        "/api/v1/collections/overdue", params={"territory_id": w.city["id"]}, headers=stranger.headers
    )
    assert r.status_code == 404
    assert len((await client.get("/api/v1/collections/overdue", headers=w.manager.headers)).json()) == 1


async def test_partial_payments_add_up_and_bad_payments_save_nothing(client, mailbox, app, admin_db):
    w, _big, _small = await _setup(client, mailbox, app)
    deposit = (await _list(client, w.rep, status="overdue"))["items"][0]
    url = f"/api/v1/collections/{deposit['id']}/paid"
    r = await client.post(url, json={"amount": "4000", "note": "首付一部分"}, headers=w.rep.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["paid_amount"], r.json()["outstanding"], r.json()["status"]) == (
        "4000.00",
        "6000.00",
        "overdue",
    )
    assert r.json()["paid_at"] is None

    tomorrow = (date.today() + timedelta(days=2)).isoformat()  # after today in any time zone
    for body, name in (
        ({"amount": "6000.01"}, "amount"),  # overpaying
        ({"amount": "0"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "100", "currency": "USD"}, "currency"),
        ({"amount": "100", "paid_on": tomorrow}, "paid_on"),
    ):
        r = await client.post(url, json=body, headers=w.rep.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == name, (body, r.text)
    assert (
        await db_value(
            admin_db, "SELECT count(*) FROM collection_payments WHERE collection_id = $1", UUID(deposit["id"])
        )
        == 1
    )
    assert (
        await db_value(admin_db, "SELECT paid_amount FROM collections WHERE id = $1", UUID(deposit["id"]))
        == 4000
    )

    r = await client.post(
        url, json={"currency": "CNY", "paid_on": date.today().isoformat()}, headers=w.rep.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "paid" and r.json()["paid_amount"] == "10000.00"
    assert r.json()["outstanding"] == "0.00" and r.json()["paid_at"]
    assert (await client.post(url, json={"amount": "1"}, headers=w.rep.headers)).status_code == 409
    payments = (
        await client.get(f"/api/v1/collections/{deposit['id']}/payments", headers=w.rep.headers)
    ).json()
    assert [(p["amount"], p["note"], p["actor"]) for p in payments] == [
        ("4000.00", "首付一部分", w.rep.membership_id),
        ("6000.00", None, w.rep.membership_id),
    ]
    assert [i["code"] for i in (await _list(client, w.rep, status="paid"))["items"]] == ["deposit"]

    stranger = await signup(client)
    for who in (stranger, w.other_manager):
        assert (await client.post(url, json={"amount": "1"}, headers=who.headers)).status_code == 404
        r = await client.get(f"/api/v1/collections/{deposit['id']}/payments", headers=who.headers)
        assert r.status_code == 404


async def test_milestones_edited_must_add_up_and_freeze_once_collections_start(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"], amount="50000.00")
    url = f"/api/v1/deals/{d['id']}/milestones"
    plan = [
        {"code": "deposit", "percent": "30", "due_days": 10},
        {"code": "delivery", "amount": "25000.00", "due_days": 45},
        {"code": "balance", "amount": "10000.00", "due_days": 90},
    ]
    r = await client.put(url, json={"milestones": plan}, headers=w.rep.headers)
    assert r.status_code == 200, r.text
    assert r.json()["milestones_custom"] is True
    assert [(m["code"], m["percent"], m["amount"], m["due_days"]) for m in r.json()["milestones"]] == [
        ("deposit", 30, "15000.00", 10),
        ("delivery", 50, "25000.00", 45),
        ("balance", 20, "10000.00", 90),
    ]
    for body, name in (
        ({"milestones": [*plan[:2], {"code": "balance", "amount": "9999.99", "due_days": 90}]}, "milestones"),
        (
            {"milestones": [{"code": "full", "amount": "50000", "percent": "100", "due_days": 5}]},
            "milestones[0].amount",
        ),
        ({"milestones": [{"code": "full", "due_days": 5}]}, "milestones[0].amount"),
        ({"milestones": [{"code": "full", "amount": "-1", "due_days": 5}]}, "milestones[0].amount"),
        ({"milestones": [{"code": "full", "percent": "120", "due_days": 5}]}, "milestones[0].percent"),
        (
            {
                "milestones": [
                    {"code": "deposit", "amount": "0", "due_days": 5},
                    {"code": "full", "amount": "50000", "due_days": 5},
                ]
            },
            "milestones[0].amount",
        ),
    ):
        r = await client.put(url, json=body, headers=w.rep.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == name, (body, r.text)
    terms = (await client.get(f"/api/v1/deals/{d['id']}/contract-terms", headers=w.rep.headers)).json()
    assert [m["amount"] for m in terms["milestones"]] == ["15000.00", "25000.00", "10000.00"]  # unchanged
    assert (
        await client.put(url, json={"milestones": plan}, headers=w.other_manager.headers)
    ).status_code == 404
    stranger = await signup(client)
    assert (await client.put(url, json={"milestones": plan}, headers=stranger.headers)).status_code == 404

    items = await _signed(w, d["id"], 0)
    assert [(i.code, i.amount, i.due_date) for i in items] == [
        ("deposit", 15000, date.today() + timedelta(days=10)),
        ("delivery", 25000, date.today() + timedelta(days=45)),
        ("balance", 10000, date.today() + timedelta(days=90)),
    ]
    r = await client.put(url, json={"milestones": None}, headers=w.rep.headers)
    assert r.status_code == 409
    # the signed contract's terms are frozen too: nothing changes
    terms_url = f"/api/v1/deals/{d['id']}/contract-terms"
    before = (await client.get(terms_url, headers=w.rep.headers)).json()
    r = await client.put(terms_url, json={"stable_weeks": 1}, headers=w.rep.headers)
    assert r.status_code == 409 and "terms can no longer change" in r.json()["detail"], r.text
    assert (await client.get(terms_url, headers=w.rep.headers)).json() == before


async def test_daily_reminder_digest_once_per_owner_and_day(client, mailbox, app):
    w, _big, _small = await _setup(client, mailbox, app)
    scope = await TenantScope.for_job(w.owner.tenant_id)
    today = date.today()
    mailbox.messages.clear()
    assert await remind_tenant(scope, today) == 1  # the rep: 2 overdue, 1 due in 4 days is not within 3
    assert await remind_tenant(scope, today) == 0
    await run_jobs(app)
    mails = mails_to(mailbox, w.rep.email)
    assert len(mails) == 1 and "2 overdue" in mails[0]["Subject"]
    text = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert w.customer["full_name"] in text and "恒泰 ERP" in text and "30,000.00 CNY" in text
    assert mails_to(mailbox, w.other_manager.email) == []  # due in 30 days
    notes = (await client.get("/api/v1/notifications", headers=w.rep.headers)).json()["items"]
    assert notes[0]["kind"] == "collections_due" and "2 overdue" in notes[0]["message"]

    # the next day the balance (due in 3 days then) joins the digest, once more
    assert await remind_tenant(scope, today + timedelta(days=1)) == 1
    await run_jobs(app)
    latest = mails_to(mailbox, w.rep.email)
    assert len(latest) == 2 and "1 due within 3 days" in latest[-1]["Subject"]


async def test_reminder_cron_is_registered_and_runs_every_tenant(client, mailbox, app, monkeypatch):
    from app.deals import reminders
    from workers.settings import CRON_JOBS

    assert reminders.collection_reminders in [job.coroutine for job in CRON_JOBS]
    w, _big, _small = await _setup(client, mailbox, app)
    monkeypatch.setattr(reminders, "REMIND_FROM_HOUR", 0)  # whatever the hour in the tenant's zone
    mailbox.messages.clear()
    assert await reminders.collection_reminders({}) >= 1
    assert await reminders.collection_reminders({}) == 0  # once per owner and day
    await run_jobs(app)
    assert len(mails_to(mailbox, w.rep.email)) == 1


async def test_leaving_signed_takes_unpaid_collections_along_and_is_refused_once_paid(
    client, mailbox, app, admin_db
):
    w = await world(client, mailbox, app)
    unpaid = await deal(client, w.rep, w.customer["id"], amount="50000.00", stage="signed")
    paid = await deal(client, w.rep, w.customer["id"], amount="8000.00", stage="signed")
    for d in (unpaid, paid):
        await _signed(w, d["id"], 0)  # idempotent: the items exist once
    count = "SELECT count(*) FROM collections WHERE deal_id = $1"
    assert await db_value(admin_db, count, unpaid["id"]) == 3
    item = (await client.get(f"/api/v1/deals/{paid['id']}/collections", headers=w.rep.headers)).json()[0]
    r = await client.post(
        f"/api/v1/collections/{item['id']}/paid", json={"amount": "100.00"}, headers=w.rep.headers
    )
    assert r.status_code == 200, r.text

    r = await move(client, w.rep, paid["id"], "negotiation", reason="客户要求重新谈判")
    assert r.status_code == 409 and "cannot leave signed" in r.json()["detail"], r.text
    assert (await client.get(f"/api/v1/deals/{paid['id']}", headers=w.rep.headers)).json()[
        "stage"
    ] == "signed"
    assert await db_value(admin_db, count, paid["id"]) == 1

    r = await move(client, w.rep, unpaid["id"], "negotiation", reason="客户要求重新谈判")
    assert r.status_code == 200 and r.json()["stage"] == "negotiation", r.text
    assert await db_value(admin_db, count, unpaid["id"]) == 0
