"""Another tenant's territory ids answer 404 on every route that takes one, and change nothing."""

from __future__ import annotations

from tests.factories import assign, staff, territory
from tests.helpers import signup


async def test_other_tenants_territory_ids_are_404_and_change_nothing(client, mailbox, app):
    owner_a = await signup(client)
    rep_a = await staff(client, owner_a, mailbox, app, role="rep")
    root_a = await territory(client, owner_a, "江苏省", level="province")
    city_a = await territory(client, owner_a, "南京市", parent=root_a["id"], level="city")
    await assign(client, owner_a, city_a["id"], rep_a, "rep")
    owner_b = await signup(client)
    rep_b = await staff(client, owner_b, mailbox, app, role="rep")
    root_b = await territory(client, owner_b, "广东省", level="province")

    def snapshot_urls() -> list[str]:
        return [
            f"/api/v1/territories/{city_a['id']}",
            f"/api/v1/territories/{city_a['id']}/members",
            "/api/v1/territories",
        ]

    before = [(await client.get(u, headers=owner_a.headers)).json() for u in snapshot_urls()]
    t = city_a["id"]
    attempts = [
        ("GET", f"/api/v1/territories/{t}", None),
        ("PATCH", f"/api/v1/territories/{t}", {"name": "被改了"}),
        ("DELETE", f"/api/v1/territories/{t}", None),
        ("POST", f"/api/v1/territories/{t}/move", {"new_parent_id": root_b["id"]}),
        ("POST", f"/api/v1/territories/{t}/move", {"new_parent_id": None, "preview": True}),
        ("GET", f"/api/v1/territories/{t}/members", None),
        ("POST", f"/api/v1/territories/{t}/members", {"membership_id": rep_b.membership_id, "role": "rep"}),
        ("DELETE", f"/api/v1/territories/{t}/members/{rep_a.membership_id}", None),
    ]
    for method, url, body in attempts:
        r = await client.request(method, url, json=body, headers=owner_b.headers)
        assert r.status_code == 404, (method, url, r.status_code, r.text)
        assert r.json()["type"] == "/problems/not-found"

    # ids of tenant A inside tenant B's bodies and filters are unknown there too
    r = await client.post(
        "/api/v1/territories", json={"name": "x", "parent_id": root_a["id"]}, headers=owner_b.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parent_id"
    r = await client.post(
        f"/api/v1/territories/{root_b['id']}/move",
        json={"new_parent_id": root_a["id"]},
        headers=owner_b.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "new_parent_id"
    r = await client.post(
        f"/api/v1/territories/{root_b['id']}/members",
        json={"membership_id": rep_a.membership_id, "role": "rep"},
        headers=owner_b.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "membership_id"
    for params in ({"parent_id": root_a["id"]}, {"under": root_a["id"]}):
        r = await client.get("/api/v1/territories", params=params, headers=owner_b.headers)
        assert r.status_code == 200 and r.json()["items"] == []
    listed_b = (await client.get("/api/v1/territories", headers=owner_b.headers)).json()["items"]
    assert [x["id"] for x in listed_b] == [root_b["id"]]

    after = [(await client.get(u, headers=owner_a.headers)).json() for u in snapshot_urls()]
    assert after == before
    assert before[0]["name"] == "南京市" and len(before[1]) == 1
