"""Deals: create with key information and decision people, visibility by role and subtree."""

from __future__ import annotations

from tests.factories import customer, staff
from tests.integration.deals.support import deal, world


async def test_create_deal_with_key_information(client, mailbox, app):
    w = await world(client, mailbox, app)
    r = await client.post(
        f"/api/v1/customers/{w.customer['id']}/contacts",
        json={"name": "张建国", "decision_role": "decision_maker"},
        headers=w.rep.headers,
    )
    contact = r.json()
    d = await deal(
        client,
        w.rep,
        w.customer["id"],
        stage="first_visit",
        expected_close_date="2027-03-31",
        key_info={
            "budget": "约 60 万",
            "requirements": {
                "modules": ["财务", "库存"],
                "services": ["实施"],
                "geographic_scope": "苏州、无锡",
                "language_scope": "中文",
            },
            "competition": "用友",
            "key_evaluation_criteria": "实施能力",
        },
        decision_people=[
            {"contact_id": contact["id"], "role": "decision_maker", "influence": 5, "support": 4}
        ],
    )
    assert d["stage"] == "first_visit" and d["probability"] == 10
    assert d["amount"] == "50000.00" and d["currency"] == "CNY"
    assert d["owner_membership_id"] == w.rep.membership_id
    assert d["key_info"]["requirements"]["modules"] == ["财务", "库存"]
    assert d["decision_people"][0]["contact_id"] == contact["id"]
    got = (await client.get(f"/api/v1/deals/{d['id']}", headers=w.rep.headers)).json()
    assert got["key_info"]["competition"] == "用友" and got["customer_name"] == w.customer["full_name"]
    history = (await client.get(f"/api/v1/deals/{d['id']}/stage-history", headers=w.rep.headers)).json()
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [(None, "first_visit")]

    r = await client.patch(
        f"/api/v1/deals/{d['id']}", json={"amount": "61000.50", "probability": 15}, headers=w.rep.headers
    )
    assert r.status_code == 200 and r.json()["amount"] == "61000.50" and r.json()["probability"] == 15


async def test_bad_deal_input_is_422_with_field(client, mailbox, app):
    w = await world(client, mailbox, app)
    other_rep = await staff(client, w.owner, mailbox, app, role="rep")
    theirs = await customer(
        client, w.owner, w.other_province["id"], owner_membership_id=other_rep.membership_id
    )
    cases = [
        ({"customer_id": theirs["id"]}, "customer_id"),  # not visible to the rep
        ({"amount": "-1"}, "amount"),
        ({"amount": "10.001"}, "amount"),
        (
            {"decision_people": [{"contact_id": theirs["id"], "role": "approver"}]},
            "decision_people[0].contact_id",
        ),
        ({"stage": "won"}, "stage"),
    ]
    for fields, name in cases:
        body = {"customer_id": w.customer["id"], "title": "x", **fields}
        r = await client.post("/api/v1/deals", json=body, headers=w.rep.headers)
        assert r.status_code == 422, (fields, r.text)
        assert r.json()["errors"][0]["field"] == name
    r = await client.post(
        "/api/v1/deals",
        json={"customer_id": w.customer["id"], "title": "x", "owner_membership_id": other_rep.membership_id},
        headers=w.rep.headers,
    )
    assert r.status_code == 403


async def test_visibility_rep_own_manager_subtree_admin_all(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    other_rep = await staff(client, w.owner, mailbox, app, role="rep")
    for who, status in (
        (w.rep, 200),
        (w.manager, 200),
        (w.owner, 200),
        (other_rep, 404),
        (w.other_manager, 404),
    ):
        r = await client.get(f"/api/v1/deals/{d['id']}", headers=who.headers)
        assert r.status_code == status, (who.email, r.text)
        listed = [x["id"] for x in (await client.get("/api/v1/deals", headers=who.headers)).json()["items"]]
        assert (d["id"] in listed) == (status == 200)
    r = await client.patch(f"/api/v1/deals/{d['id']}", json={"title": "改"}, headers=w.other_manager.headers)
    assert r.status_code == 404
