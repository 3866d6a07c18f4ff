"""Vendor registration (项目报备) pages: the deal page's section saves through the registration
service (refusals inline), the managers' list per vendor, the pool's refusal offering to ask a
manager, and another tenant's ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.localtime import local_today
from tests.factories import assign, staff
from tests.integration.deals.support import deal, world
from tests.integration.web.support import htmx, sign_in

TODAY = local_today("Asia/Shanghai")  # the tenants' zone in these tests


def form(**fields: str) -> dict[str, str]:
    data = {
        "vendor": "用友",
        "registration_no": "YY-88",
        "registered_on": TODAY.isoformat(),
        "protected_until": (TODAY + timedelta(days=60)).isoformat(),
        "status": "active",
    }
    data.update(fields)
    return data


async def test_the_deal_page_shows_and_edits_the_registration(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    csrf = await sign_in(client, w.rep)
    page = (await client.get(f"/deals/{d['id']}")).text
    assert "Vendor registration" in page and "Not registered with the vendor." in page
    url = f"/deals/{d['id']}/registration"
    r = await client.put(
        url, data=form(protected_until=(TODAY - timedelta(days=3)).isoformat()), headers=htmx(csrf)
    )
    assert (
        r.status_code == 422
        and "<html" not in r.text
        and "Must not be before the registration date" in r.text
    )
    assert (
        await client.get(f"/api/v1/deals/{d['id']}/registration", headers=w.rep.headers)
    ).status_code == 404
    r = await client.put(url, data=form(), headers=htmx(csrf))
    assert r.status_code == 200 and r.headers["hx-refresh"] == "true"
    page = (await client.get(f"/deals/{d['id']}")).text
    until = (TODAY + timedelta(days=60)).isoformat()
    assert f"Protected until {until}" in page and "60 days left" in page and 'value="YY-88"' in page
    # the managers' list per vendor links back to the deal; a rep has no such page
    await sign_in(client, w.manager)
    listing = await client.get("/registrations")
    assert (
        listing.status_code == 200
        and "用友" in listing.text
        and f"/deals/{d['id']}#registration" in listing.text
    )
    await sign_in(client, w.rep)
    assert (await client.get("/registrations")).status_code == 403
    csrf = await sign_in(client, w.rep)
    r = await client.delete(url, headers=htmx(csrf))
    assert r.status_code == 200
    assert (
        await client.get(f"/api/v1/deals/{d['id']}/registration", headers=w.rep.headers)
    ).status_code == 404


async def test_a_refused_claim_offers_to_ask_a_manager(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    r = await client.put(
        f"/api/v1/deals/{d['id']}/registration",
        json={k: v for k, v in form().items()},
        headers=w.rep.headers,
    )
    reg = r.json()
    await client.post(
        f"/api/v1/customers/{w.customer['id']}/release", json={"reason": "other"}, headers=w.rep.headers
    )
    rep2 = await staff(client, w.owner, mailbox, app, role="rep")
    await assign(client, w.owner, w.other_province["id"], rep2, "rep")
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    await client.post(
        "/api/v1/cross-territory-grants",
        json={"membership_id": rep2.membership_id, "customer_id": w.customer["id"], "until": until},
        headers=w.owner.headers,
    )
    csrf = await sign_in(client, rep2)
    r = await client.post(f"/customers/{w.customer['id']}/claim", headers=htmx(csrf))
    assert r.status_code == 409 and 'data-rule="vendor_registration"' in r.text
    assert f'hx-post="/registrations/{reg["id"]}/claim-approval"' in r.text
    r = await client.post(f"/registrations/{reg['id']}/claim-approval", headers=htmx(csrf))
    assert r.status_code == 200 and "a manager of the customer" in r.text
    await sign_in(client, w.manager)
    inbox = (await client.get("/approvals")).text
    assert "Registered customer" in inbox and "registered with 用友 (no. YY-88) by another team" in inbox
    # the requester sees their own request on the approvals page without the other team's deal
    await sign_in(client, rep2)
    assert (await client.get("/approvals?kind=registration")).status_code in (200, 403)


async def test_another_tenants_registration_addresses_are_404(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    reg = (
        await client.put(f"/api/v1/deals/{d['id']}/registration", json=form(), headers=w.rep.headers)
    ).json()
    other = await world(client, mailbox, app)
    csrf = await sign_in(client, other.owner)
    for method, url in (
        ("PUT", f"/deals/{d['id']}/registration"),
        ("DELETE", f"/deals/{d['id']}/registration"),
        ("POST", f"/registrations/{reg['id']}/claim-approval"),
    ):
        r = await client.request(method, url, data=form() if method == "PUT" else None, headers=htmx(csrf))
        assert r.status_code == 404 and "<html" not in r.text, (method, url, r.status_code)
    assert "用友" not in (await client.get("/registrations")).text


async def test_the_handover_page_names_a_registration_leaving_its_team(client, mailbox, app):
    from tests.integration.deals.test_registrations import registered

    w = await world(client, mailbox, app)
    await registered(client, w)
    outsider = await staff(client, w.owner, mailbox, app, role="rep")
    await assign(client, w.owner, w.other_province["id"], outsider, "rep")
    r = await client.post(
        "/api/v1/handovers",
        json={
            "reason": "离职交接",
            "selection": {"customer_ids": [w.customer["id"]]},
            "targets": [{"membership_id": outsider.membership_id}],
            "mode": "single",
        },
        headers=w.owner.headers,
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    await sign_in(client, w.owner)
    page = await client.get(f"/handovers/{plan['id']}")
    assert page.status_code == 200
    card = page.text.split('id="registration-conflicts"', 1)[1].split("</div>", 1)[0]
    assert "用友" in card and w.customer["full_name"] in card and "Vendor registrations going outside" in card
    assert 'id="execute"' in page.text  # the manager may still execute: that is the approval
