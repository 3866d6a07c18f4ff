"""The funnel: steps counted from follow-up results and signed deals, per rep, with rates; the
period, territory and member filters; who sees what; bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from tests.factories import customer, staff, territory, today
from tests.helpers import signup
from tests.integration.sales.growth.support import followup, signed, world


async def test_funnel_steps_rates_and_visibility(client, mailbox, app):
    w = await world(client, mailbox, app)
    one = w.customer
    two = await customer(client, w.rep, w.city["id"])
    for result in ("no_answer", "conversation", "appointment", "presentation"):
        await followup(client, w.rep, one["id"], "call", result)
    await followup(client, w.rep, one["id"], "visit", "order")
    await followup(client, w.rep, one["id"], "demo")
    await followup(
        client, w.rep, one["id"], "call", "order", happened_at=datetime.now(UTC) - timedelta(days=60)
    )  # outside the period
    await signed(client, w.rep, two["id"])
    # the province manager calls too, on the rep's customer
    await followup(client, w.manager, one["id"], "call", "conversation")

    period = {"date_from": (today() - timedelta(days=7)).isoformat(), "date_to": today().isoformat()}
    r = await client.get("/api/v1/funnel", params=period, headers=w.rep.headers)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["membership_id"] == w.rep.membership_id
    total = got["total"]
    assert (
        total["calls"],
        total["conversations"],
        total["appointments"],
        total["presentations"],
        total["sales"],
    ) == (4, 4, 3, 3, 2)
    assert total["rates"] == {
        "call_to_conversation": 1.0,
        "conversation_to_appointment": 0.75,
        "appointment_to_presentation": 1.0,
        "presentation_to_sale": 0.6667,
        "call_to_sale": 0.5,
    }
    assert [row["membership_id"] for row in got["reps"]] == [w.rep.membership_id]

    # the manager sees both rows of the subtree; the other province's manager nothing
    got = (await client.get("/api/v1/funnel", params=period, headers=w.manager.headers)).json()
    rows = {row["membership_id"]: row for row in got["reps"]}
    assert set(rows) == {w.rep.membership_id, w.manager.membership_id}
    assert rows[w.manager.membership_id]["calls"] == 1 and rows[w.manager.membership_id]["sales"] == 0
    assert rows[w.manager.membership_id]["rates"]["conversation_to_appointment"] == 0.0
    assert rows[w.manager.membership_id]["rates"]["presentation_to_sale"] is None
    assert got["total"]["calls"] == 5
    one_rep = (
        await client.get(
            "/api/v1/funnel",
            params={**period, "membership_id": w.rep.membership_id},
            headers=w.manager.headers,
        )
    ).json()
    assert one_rep["total"]["calls"] == 4
    city = (
        await client.get(
            "/api/v1/funnel", params={**period, "territory_id": w.city["id"]}, headers=w.owner.headers
        )
    ).json()
    assert city["total"]["calls"] == 5 and city["total"]["sales"] == 2
    other = (
        await client.get(
            "/api/v1/funnel",
            params={**period, "territory_id": w.other_province["id"]},
            headers=w.owner.headers,
        )
    ).json()
    assert other["total"]["calls"] == 0 and other["reps"] == []
    nothing = (await client.get("/api/v1/funnel", params=period, headers=w.other_manager.headers)).json()
    assert nothing["total"]["calls"] == 0 and nothing["total"]["rates"]["call_to_conversation"] is None

    # a longer period takes the old call in
    longer = {**period, "date_from": (today() - timedelta(days=90)).isoformat()}
    got = (await client.get("/api/v1/funnel", params=longer, headers=w.rep.headers)).json()
    assert got["total"]["calls"] == 5 and got["total"]["sales"] == 2  # same customer: counted once

    # the default period (this month) answers too
    assert (await client.get("/api/v1/funnel", headers=w.rep.headers)).status_code == 200


async def test_funnel_refusals(client, mailbox, app):
    w = await world(client, mailbox, app)
    other_rep = await staff(client, w.owner, mailbox, app, role="rep")
    stranger = await signup(client)
    far = await territory(client, stranger, "外地")
    cases = [
        (w.rep, {"membership_id": other_rep.membership_id}, 403),
        (w.other_manager, {"territory_id": w.province["id"]}, 403),
        (w.owner, {"territory_id": far["id"]}, 404),
        (w.owner, {"territory_id": str(uuid4())}, 404),
        (
            w.owner,
            {"date_from": today().isoformat(), "date_to": (today() - timedelta(days=1)).isoformat()},
            422,
        ),
        (w.owner, {"date_from": (today() - timedelta(days=2000)).isoformat()}, 422),
        (w.owner, {"date_from": "yesterday"}, 422),
    ]
    for who, params, status in cases:
        r = await client.get("/api/v1/funnel", params=params, headers=who.headers)
        assert r.status_code == status, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
