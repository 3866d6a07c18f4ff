"""Territory by credit code over HTTP: the mapping page (managers and up) adds a code with its name
looked up as it is typed and removes one in place, bad codes answered inline with nothing changed; a
new customer placed by its code from the form; the 跨区 badge on the customer's page and in the team
table, and the table's cross-territory filter."""

from __future__ import annotations

from tests.factories import company, db_value
from tests.integration.customers.imports.support import team
from tests.integration.territories.test_divisions import code, mapped
from tests.integration.web.support import htmx, sign_in


async def test_the_mapping_page(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app, locale="en")
    csrf = await sign_in(client, t.manager)
    h = htmx(csrf)
    page = await client.get("/territory-divisions")
    assert page.status_code == 200 and "No division code is mapped yet" in page.text
    assert "浦东新区" in page.text and "江苏省" not in page.text  # only the subtree they manage
    r = await client.get("/territory-divisions/lookup", params={"code": "310115"}, headers=h)
    assert "上海市浦东新区" in r.text
    r = await client.get("/territory-divisions/lookup", params={"code": "319999"}, headers=h)
    assert "No administrative division has the code 319999" in r.text

    r = await client.post(
        "/territory-divisions", data={"code": "310115", "territory_id": t.pd["id"]}, headers=h
    )
    assert r.status_code == 200 and "上海市浦东新区 now places customers in 浦东新区." in r.text, r.text
    assert 'id="division-310115"' in r.text
    for data, status, words in (
        ({"code": "31011", "territory_id": t.pd["id"]}, 422, "six digits"),
        (
            {"code": "319999", "territory_id": t.pd["id"]},
            422,
            "No administrative division has the code 319999",
        ),
        ({"code": "320000", "territory_id": t.js["id"]}, 403, "You do not manage this territory"),
        ({"code": "320000", "territory_id": "nope"}, 422, "not a valid id"),
    ):
        r = await client.post("/territory-divisions", data=data, headers=h)
        assert r.status_code == status and words in r.text, (data, r.text)
    count = await db_value(
        admin_db, "SELECT count(*) FROM territory_divisions WHERE tenant = $1", t.owner.tenant_id
    )
    assert count == 1

    r = await client.delete("/territory-divisions/310115", headers=h)
    assert r.status_code == 200 and "no longer places customers" in r.text and "division-310115" not in r.text

    await sign_in(client, t.rep)
    assert (await client.get("/territory-divisions")).status_code == 403


async def test_placed_from_the_form_and_flagged_on_the_pages(client, mailbox, app):
    t = await team(client, mailbox, app, locale="en")
    await mapped(client, t.owner, "310115", t.pd["id"])
    csrf = await sign_in(client, t.owner)
    h = htmx(csrf)
    form = await client.get("/customers/new")
    assert "By its credit code" in form.text
    name = company("浦东")
    r = await client.post(
        "/customers", data={"full_name": name, "tax_id": code("310115"), "territory_id": ""}, headers=h
    )
    assert r.status_code in (200, 201), r.text
    r = await client.get("/api/v1/customers", params={"q": name}, headers=t.owner.headers)
    placed = r.json()["items"][0]
    assert placed["territory_id"] == t.pd["id"]
    r = await client.post("/customers", data={"full_name": company(), "territory_id": ""}, headers=h)
    assert r.status_code == 422 and "give a credit code" in r.text

    elsewhere = (
        await client.post(
            "/api/v1/customers",
            json={"full_name": company("跨区"), "tax_id": code("310115"), "territory_id": t.js["id"]},
            headers=t.owner.headers,
        )
    ).json()
    page = await client.get(f"/customers/{elsewhere['id']}")
    assert (
        'id="cross-territory"' in page.text and "Registered in" in page.text and "上海市浦东新区" in page.text
    )
    assert "By its credit code" in page.text and "浦东新区" in page.text
    page = await client.get(f"/customers/{placed['id']}")
    assert 'id="cross-territory"' not in page.text and "上海市浦东新区" in page.text

    table = await client.get("/customers", params={"view": "team"})
    assert table.text.count('class="badge cross"') == 1
    table = await client.get("/customers", params={"view": "team", "cross": "1"})
    assert elsewhere["full_name"] in table.text and placed["full_name"] not in table.text
