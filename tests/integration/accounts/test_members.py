from __future__ import annotations

import base64
import json
from uuid import UUID

from tests.helpers import PASSWORD, add_member, connect, signup


async def _audit(admin_db: str, tenant_id: str, subject_id: str) -> list[dict[str, object]]:
    async with connect(admin_db) as conn:
        rows = await conn.fetch(
            "SELECT actor, action, subject_type, reason, data FROM audit_log"
            " WHERE tenant = $1 AND subject_id = $2 ORDER BY id",
            UUID(tenant_id),
            subject_id,
        )
    return [{**dict(r), "data": json.loads(r["data"])} for r in rows]


async def _member_row(admin_db: str, membership_id: str) -> dict[str, object]:
    async with connect(admin_db) as conn:
        row = await conn.fetchrow(
            "SELECT tenant, role, active, deactivated_at FROM memberships WHERE id = $1", UUID(membership_id)
        )
    assert row is not None
    return dict(row)


async def test_list_members_pages_with_a_cursor_until_the_end(client, app, mailbox):
    owner = await signup(client)
    added = [
        await add_member(client, owner, mailbox, app, role=r) for r in ("rep", "rep", "manager", "admin")
    ]
    expected = {owner.membership_id, *(m.membership_id for m in added)}
    assert len(expected) == 5

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await client.get("/api/v1/members", params=params, headers=owner.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= 2
        seen += [m["id"] for m in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "pagination does not end"
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == expected

    whole = (await client.get("/api/v1/members", headers=owner.headers)).json()
    assert whole["next_cursor"] is None and [m["id"] for m in whole["items"]] == seen
    first = next(m for m in whole["items"] if m["id"] == owner.membership_id)
    assert first["email"] == owner.email and first["role"] == "owner" and first["active"] is True


async def test_list_members_filters_by_role_and_active(client, app, mailbox):
    owner = await signup(client)
    rep1 = await add_member(client, owner, mailbox, app, role="rep")
    rep2 = await add_member(client, owner, mailbox, app, role="rep")
    manager = await add_member(client, owner, mailbox, app, role="manager")
    r = await client.post(f"/api/v1/members/{rep2.membership_id}/deactivate", headers=owner.headers)
    assert r.status_code == 200, r.text

    reps = (await client.get("/api/v1/members", params={"role": "rep"}, headers=owner.headers)).json()[
        "items"
    ]
    assert {m["id"] for m in reps} == {rep1.membership_id, rep2.membership_id}
    managers = (await client.get("/api/v1/members", params={"role": "manager"}, headers=owner.headers)).json()
    assert [m["id"] for m in managers["items"]] == [manager.membership_id]

    inactive = (await client.get("/api/v1/members", params={"active": "false"}, headers=owner.headers)).json()
    assert [m["id"] for m in inactive["items"]] == [rep2.membership_id]
    assert inactive["items"][0]["active"] is False and inactive["items"][0]["deactivated_at"]
    active = (
        await client.get("/api/v1/members", params={"active": "true", "role": "rep"}, headers=owner.headers)
    ).json()
    assert [m["id"] for m in active["items"]] == [rep1.membership_id]


async def test_list_members_rejects_bad_cursors_and_limits(client):
    owner = await signup(client)
    forged = base64.urlsafe_b64encode(json.dumps(["not a date", "not a uuid"]).encode()).decode().rstrip("=")
    for params in (
        {"cursor": "%%%garbage"},
        {"cursor": "WyJhIl0"},
        {"cursor": forged},
        {"limit": 0},
        {"limit": 201},
    ):
        r = await client.get("/api/v1/members", params=params, headers=owner.headers)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["type"] == "/problems/validation"
        field = "cursor" if "cursor" in params else "limit"
        assert [e["field"] for e in r.json()["errors"]] == [field], (params, r.json())


async def test_get_one_member(client, app, mailbox):
    owner = await signup(client)
    rep = await add_member(client, owner, mailbox, app, role="rep")
    r = await client.get(f"/api/v1/members/{rep.membership_id}", headers=rep.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == rep.membership_id and body["user_id"] == rep.user_id
    assert body["email"] == rep.email and body["role"] == "rep" and body["active"] is True
    r = await client.get("/api/v1/members/00000000-0000-0000-0000-000000000000", headers=owner.headers)
    assert r.status_code == 404 and r.json()["type"] == "/problems/not-found"


async def test_change_role_rules(client, app, mailbox, admin_db):
    owner = await signup(client)
    admin = await add_member(client, owner, mailbox, app, role="admin")
    rep = await add_member(client, owner, mailbox, app, role="rep")
    other_rep = await add_member(client, owner, mailbox, app, role="rep")

    r = await client.patch(
        f"/api/v1/members/{rep.membership_id}", json={"role": "manager"}, headers=admin.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "manager"
    assert (await _member_row(admin_db, rep.membership_id))["role"] == "manager"
    assert (await client.get("/api/v1/me", headers=rep.headers)).json()["role"] == "manager"
    entries = await _audit(admin_db, owner.tenant_id, rep.membership_id)
    assert [e["action"] for e in entries] == ["member.role_changed"]
    assert str(entries[0]["actor"]) == admin.user_id
    assert entries[0]["data"] == {"from": "rep", "to": "manager"}

    # a rep may not change roles at all
    r = await client.patch(
        f"/api/v1/members/{other_rep.membership_id}", json={"role": "admin"}, headers=other_rep.headers
    )
    assert r.status_code == 403 and r.json()["type"] == "/problems/forbidden"
    # an admin may not make an owner, nor demote one
    r = await client.patch(
        f"/api/v1/members/{other_rep.membership_id}", json={"role": "owner"}, headers=admin.headers
    )
    assert r.status_code == 403
    r = await client.patch(
        f"/api/v1/members/{owner.membership_id}", json={"role": "rep"}, headers=admin.headers
    )
    assert r.status_code == 403
    assert (await _member_row(admin_db, other_rep.membership_id))["role"] == "rep"
    assert (await _member_row(admin_db, owner.membership_id))["role"] == "owner"
    # an unknown role is a validation error
    r = await client.patch(
        f"/api/v1/members/{other_rep.membership_id}", json={"role": "king"}, headers=owner.headers
    )
    assert r.status_code == 422
    assert len(await _audit(admin_db, owner.tenant_id, other_rep.membership_id)) == 0


async def test_last_owner_cannot_be_demoted_but_one_of_two_can(client, app, mailbox, admin_db):
    owner = await signup(client)
    r = await client.patch(
        f"/api/v1/members/{owner.membership_id}", json={"role": "admin"}, headers=owner.headers
    )
    assert r.status_code == 409, r.text
    assert r.json()["type"] == "/problems/conflict"
    assert (await _member_row(admin_db, owner.membership_id))["role"] == "owner"

    second = await add_member(client, owner, mailbox, app, role="owner")
    assert (await client.get("/api/v1/me", headers=second.headers)).json()["role"] == "owner"
    r = await client.patch(
        f"/api/v1/members/{owner.membership_id}", json={"role": "admin"}, headers=second.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "admin"
    # now `second` is the last owner again
    r = await client.patch(
        f"/api/v1/members/{second.membership_id}", json={"role": "rep"}, headers=second.headers
    )
    assert r.status_code == 409
    entries = await _audit(admin_db, owner.tenant_id, owner.membership_id)
    assert [(e["action"], e["data"]) for e in entries] == [
        ("member.role_changed", {"from": "owner", "to": "admin"})
    ]


async def test_deactivate_revokes_sessions_and_reactivate_restores(client, app, mailbox, admin_db):
    owner = await signup(client)
    rep = await add_member(client, owner, mailbox, app, role="rep")
    assert (await client.get("/api/v1/me", headers=rep.headers)).status_code == 200

    r = await client.post(f"/api/v1/members/{owner.membership_id}/deactivate", headers=owner.headers)
    assert r.status_code == 409
    assert (await _member_row(admin_db, owner.membership_id))["active"] is True

    r = await client.post(
        f"/api/v1/members/{rep.membership_id}/deactivate",
        params={"reason": "left the company"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False and r.json()["deactivated_at"]
    assert (await client.get("/api/v1/me", headers=rep.headers)).status_code == 401
    async with connect(admin_db) as conn:
        live = await conn.fetchval(
            "SELECT count(*) FROM sessions WHERE user_id = $1 AND tenant = $2 AND revoked_at IS NULL",
            UUID(rep.user_id),
            UUID(owner.tenant_id),
        )
    assert live == 0
    # a deactivated member cannot sign in to this company
    r = await client.post("/api/v1/auth/login", json={"email": rep.email, "password": PASSWORD})
    assert r.status_code == 401

    r = await client.post(f"/api/v1/members/{rep.membership_id}/reactivate", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True and r.json()["deactivated_at"] is None
    row = await _member_row(admin_db, rep.membership_id)
    assert row["active"] is True and row["role"] == "rep"
    # the old session stays revoked; signing in again works
    assert (await client.get("/api/v1/me", headers=rep.headers)).status_code == 401
    r = await client.post("/api/v1/auth/login", json={"email": rep.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    token = r.json()["session"]["token"]
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200

    entries = await _audit(admin_db, owner.tenant_id, rep.membership_id)
    assert [e["action"] for e in entries] == ["member.deactivated", "member.reactivated"]
    assert entries[0]["reason"] == "left the company"
    assert {str(e["actor"]) for e in entries} == {owner.user_id}
    assert {e["subject_type"] for e in entries} == {"membership"}


async def test_a_rep_cannot_deactivate_or_reactivate(client, app, mailbox, admin_db):
    owner = await signup(client)
    rep = await add_member(client, owner, mailbox, app, role="rep")
    manager = await add_member(client, owner, mailbox, app, role="manager")
    r = await client.post(f"/api/v1/members/{manager.membership_id}/deactivate", headers=rep.headers)
    assert r.status_code == 403
    r = await client.post(f"/api/v1/members/{manager.membership_id}/deactivate", headers=manager.headers)
    assert r.status_code == 403
    assert (await _member_row(admin_db, manager.membership_id))["active"] is True
    assert await _audit(admin_db, owner.tenant_id, manager.membership_id) == []


async def test_members_of_another_tenant_are_not_found(client, app, mailbox, admin_db):
    owner_a = await signup(client)
    owner_b = await signup(client)
    rep_b = await add_member(client, owner_b, mailbox, app, role="rep")
    gone_b = await add_member(client, owner_b, mailbox, app, role="rep")
    r = await client.post(f"/api/v1/members/{gone_b.membership_id}/deactivate", headers=owner_b.headers)
    assert r.status_code == 200
    before = {
        m: await _member_row(admin_db, m)
        for m in (rep_b.membership_id, gone_b.membership_id, owner_b.membership_id)
    }

    for target in (rep_b.membership_id, owner_b.membership_id):
        r = await client.get(f"/api/v1/members/{target}", headers=owner_a.headers)
        assert r.status_code == 404, r.text
        r = await client.patch(f"/api/v1/members/{target}", json={"role": "admin"}, headers=owner_a.headers)
        assert r.status_code == 404, r.text
        r = await client.post(f"/api/v1/members/{target}/deactivate", headers=owner_a.headers)
        assert r.status_code == 404, r.text
    r = await client.post(f"/api/v1/members/{gone_b.membership_id}/reactivate", headers=owner_a.headers)
    assert r.status_code == 404, r.text
    listed = (await client.get("/api/v1/members", headers=owner_a.headers)).json()["items"]
    assert [m["id"] for m in listed] == [owner_a.membership_id]

    for membership_id, row in before.items():
        assert await _member_row(admin_db, membership_id) == row
    async with connect(admin_db) as conn:
        leaked = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE tenant = $1 AND action LIKE 'member.%'",
            UUID(owner_a.tenant_id),
        )
    assert leaked == 0
