"""An invitation carries territories (``territory_ids``): they are shown with it, validated (this
tenant's, and managed by the inviter: another tenant's id or an unknown one is a 422 naming the
field, with nothing stored or mailed), and the invitee joins them on accepting — as their manager when
invited as a manager, else as a rep; a territory deleted before the acceptance drops out."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from tests.factories import db_rows, db_value, territory
from tests.helpers import PASSWORD, Member, last_link, run_jobs, signup


async def _invite(client: Any, who: Member, territory_ids: list[str], role: str = "rep") -> Any:
    body = {"email": f"inv-{secrets.token_hex(4)}@example.com", "role": role, "territory_ids": territory_ids}
    return await client.post("/api/v1/invitations", json=body, headers=who.headers)


async def _accept(client: Any, app: Any, mailbox: Any, email_addr: str) -> Member:
    await run_jobs(app)
    token = last_link(mailbox, to=email_addr)
    r = await client.post(
        f"/api/v1/invitations/{token}/accept", json={"password": PASSWORD, "name": "新同事"}
    )
    assert r.status_code == 201, r.text
    client.cookies.clear()
    return Member(r.json()["token"], r.json()["csrf_token"], email_addr, "")


async def _joined(client: Any, owner: Member, email_addr: str, *territory_ids: str) -> dict[str, str]:
    """The member's role in each of ``territory_ids`` they are in (by the territories' member lists)."""
    found = {}
    for tid in territory_ids:
        r = await client.get(f"/api/v1/territories/{tid}/members", headers=owner.headers)
        assert r.status_code == 200, r.text
        for m in r.json():
            if m["email"] == email_addr:
                found[tid] = m["role"]
    return found


async def test_a_rep_joins_the_invitations_territories_on_accepting(client, app, mailbox):
    owner = await signup(client)
    east = await territory(client, owner, "华东区")
    suzhou = await territory(client, owner, "苏州市", parent=east["id"])
    other = await territory(client, owner, "无锡市", parent=east["id"])
    r = await _invite(client, owner, [suzhou["id"], east["id"], suzhou["id"]])  # a repeat counts once
    assert r.status_code == 201, r.text
    invitation = r.json()
    expected = [
        {"id": east["id"], "name": "华东区", "role": "rep"},
        {"id": suzhou["id"], "name": "苏州市", "role": "rep"},
    ]
    assert invitation["territories"] == expected  # in tree order
    listed = (await client.get("/api/v1/invitations", headers=owner.headers)).json()["items"]
    assert next(i for i in listed if i["id"] == invitation["id"])["territories"] == expected

    rep = await _accept(client, app, mailbox, invitation["email"])
    joined = await _joined(client, owner, invitation["email"], east["id"], suzhou["id"], other["id"])
    assert joined == {east["id"]: "rep", suzhou["id"]: "rep"}
    r = await client.get("/api/v1/me", headers=rep.headers)
    assert r.status_code == 200 and r.json()["role"] == "rep"


async def test_a_manager_manages_them_and_a_deleted_territory_drops_out(client, app, mailbox, admin_db):
    owner = await signup(client)
    kept = await territory(client, owner, "南京市")
    gone = await territory(client, owner, "扬州市")
    r = await _invite(client, owner, [kept["id"], gone["id"]], role="manager")
    assert r.status_code == 201, r.text
    invitation = r.json()
    assert [t["role"] for t in invitation["territories"]] == ["manager", "manager"]
    r = await client.delete(f"/api/v1/territories/{gone['id']}", headers=owner.headers)
    assert r.status_code == 204, r.text
    listed = (await client.get("/api/v1/invitations", headers=owner.headers)).json()["items"]
    assert [t["id"] for t in listed[0]["territories"]] == [kept["id"]]

    manager = await _accept(client, app, mailbox, invitation["email"])
    assert await _joined(client, owner, invitation["email"], kept["id"]) == {kept["id"]: "manager"}
    # managing it, they may now add a territory under it
    r = await client.post(
        "/api/v1/territories",
        json={"name": "江宁区", "level": "custom", "parent_id": kept["id"]},
        headers=manager.headers,
    )
    assert r.status_code == 201, r.text
    accepted = await db_value(
        admin_db,
        "SELECT data->'territory_ids' FROM audit_log WHERE action = 'invitation.accepted'"
        " AND subject_id = $1",
        invitation["id"],
    )
    assert kept["id"] in accepted


async def test_another_tenants_or_an_unknown_territory_is_refused_and_nothing_is_sent(client, admin_db):
    owner = await signup(client)
    mine = await territory(client, owner, "杭州市")
    stranger = await signup(client)
    theirs = await territory(client, stranger, "宁波市")
    counts = (
        "SELECT (SELECT count(*) FROM invitations WHERE tenant = $1::uuid),"
        " (SELECT count(*) FROM emails WHERE tenant = $1::uuid)"
    )
    before = (await db_rows(admin_db, counts, owner.tenant_id))[0]
    for ids in ([mine["id"], theirs["id"]], [str(uuid.uuid4())]):
        r = await _invite(client, owner, ids)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["field"] == "territory_ids", r.text
    r = await _invite(client, owner, ["not-a-uuid"])
    assert r.status_code in (400, 422), r.text
    r = await _invite(client, owner, [str(uuid.uuid4()) for _ in range(51)])
    assert r.status_code in (400, 422), r.text
    after = (await db_rows(admin_db, counts, owner.tenant_id))[0]
    assert tuple(after) == tuple(before)  # no invitation, no mail queued
    assert (
        await db_value(
            admin_db,
            "SELECT count(*) FROM invitation_territories WHERE territory_id = $1::uuid",
            theirs["id"],
        )
        == 0
    )


async def test_only_an_admin_invites_with_territories(client, app, mailbox):
    owner = await signup(client)
    place = await territory(client, owner, "常州市")
    r = await _invite(client, owner, [place["id"]], role="manager")
    manager = await _accept(client, app, mailbox, r.json()["email"])
    r = await _invite(client, manager, [place["id"]])  # managing the territory is not enough to invite
    assert r.status_code == 403, r.text
