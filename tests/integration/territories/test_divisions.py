"""Territory from the credit code: division codes mapped to territories place customers entered or
imported without a territory, and flag those whose code points elsewhere (跨区)."""

from __future__ import annotations

import secrets
from typing import Any

from tests.factories import company, db_rows, territory
from tests.helpers import Member, signup
from tests.integration.customers.imports.support import csv_file, imported, team

_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def code(division: str) -> str:
    """A well-formed credit code registered in ``division``."""
    return "91" + division + "".join(secrets.choice(_CHARS) for _ in range(10))


async def mapped(client: Any, who: Member, division: str, territory_id: str, status: int = 200) -> Any:
    r = await client.put(
        f"/api/v1/territory-divisions/{division}", json={"territory_id": territory_id}, headers=who.headers
    )
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def entered(client: Any, who: Member, tax_id: str, **fields: Any) -> Any:
    r = await client.post(
        "/api/v1/customers", json={"full_name": company(), "tax_id": tax_id, **fields}, headers=who.headers
    )
    return r


async def test_codes_place_customers_and_flag_cross_territory(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app)
    sh = await mapped(client, t.owner, "310000", t.sh["id"])
    assert (sh["name"], sh["level"], sh["territory_name"]) == ("上海市", "province", "上海市")
    pd = await mapped(client, t.owner, "310115", t.pd["id"])
    assert (pd["name"], pd["level"]) == ("上海市浦东新区", "county")
    await mapped(client, t.owner, "320000", t.js["id"])

    # without a territory: the most specific mapped code wins
    in_pd = (await entered(client, t.owner, code("310115"), owner_membership_id=None)).json()
    in_sh = (await entered(client, t.owner, code("310104"), owner_membership_id=None)).json()
    in_js = (await entered(client, t.owner, code("320102"), owner_membership_id=None)).json()
    assert in_pd["territory_id"] == t.pd["id"] and in_sh["territory_id"] == t.sh["id"]
    assert in_js["territory_id"] == t.js["id"]
    assert not any(c["cross_territory"] for c in (in_pd, in_sh, in_js))
    assert in_pd["code_territory_id"] == t.pd["id"]
    # a rep placed by code in their own territory; not elsewhere
    r = await entered(client, t.rep, code("310115"))
    assert r.status_code == 201 and r.json()["territory_id"] == t.pd["id"], r.text
    assert (await entered(client, t.rep, code("320102"))).status_code == 403

    # in a territory the code does not point into: 跨区; below the code's territory: not
    elsewhere = (await entered(client, t.owner, code("310115"), territory_id=t.js["id"])).json()
    below = (await entered(client, t.owner, code("310000"), territory_id=t.pd["id"])).json()
    assert elsewhere["cross_territory"] and elsewhere["code_territory_id"] == t.pd["id"]
    assert not below["cross_territory"] and below["code_territory_id"] == t.sh["id"]
    r = await client.get("/api/v1/customers", params={"cross_territory": "true"}, headers=t.owner.headers)
    assert [c["id"] for c in r.json()["items"]] == [elsewhere["id"]]
    r = await client.get(f"/api/v1/customers/{elsewhere['id']}", headers=t.owner.headers)
    assert r.json()["cross_territory"] is True

    # unmapping the county: its customers fall back to the province
    assert (
        await client.delete("/api/v1/territory-divisions/310115", headers=t.owner.headers)
    ).status_code == 204
    r = await client.get(f"/api/v1/customers/{elsewhere['id']}", headers=t.owner.headers)
    assert r.json()["code_territory_id"] == t.sh["id"] and r.json()["cross_territory"] is True
    r = await client.get(f"/api/v1/customers/{in_pd['id']}", headers=t.owner.headers)
    assert r.json()["code_territory_id"] == t.sh["id"] and r.json()["cross_territory"] is False

    # moving the customer, or changing its code, places it again
    r = await client.patch(
        f"/api/v1/customers/{elsewhere['id']}", json={"territory_id": t.pd["id"]}, headers=t.owner.headers
    )
    assert r.status_code == 200 and r.json()["cross_territory"] is False, r.text
    r = await client.patch(
        f"/api/v1/customers/{elsewhere['id']}", json={"tax_id": code("320102")}, headers=t.owner.headers
    )
    assert r.json()["cross_territory"] is True and r.json()["code_territory_id"] == t.js["id"]

    # a subtree moved out from under the code's territory: its customers become 跨区
    r = await client.post(
        f"/api/v1/territories/{t.pd['id']}/move", json={"new_parent_id": None}, headers=t.owner.headers
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/v1/customers/{below['id']}", headers=t.owner.headers)
    assert r.json()["cross_territory"] is True

    # deleting a mapped territory drops its codes and places their customers again
    zj = await territory(client, t.owner, "浙江省")
    await mapped(client, t.owner, "330000", zj["id"])
    hz = (await entered(client, t.owner, code("330106"), territory_id=t.js["id"])).json()
    assert hz["cross_territory"] is True and hz["code_territory_id"] == zj["id"]
    assert (
        await client.delete(f"/api/v1/territories/{zj['id']}", headers=t.owner.headers)
    ).status_code == 204
    rows = await db_rows(
        admin_db, "SELECT code FROM territory_divisions WHERE tenant = $1", t.owner.tenant_id
    )
    assert "330000" not in {x["code"] for x in rows}
    r = await client.get(f"/api/v1/customers/{hz['id']}", headers=t.owner.headers)
    assert (r.json()["code_territory_id"], r.json()["cross_territory"]) == (None, False)
    audit = "SELECT action FROM audit_log WHERE tenant = $1 AND action LIKE 'territory.division%'"
    actions = await db_rows(admin_db, audit, t.owner.tenant_id)
    assert {a["action"] for a in actions} == {"territory.division_mapped", "territory.division_unmapped"}


async def test_bad_codes_and_unknown_divisions(client, mailbox, app):
    t = await team(client, mailbox, app)
    for bad in ("31011", "abcdef", "3101150", "31 01 1x"):
        r = await client.put(
            f"/api/v1/territory-divisions/{bad}", json={"territory_id": t.sh["id"]}, headers=t.owner.headers
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "code", (bad, r.text)
    r = await client.put(
        "/api/v1/territory-divisions/319999", json={"territory_id": t.sh["id"]}, headers=t.owner.headers
    )
    assert r.status_code == 422 and "319999" in r.json()["errors"][0]["message"]
    other = await signup(client)
    theirs = await territory(client, other, "广东省")
    for missing in (theirs["id"], "00000000-0000-0000-0000-000000000001"):
        r = await client.put(
            "/api/v1/territory-divisions/310000", json={"territory_id": missing}, headers=t.owner.headers
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "territory_id"
    r = await client.put(
        "/api/v1/territory-divisions/310000", json={"territory": "x"}, headers=t.owner.headers
    )
    assert r.status_code == 422
    assert (
        await client.delete("/api/v1/territory-divisions/310000", headers=t.owner.headers)
    ).status_code == 404
    assert (
        await client.delete("/api/v1/territory-divisions/abc", headers=t.owner.headers)
    ).status_code == 404

    # the division table
    assert (await client.get("/api/v1/divisions/999999", headers=t.rep.headers)).status_code == 404
    r = await client.get("/api/v1/divisions/310115", headers=t.rep.headers)
    assert r.json() == {
        "code": "310115",
        "name": "浦东新区",
        "level": "county",
        "full_name": "上海市浦东新区",
    }
    r = await client.get("/api/v1/divisions", params={"q": "浦东"}, headers=t.rep.headers)
    assert "310115" in {d["code"] for d in r.json()}
    r = await client.get("/api/v1/divisions", params={"q": "3101"}, headers=t.rep.headers)
    assert r.json() and all(d["code"].startswith("3101") for d in r.json())
    assert (await client.get("/api/v1/divisions", params={"q": ""}, headers=t.rep.headers)).status_code == 422

    await mapped(client, t.owner, "310000", t.sh["id"])
    # no territory and no code / a code nobody mapped / a malformed code
    r = await client.post("/api/v1/customers", json={"full_name": company()}, headers=t.owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "territory_id"
    r = await entered(client, t.owner, code("440305"))
    assert r.status_code == 422 and "440305" in r.json()["errors"][0]["message"], r.text
    r = await entered(client, t.owner, "91ABCDEF1234567890")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "tax_id"
    # a county the table does not list, in a mapped province: placed by the province
    r = await entered(client, t.owner, code("319999"), owner_membership_id=None)
    assert r.status_code == 201 and r.json()["territory_id"] == t.sh["id"], r.text
    # another tenant's mapping is its own
    assert (await client.get("/api/v1/territory-divisions", headers=other.headers)).json() == []
    r = await entered(client, other, code("310115"))
    assert r.status_code == 422


async def test_who_may_map(client, mailbox, app):
    t = await team(client, mailbox, app)
    await mapped(client, t.rep, "310115", t.pd["id"], status=403)
    made = await mapped(client, t.manager, "310115", t.pd["id"])  # inside the subtree they manage
    assert made["territory_id"] == t.pd["id"]
    await mapped(client, t.manager, "320000", t.js["id"], status=403)
    await mapped(client, t.owner, "320000", t.js["id"])
    await mapped(client, t.manager, "320000", t.pd["id"], status=403)  # mapped where they do not manage
    assert (
        await client.delete("/api/v1/territory-divisions/320000", headers=t.manager.headers)
    ).status_code == 403
    assert (
        await client.delete("/api/v1/territory-divisions/310115", headers=t.rep.headers)
    ).status_code == 403
    r = await client.get("/api/v1/territory-divisions", headers=t.rep.headers)
    assert [m["code"] for m in r.json()] == ["310115", "320000"]
    r = await client.get(
        "/api/v1/territory-divisions", params={"territory_id": t.js["id"]}, headers=t.rep.headers
    )
    assert [m["code"] for m in r.json()] == ["320000"]
    assert (
        await client.delete("/api/v1/territory-divisions/310115", headers=t.manager.headers)
    ).status_code == 204


async def test_import_places_rows_without_a_territory(client, mailbox, app):
    t = await team(client, mailbox, app)
    await mapped(client, t.owner, "310115", t.pd["id"])
    await mapped(client, t.owner, "320000", t.js["id"])
    pd_code, js_code, loose = code("310115"), code("320583"), code("440305")
    rows = [
        ["浦东甲信息技术有限公司", pd_code, "", "", "", "B", "", "", "公海"],
        ["昆山乙信息技术有限公司", js_code, "", "", "", "B", "", "", "公海"],
        ["深圳丙信息技术有限公司", loose, "", "", "", "B", "", "", "公海"],
        ["写明丁信息技术有限公司", code("310115"), "", "", "", "B", "江苏省", "", "公海"],
    ]
    done = await imported(client, app, t.owner, csv_file(rows), mode="valid_rows")
    assert (done["rows_imported"], done["rows_rejected"]) == (3, 1), done["errors"]
    assert [(e["row"], e["field"]) for e in done["errors"]] == [(4, "territory")]
    items = (await client.get("/api/v1/customers", params={"limit": 200}, headers=t.owner.headers)).json()[
        "items"
    ]
    by_code = {c["tax_id"]: c for c in items}
    assert by_code[pd_code]["territory_id"] == t.pd["id"] and by_code[js_code]["territory_id"] == t.js["id"]
    assert loose not in by_code
    stated = next(c for c in items if c["full_name"].startswith("写明丁"))
    assert stated["territory_id"] == t.js["id"] and stated["cross_territory"] is True
    # with a default territory, an unmapped code lands there
    done = await imported(client, app, t.owner, csv_file([rows[2]]), default_territory_id=t.sh["id"])
    assert done["rows_imported"] == 1, done


async def test_leads_without_a_territory_are_placed_by_code(client, mailbox, app):
    from tests.integration.leads.keys import api_key, bearer

    t = await team(client, mailbox, app)
    await mapped(client, t.owner, "320000", t.js["id"])
    key = await api_key(client, t.owner, ["leads:write"])
    leads = [
        {"full_name": company("苏州"), "tax_id": code("320583")},
        {"full_name": company("深圳"), "tax_id": code("440305")},
        {"full_name": company("写明"), "tax_id": code("320583"), "territory_id": t.pd["id"]},
    ]
    r = await client.post("/api/v1/leads", json=leads, headers={**bearer(key), "Idempotency-Key": "k1"})
    assert r.status_code == 201, r.text
    placed = [x["territory_id"] for x in r.json()["results"]]
    assert placed[0] == t.js["id"] and placed[2] == t.pd["id"]
    # unmapped: the first top-level territory made (华东), as before
    r = await client.get(f"/api/v1/territories/{placed[1]}", headers=t.owner.headers)
    assert r.json()["name"] == "华东"
