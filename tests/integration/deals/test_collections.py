"""Contract terms (defaults, completeness, milestones by rule) and collection items (回款)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from app import db
from app.deals import service
from app.deals.collections.items import start_collections
from tenants.scope import TenantScope
from tests.factories import customer
from tests.integration.deals.support import approved_quote, deal, world


async def test_terms_default_from_the_customer_and_check_completeness(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"], amount="9999.99")
    r = await client.get(f"/api/v1/deals/{d['id']}/contract-terms", headers=w.rep.headers)
    t = r.json()
    assert r.status_code == 200 and t["saved"] is False
    assert t["party_a_full_name"] == w.customer["full_name"] and t["party_a_phone"] == "0512-62883456"
    assert t["free_upgrade_years"] == 1 and t["onsite_service_chargeable"] is True
    assert t["complete"] is False and t["missing"] == ["party_a_contact"]
    assert [(m["code"], m["percent"], m["amount"]) for m in t["milestones"]] == [("full", 100, "9999.99")]

    body = {
        "party_a_full_name": w.customer["full_name"],
        "party_a_address": "苏州工业园区星湖街 218 号",
        "party_a_contact": "张建国",
        "party_a_phone": "0512-62883456",
        "delivery_percent": 70,
        "stable_weeks": 1,
    }
    r = await client.put(f"/api/v1/deals/{d['id']}/contract-terms", json=body, headers=w.rep.headers)
    assert r.status_code == 200 and r.json()["complete"] is True and r.json()["saved"] is True
    for bad, name in (
        ({"delivery_percent": 80}, "delivery_percent"),
        ({"stable_weeks": 3}, "stable_weeks"),
        ({"quote_id": d["id"]}, "quote_id"),
    ):
        r = await client.put(
            f"/api/v1/deals/{d['id']}/contract-terms", json={**body, **bad}, headers=w.rep.headers
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == name


async def test_terms_above_10000_follow_the_chosen_quote(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"], amount="1000.00")
    q = await approved_quote(client, w, d["id"])  # 2 × 6800 + 13% = 15,368.00
    r = await client.put(
        f"/api/v1/deals/{d['id']}/contract-terms", json={"quote_id": q["id"]}, headers=w.rep.headers
    )
    t = r.json()
    assert t["total"] == "15368.00" and t["missing"] == PARTY_A
    assert [(m["code"], m["percent"], m["amount"], m["due_days"]) for m in t["milestones"]] == [
        ("deposit", 20, "3073.60", 7),
        ("delivery", 60, "9220.80", 30),
        ("balance", 20, "3073.60", 44),
    ]


PARTY_A = ["party_a_full_name", "party_a_address", "party_a_contact", "party_a_phone"]


async def test_start_collections_creates_items_once_and_paid(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"], amount="50000.00")
    signed_at = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    async with db.transaction(UUID(w.owner.tenant_id)) as tx:
        items = await start_collections(tx, UUID(d["id"]), signed_at)
    assert [(i.code, i.amount, i.due_date.isoformat()) for i in items] == [
        ("deposit", Decimal("10000.00"), "2026-12-08"),
        ("delivery", Decimal("30000.00"), "2026-12-31"),
        ("balance", Decimal("10000.00"), "2027-01-14"),
    ]
    async with db.transaction(UUID(w.owner.tenant_id)) as tx:
        again = await start_collections(tx, UUID(d["id"]), signed_at)
    assert [i.id for i in again] == [i.id for i in items]
    listed = (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json()
    assert [c["amount"] for c in listed] == ["10000.00", "30000.00", "10000.00"]
    r = await client.post(f"/api/v1/collections/{listed[0]['id']}/paid", json={}, headers=w.rep.headers)
    assert r.status_code == 200 and r.json()["paid_amount"] == "10000.00" and r.json()["paid_at"]
    r = await client.post(f"/api/v1/collections/{listed[0]['id']}/paid", json={}, headers=w.rep.headers)
    assert r.status_code == 409
    r = await client.post(
        f"/api/v1/collections/{listed[1]['id']}/paid", json={"amount": "-5"}, headers=w.rep.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    r = await client.post(
        f"/api/v1/collections/{listed[1]['id']}/paid", json={}, headers=w.other_manager.headers
    )
    assert r.status_code == 404


async def test_signing_hook_moves_the_deal_to_signed_and_starts_collections(client, mailbox, app):
    w = await world(client, mailbox, app)
    small = await customer(client, w.rep, w.city["id"])
    d = await deal(client, w.rep, small["id"], amount="8000.00", stage="negotiation")
    ids = await service.start_collections(await TenantScope.for_job(w.owner.tenant_id), "deal", d["id"])
    got = (await client.get(f"/api/v1/deals/{d['id']}", headers=w.rep.headers)).json()
    assert got["stage"] == "signed" and got["probability"] == 100
    listed = (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json()
    assert [c["id"] for c in listed] == [str(i) for i in ids] and [c["code"] for c in listed] == ["full"]
