"""Seats: the plan's limit on inviting and reactivating, auto-added seats, and the reconciliation cron."""

from __future__ import annotations

from tests.helpers import add_member, run_jobs, signup
from tests.integration.billing.support import deliver_all, subscribe, tenant


async def test_starter_limits_invitations_and_reactivation(client, app, fake, mailbox, admin_db):
    owner = await signup(client)
    sub_id = await subscribe(client, owner, fake, app, plan="starter")
    rep = await add_member(client, owner, mailbox, app)
    await add_member(client, owner, mailbox, app)
    r = await client.post("/api/v1/invitations", json={"email": "fourth@example.com"}, headers=owner.headers)
    assert r.status_code == 402, r.text
    body = r.json()
    assert body["type"] == "/problems/payment-required"
    assert body["seats_used"] == 3 and body["seats_paid"] == 3 and body["billing"] == "/api/v1/billing"
    assert "Starter" in body["detail"] and "3" in body["detail"]

    r = await client.post(f"/api/v1/members/{rep.membership_id}/deactivate", headers=owner.headers)
    assert r.status_code == 200
    await add_member(client, owner, mailbox, app)  # the freed seat is taken again
    r = await client.post(f"/api/v1/members/{rep.membership_id}/reactivate", headers=owner.headers)
    assert r.status_code == 402, r.text
    assert r.json()["seats_used"] == 3
    members = (await client.get("/api/v1/members", params={"active": "true"}, headers=owner.headers)).json()
    assert rep.membership_id not in [m["id"] for m in members["items"]]
    assert fake.writes_to(f"/v1/subscriptions/{sub_id}") == []  # a flat plan never changes quantity


async def test_team_auto_adds_seats_with_an_idempotency_key(client, app, fake, mailbox, admin_db):
    owner = await signup(client)
    sub_id = await subscribe(client, owner, fake, app, plan="team")
    assert (await tenant(admin_db, owner))["seats_paid"] == 1

    await add_member(client, owner, mailbox, app)  # invites beyond the 1 paid seat: runs the raise job
    writes = fake.writes_to(f"/v1/subscriptions/{sub_id}")
    assert len(writes) == 1
    assert writes[0].idempotency_key == f"acre-seats-{sub_id}-1-2"
    assert writes[0].params["items"][0]["quantity"] == "2"
    assert writes[0].params["proration_behavior"] == "create_prorations"
    assert fake.subscriptions[sub_id]["items"]["data"][0]["quantity"] == 2
    row = await tenant(admin_db, owner)
    assert row["seats_paid"] == 2 and row["seat_change_seq"] == 1

    # Stripe's answer comes back as a webhook: handled, and it causes no further write (no loop)
    events = await deliver_all(client, fake, app)
    assert [e["type"] for e in events] == ["customer.subscription.updated"]
    from tenants.billing.jobs import reconcile_seats

    assert await reconcile_seats({}) == 0
    assert len(fake.writes_to(f"/v1/subscriptions/{sub_id}")) == 1
    body = (await client.get("/api/v1/billing", headers=owner.headers)).json()
    assert body["seats_used"] == 2 and body["seats_paid"] == 2


async def test_reconciliation_raises_at_once_and_lowers_only_at_renewal(client, app, fake, mailbox, admin_db):
    from tenants.billing.jobs import reconcile_seats

    owner = await signup(client)
    rep = await add_member(client, owner, mailbox, app)
    sub_id = await subscribe(client, owner, fake, app, plan="team")
    assert fake.subscriptions[sub_id]["items"]["data"][0]["quantity"] == 2

    # someone lowers the quantity outside Acre: the cron puts it back to the seats in use
    fake.set_quantity(sub_id, 1)
    await deliver_all(client, fake, app)
    assert (await tenant(admin_db, owner))["seats_paid"] == 1
    assert await reconcile_seats({}) >= 1
    raised = fake.writes_to(f"/v1/subscriptions/{sub_id}")
    assert len(raised) == 1 and raised[0].params["items"][0]["quantity"] == "2"
    assert raised[0].idempotency_key == f"acre-seats-{sub_id}-1-2"
    await deliver_all(client, fake, app)

    # a member leaves mid-period: the quantity stays (high-water mark)
    assert (
        await client.post(f"/api/v1/members/{rep.membership_id}/deactivate", headers=owner.headers)
    ).status_code == 200
    await reconcile_seats({})
    assert len(fake.writes_to(f"/v1/subscriptions/{sub_id}")) == 1
    assert fake.subscriptions[sub_id]["items"]["data"][0]["quantity"] == 2

    # at renewal it is lowered, without proration
    fake.set_period_end(sub_id, 3600)
    await deliver_all(client, fake, app)
    await reconcile_seats({})
    writes = fake.writes_to(f"/v1/subscriptions/{sub_id}")
    assert len(writes) == 2
    assert writes[1].params["items"][0]["quantity"] == "1"
    assert writes[1].params["proration_behavior"] == "none"
    assert writes[1].idempotency_key == f"acre-seats-{sub_id}-2-1"
    # the resulting webhook is handled and the next run changes nothing
    await deliver_all(client, fake, app)
    await reconcile_seats({})
    await run_jobs(app)
    assert len(fake.writes_to(f"/v1/subscriptions/{sub_id}")) == 2
    assert (await tenant(admin_db, owner))["seats_paid"] == 1
