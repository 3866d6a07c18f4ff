"""What the pool shows: a pool hides the phone, address, credit code and contacts of its unowned
customers from members outside the owner's scope — masked in every customer-returning route, API and
pages — while the previous owners and the follow-ups stay visible; its administrators and the
territory's managers see everything, a claimer sees everything once it is theirs."""

from __future__ import annotations

from typing import Any

from tests.factories import company, db_value
from tests.helpers import Member, signup
from tests.integration.customers.imports.support import team
from tests.integration.territories.test_divisions import code
from tests.integration.web.support import htmx, sign_in

PHONE, ADDRESS = "13812345678", "上海市浦东新区张江路88号"
CONTACT_PHONE, CONTACT_EMAIL, CONTACT_NAME = "13987654321", "wang.jingli@example.com", "王建国"


async def _pool_customer(client: Any, t: Any) -> dict[str, Any]:
    tax_id = code("310115")
    r = await client.post(
        "/api/v1/customers",
        json={
            "full_name": company("浦东"),
            "territory_id": t.pd["id"],
            "owner_membership_id": None,
            "phone": PHONE,
            "address": ADDRESS,
            "tax_id": tax_id,
        },
        headers=t.owner.headers,
    )
    assert r.status_code == 201, r.text
    customer = r.json()
    r = await client.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": CONTACT_NAME, "phone": CONTACT_PHONE, "email": CONTACT_EMAIL, "title": "总经理"},
        headers=t.owner.headers,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/v1/customers/{customer['id']}/followups",
        json={"kind": "call", "summary": "上次沟通：预算待定"},
        headers=t.owner.headers,
    )
    assert r.status_code == 201, r.text
    return customer


async def _hide(client: Any, who: Member, pool_id: str, fields: list[str], status: int = 200) -> Any:
    r = await client.put(
        f"/api/v1/pools/{pool_id}/hidden-fields", json={"hidden_fields": fields}, headers=who.headers
    )
    assert r.status_code == status, r.text
    return r.json()


async def _walk(client: Any, who: Member, customer: dict[str, Any]) -> str:
    """Every customer-returning route a member reaches this customer by, API and pages, as one text."""
    cid = customer["id"]
    contacts = await client.get(f"/api/v1/customers/{cid}/contacts", headers=who.headers)
    contact_id = contacts.json()["items"][0]["id"]
    answers = [
        await client.get(f"/api/v1/customers/{cid}", headers=who.headers),
        await client.get("/api/v1/customers", params={"owner": "none"}, headers=who.headers),
        await client.get("/api/v1/customers", params={"q": customer["full_name"]}, headers=who.headers),
        await client.get("/api/v1/customers", params={"q": PHONE}, headers=who.headers),
        await client.get("/api/v1/customers", params={"q": customer["tax_id"]}, headers=who.headers),
        await client.get("/api/v1/pool", headers=who.headers),
        await client.get(
            "/api/v1/pool", params={"territory_id": customer["territory_id"]}, headers=who.headers
        ),
        contacts,
        await client.get(f"/api/v1/customers/{cid}/contacts/{contact_id}", headers=who.headers),
        await client.get("/api/v1/customers/export", params={"format": "csv"}, headers=who.headers),
        await client.get(
            "/api/v1/customers/export", params={"format": "csv", "owner": "none"}, headers=who.headers
        ),
    ]
    for answer in answers:
        assert answer.status_code == 200, (answer.url, answer.text)
    await sign_in(client, who)
    pages = [
        await client.get(f"/customers/{cid}"),
        await client.get("/pool"),
        await client.get("/pool", params={"territory_id": customer["territory_id"]}),
    ]
    for page in pages:
        assert page.status_code == 200, (page.url, page.text[:500])
    client.cookies.clear()
    return "\n".join(a.text for a in answers + pages)


SECRETS = (PHONE, ADDRESS, CONTACT_PHONE, CONTACT_EMAIL, CONTACT_NAME)


async def test_hidden_fields_never_reach_a_pool_viewer_by_any_route(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app, locale="en")
    customer = await _pool_customer(client, t)
    pool_id = str(
        await db_value(
            admin_db,
            "SELECT id FROM pools WHERE tenant = $1 AND territory_id = $2",
            t.owner.tenant_id,
            t.pd["id"],
        )
    )
    seen = await _walk(client, t.rep, customer)  # nothing hidden yet: the rep sees it all
    assert PHONE in seen and CONTACT_EMAIL in seen and customer["tax_id"] in seen

    got = await _hide(client, t.owner, pool_id, ["tax_id", "phone", "contacts", "address"])
    assert got["hidden_fields"] == ["phone", "address", "tax_id", "contacts"]
    seen = await _walk(client, t.rep, customer)
    leaked = [s for s in (*SECRETS, customer["tax_id"]) if s in seen]
    assert leaked == [], leaked
    assert 'id="masked-note"' in seen
    r = await client.get(f"/api/v1/customers/{customer['id']}", headers=t.rep.headers)
    shown = r.json()
    assert (shown["phone"], shown["address"]) == ("138****5678", "上海市浦东新****")
    assert shown["tax_id"] == customer["tax_id"][:8] + "******" + customer["tax_id"][-4:]
    contact = (await client.get(f"/api/v1/customers/{customer['id']}/contacts", headers=t.rep.headers)).json()
    assert (contact["items"][0]["name"], contact["items"][0]["email"]) == ("王**", "w***@example.com")
    assert contact["items"][0]["title"] == "总经理"
    pool = (await client.get("/api/v1/pool", headers=t.rep.headers)).json()["items"]
    assert [c["phone"] for c in pool if c["id"] == customer["id"]] == ["138****5678"]
    # what a claimer takes stays visible: the follow-ups and the previous owners
    r = await client.get(f"/api/v1/customers/{customer['id']}/followups", headers=t.rep.headers)
    assert "预算待定" in r.text
    assert (
        await client.get(f"/api/v1/customers/{customer['id']}/ownership", headers=t.rep.headers)
    ).status_code == 200
    # no document about it either (rendering would print it in clear)
    r = await client.post(
        "/api/v1/documents",
        json={"kind": "requirements_proposal", "subject_type": "customer", "subject_id": customer["id"]},
        headers={**t.rep.headers, "Idempotency-Key": "doc-1"},
    )
    assert r.status_code in (403, 422), r.text
    if r.status_code == 403:
        assert "Claim this customer" in r.text

    # the territory's manager and the owner see everything
    for who in (t.manager, t.owner):
        seen = await _walk(client, who, customer)
        assert PHONE in seen and ADDRESS in seen and CONTACT_EMAIL in seen and customer["tax_id"] in seen
        assert 'id="masked-note"' not in seen

    # claimed: the claimer sees it all; released again: masked for them
    r = await client.post(f"/api/v1/customers/{customer['id']}/claim", headers=t.rep.headers)
    assert r.status_code == 200 and r.json()["phone"] == PHONE, r.text
    contact = (await client.get(f"/api/v1/customers/{customer['id']}/contacts", headers=t.rep.headers)).json()
    assert contact["items"][0]["phone"] == CONTACT_PHONE
    reasons = (await client.get("/api/v1/pools/release-reasons", headers=t.rep.headers)).json()
    reason = (reasons.get("items", reasons) if isinstance(reasons, dict) else reasons)[0]["code"]
    r = await client.post(
        f"/api/v1/customers/{customer['id']}/release", json={"reason": reason}, headers=t.rep.headers
    )
    assert r.status_code == 200 and r.json()["phone"] == "138****5678", r.text


async def test_configuring_hidden_fields(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app, locale="en")
    pool_id = str(
        await db_value(
            admin_db,
            "SELECT id FROM pools WHERE tenant = $1 AND territory_id = $2",
            t.owner.tenant_id,
            t.pd["id"],
        )
    )
    r = await client.get(f"/api/v1/pools/{pool_id}/hidden-fields", headers=t.rep.headers)
    assert r.status_code == 200 and r.json()["hidden_fields"] == []
    await _hide(client, t.owner, pool_id, ["phone", "email"], status=422)
    await _hide(client, t.owner, pool_id, ["x" * 30], status=422)
    await _hide(client, t.rep, pool_id, ["phone"], status=403)
    await _hide(client, t.manager, pool_id, ["phone"], status=403)
    assert (await client.get(f"/api/v1/pools/{pool_id}/hidden-fields", headers=t.rep.headers)).json()[
        "hidden_fields"
    ] == []
    other = await signup(client)
    assert (
        await client.get(f"/api/v1/pools/{pool_id}/hidden-fields", headers=other.headers)
    ).status_code == 404
    await _hide(client, other, pool_id, ["phone"], status=404)
    await _hide(client, t.owner, pool_id, ["phone", "phone"])
    assert (await client.get(f"/api/v1/pools/{pool_id}/hidden-fields", headers=t.rep.headers)).json()[
        "hidden_fields"
    ] == ["phone"]
    audit = "SELECT count(*) FROM audit_log WHERE tenant = $1 AND action = 'pool.hidden_fields_changed'"
    assert await db_value(admin_db, audit, t.owner.tenant_id) == 1

    # the settings page (owner/admin), reached from the pools page
    csrf = await sign_in(client, t.owner)
    assert 'href="/settings/pool-fields"' in (await client.get("/settings/pools")).text
    page = await client.get("/settings/pool-fields")
    assert page.status_code == 200 and "浦东新区" in page.text
    r = await client.post(
        f"/settings/pool-fields/{pool_id}",
        data={"hidden_fields": ["address", "contacts"]},
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and "Saved" in r.text, r.text
    got = (await client.get(f"/api/v1/pools/{pool_id}/hidden-fields", headers=t.rep.headers)).json()
    assert got["hidden_fields"] == ["address", "contacts"]
    await sign_in(client, t.manager)
    assert (await client.get("/settings/pool-fields")).status_code == 403
