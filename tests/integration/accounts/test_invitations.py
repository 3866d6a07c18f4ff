from __future__ import annotations

import hashlib
import secrets
from uuid import UUID

from tests.helpers import PASSWORD, Member, add_member, connect, last_link, mails_to, run_jobs, signup


async def _invite(
    client, inviter: Member, email_addr: str | None = None, role: str = "rep"
) -> dict[str, object]:
    email_addr = email_addr or f"inv-{secrets.token_hex(4)}@example.com"
    r = await client.post(
        "/api/v1/invitations", json={"email": email_addr, "role": role}, headers=inviter.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _invite_and_link(
    client, app, mailbox, inviter: Member, email_addr: str | None = None, role: str = "rep"
) -> tuple[dict[str, object], str]:
    invitation = await _invite(client, inviter, email_addr, role)
    await run_jobs(app)
    return invitation, last_link(mailbox, to=str(invitation["email"]))


async def _accept(client, token: str, password: str = PASSWORD, name: str | None = "新同事"):
    body: dict[str, object] = {"password": password}
    if name is not None:
        body["name"] = name
    r = await client.post(f"/api/v1/invitations/{token}/accept", json=body)
    client.cookies.clear()
    return r


async def _memberships(admin_db: str, tenant_id: str, email_addr: str) -> list[dict[str, object]]:
    async with connect(admin_db) as conn:
        rows = await conn.fetch(
            "SELECT m.id, m.role, m.active FROM memberships m JOIN users u ON u.id = m.user_id"
            " WHERE m.tenant = $1 AND lower(u.email) = lower($2)",
            UUID(tenant_id),
            email_addr,
        )
    return [dict(r) for r in rows]


async def test_invite_mails_a_link_and_accepting_creates_user_membership_session(
    client, app, mailbox, admin_db
):
    owner = await signup(client)
    invitee = f"new-{secrets.token_hex(4)}@example.com"
    invitation = await _invite(client, owner, invitee.upper(), role="manager")
    assert invitation["email"] == invitee and invitation["role"] == "manager"
    assert invitation["status"] == "pending" and invitation["accepted_at"] is None
    assert mails_to(mailbox, invitee) == []  # queued, not sent by the request itself

    await run_jobs(app)
    (msg,) = mails_to(mailbox, invitee)
    assert owner.email in msg["Subject"] or "Owner 王" in msg["Subject"]
    token = last_link(mailbox, to=invitee)
    assert token.startswith(UUID(owner.tenant_id).hex + ".")

    r = await _accept(client, token, name="李四")
    assert r.status_code == 201, r.text
    session = r.json()
    assert session["tenant"]["slug"] == owner.tenant_slug and session["tenant"]["role"] == "manager"
    assert "acre_session" in r.cookies
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {session['token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == invitee and me.json()["name"] == "李四" and me.json()["role"] == "manager"
    assert [(m["role"], m["active"]) for m in await _memberships(admin_db, owner.tenant_id, invitee)] == [
        ("manager", True)
    ]
    async with connect(admin_db) as conn:
        assert await conn.fetchval("SELECT count(*) FROM users WHERE lower(email) = $1", invitee) == 1
        actions = await conn.fetch(
            "SELECT action FROM audit_log WHERE tenant = $1 AND subject_id = $2 ORDER BY id",
            UUID(owner.tenant_id),
            invitation["id"],
        )
    assert [a["action"] for a in actions] == ["invitation.created", "invitation.accepted"]

    listed = (await client.get("/api/v1/invitations", headers=owner.headers)).json()["items"]
    assert [(i["id"], i["status"]) for i in listed] == [(invitation["id"], "accepted")]
    assert listed[0]["accepted_at"]


async def test_accepting_twice_is_gone(client, app, mailbox):
    owner = await signup(client)
    invitation, token = await _invite_and_link(client, app, mailbox, owner)
    assert (await _accept(client, token)).status_code == 201
    r = await _accept(client, token)
    assert r.status_code == 410
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/gone" and r.json()["status"] == "accepted"
    # an accepted invitation can no longer be revoked
    r = await client.post(f"/api/v1/invitations/{invitation['id']}/revoke", headers=owner.headers)
    assert r.status_code == 409


async def test_expired_and_revoked_invitations_are_gone(client, app, mailbox, admin_db):
    owner = await signup(client)
    expired, expired_token = await _invite_and_link(client, app, mailbox, owner)
    revoked, revoked_token = await _invite_and_link(client, app, mailbox, owner)
    async with connect(admin_db) as conn:
        await conn.execute(
            "UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1",
            UUID(str(expired["id"])),
        )
    r = await client.post(f"/api/v1/invitations/{revoked['id']}/revoke", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "revoked"

    for token, status, invitee in (
        (expired_token, "expired", expired["email"]),
        (revoked_token, "revoked", revoked["email"]),
    ):
        r = await _accept(client, token)
        assert r.status_code == 410, r.text
        assert r.json()["type"] == "/problems/gone" and r.json()["status"] == status
        assert await _memberships(admin_db, owner.tenant_id, str(invitee)) == []
        async with connect(admin_db) as conn:
            assert await conn.fetchval("SELECT count(*) FROM users WHERE email = $1", invitee) == 0

    statuses = {
        i["id"]: i["status"]
        for i in (await client.get("/api/v1/invitations", headers=owner.headers)).json()["items"]
    }
    assert statuses == {expired["id"]: "expired", revoked["id"]: "revoked"}
    # revoking twice is harmless
    r = await client.post(f"/api/v1/invitations/{revoked['id']}/revoke", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "revoked"


async def test_unknown_tokens_are_not_found(client):
    owner = await signup(client)
    tenant_hex = UUID(owner.tenant_id).hex
    for token in ("garbage", "nothex." + "x" * 43, f"{tenant_hex}.short", f"{tenant_hex}." + "A" * 43):
        r = await _accept(client, token)
        assert r.status_code == 404, (token, r.text)
        assert r.json()["type"] == "/problems/not-found"


async def test_existing_user_accepts_with_their_password(client, app, mailbox, admin_db):
    owner = await signup(client)
    elsewhere = await signup(client)  # a user who owns another company
    _, token = await _invite_and_link(client, app, mailbox, owner, email_addr=elsewhere.email, role="admin")

    r = await _accept(client, token, password="Wrong-password-1", name=None)
    assert r.status_code == 401 and r.json()["type"] == "/problems/not-authenticated"
    assert await _memberships(admin_db, owner.tenant_id, elsewhere.email) == []
    # the invitation is still usable after a wrong password
    r = await _accept(client, token, name=None)
    assert r.status_code == 201, r.text
    assert r.json()["tenant"]["slug"] == owner.tenant_slug and r.json()["tenant"]["role"] == "admin"
    me = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['token']}"})).json()
    assert me["user_id"] == elsewhere.user_id and me["tenant_id"] == owner.tenant_id
    assert [
        (m["role"], m["active"]) for m in await _memberships(admin_db, owner.tenant_id, elsewhere.email)
    ] == [("admin", True)]
    async with connect(admin_db) as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM users WHERE lower(email) = lower($1)", elsewhere.email)
            == 1
        )
    # their own company is untouched
    assert (await client.get("/api/v1/me", headers=elsewhere.headers)).json()["role"] == "owner"


async def test_inviting_an_active_member_is_a_conflict(client, app, mailbox, admin_db):
    owner = await signup(client)
    rep = await add_member(client, owner, mailbox, app)
    for addr in (rep.email, owner.email.upper()):
        r = await client.post("/api/v1/invitations", json={"email": addr}, headers=owner.headers)
        assert r.status_code == 409, r.text
        assert r.json()["type"] == "/problems/conflict" and r.json()["field"] == "email"
    async with connect(admin_db) as conn:
        pending = await conn.fetchval(
            "SELECT count(*) FROM invitations WHERE tenant = $1 AND accepted_at IS NULL",
            UUID(owner.tenant_id),
        )
    assert pending == 0


async def test_reinviting_revokes_the_previous_link(client, app, mailbox, admin_db):
    owner = await signup(client)
    invitee = f"again-{secrets.token_hex(4)}@example.com"
    first, first_token = await _invite_and_link(client, app, mailbox, owner, email_addr=invitee)
    second, second_token = await _invite_and_link(
        client, app, mailbox, owner, email_addr=invitee, role="manager"
    )
    assert first_token != second_token and len(mails_to(mailbox, invitee)) == 2

    r = await _accept(client, first_token)
    assert r.status_code == 410 and r.json()["status"] == "revoked"
    r = await _accept(client, second_token)
    assert r.status_code == 201 and r.json()["tenant"]["role"] == "manager"
    statuses = {
        i["id"]: i["status"]
        for i in (await client.get("/api/v1/invitations", headers=owner.headers)).json()["items"]
    }
    assert statuses == {first["id"]: "revoked", second["id"]: "accepted"}


async def test_only_the_token_hash_is_stored(client, app, mailbox, admin_db):
    owner = await signup(client)
    invitation, token = await _invite_and_link(client, app, mailbox, owner)
    secret = token.split(".", 1)[1]
    async with connect(admin_db) as conn:
        row = await conn.fetchrow(
            "SELECT token_hash, i::text AS everything FROM invitations i WHERE id = $1",
            UUID(str(invitation["id"])),
        )
        raw = await conn.fetchval(
            "SELECT count(*) FROM invitations WHERE position(convert_to($1, 'UTF8') in token_hash) > 0",
            secret,
        )
    assert row["token_hash"] == hashlib.sha256(token.encode()).digest()
    assert secret not in row["everything"] and token not in row["everything"]
    assert raw == 0


async def test_who_may_invite_whom(client, app, mailbox):
    owner = await signup(client)
    admin = await add_member(client, owner, mailbox, app, role="admin")
    rep = await add_member(client, owner, mailbox, app, role="rep")
    manager = await add_member(client, owner, mailbox, app, role="manager")

    for member in (rep, manager):
        r = await client.post("/api/v1/invitations", json={"email": "x@example.com"}, headers=member.headers)
        assert r.status_code == 403, r.text
        assert r.json()["type"] == "/problems/forbidden"
        assert (await client.get("/api/v1/invitations", headers=member.headers)).status_code == 403
    r = await client.post(
        "/api/v1/invitations", json={"email": "boss@example.com", "role": "owner"}, headers=admin.headers
    )
    assert r.status_code == 403
    assert (await _invite(client, admin, role="admin"))["role"] == "admin"
    assert (await _invite(client, owner, role="owner"))["role"] == "owner"
    listed = (await client.get("/api/v1/invitations", headers=admin.headers)).json()["items"]
    assert sorted(i["role"] for i in listed if i["status"] == "pending") == ["admin", "owner"]


async def test_invitation_list_pages_newest_first(client):
    owner = await signup(client)
    made = [(await _invite(client, owner))["id"] for _ in range(3)]
    r = await client.get("/api/v1/invitations", params={"limit": 2}, headers=owner.headers)
    page1 = r.json()
    assert [i["id"] for i in page1["items"]] == made[::-1][:2] and page1["next_cursor"]
    page2 = (
        await client.get(
            "/api/v1/invitations", params={"limit": 2, "cursor": page1["next_cursor"]}, headers=owner.headers
        )
    ).json()
    assert [i["id"] for i in page2["items"]] == [made[0]] and page2["next_cursor"] is None


async def test_revoking_another_tenants_invitation_is_not_found(client, app, mailbox, admin_db):
    owner_a = await signup(client)
    owner_b = await signup(client)
    invitation_b, token_b = await _invite_and_link(client, app, mailbox, owner_b)
    r = await client.post(f"/api/v1/invitations/{invitation_b['id']}/revoke", headers=owner_a.headers)
    assert r.status_code == 404, r.text
    assert (await client.get("/api/v1/invitations", headers=owner_a.headers)).json()["items"] == []
    async with connect(admin_db) as conn:
        revoked_at = await conn.fetchval(
            "SELECT revoked_at FROM invitations WHERE id = $1", UUID(str(invitation_b["id"]))
        )
    assert revoked_at is None
    assert (await _accept(client, token_b)).status_code == 201


async def test_seat_limit_blocks_invitations_and_reactivation(client, app, mailbox, admin_db):
    owner = await signup(client)
    rep = await add_member(client, owner, mailbox, app)
    pending = await _invite(client, owner)
    async with connect(admin_db) as conn:
        await conn.execute(
            "UPDATE tenants SET seat_limit = (SELECT count(*) FROM memberships WHERE tenant = $1 AND active)"
            " WHERE id = $1",
            UUID(owner.tenant_id),
        )
    r = await client.post("/api/v1/invitations", json={"email": pending["email"]}, headers=owner.headers)
    assert r.status_code == 402, r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["type"] == "/problems/payment-required"
    assert body["seats_paid"] == 2 and body["seats_used"] == 2
    # the failed re-invitation rolled back: the earlier invitation is still pending
    statuses = {
        i["id"]: i["status"]
        for i in (await client.get("/api/v1/invitations", headers=owner.headers)).json()["items"]
    }
    assert statuses[pending["id"]] == "pending"

    r = await client.post(f"/api/v1/members/{rep.membership_id}/deactivate", headers=owner.headers)
    assert r.status_code == 200
    async with connect(admin_db) as conn:
        await conn.execute("UPDATE tenants SET seat_limit = 1 WHERE id = $1", UUID(owner.tenant_id))
    r = await client.post(f"/api/v1/members/{rep.membership_id}/reactivate", headers=owner.headers)
    assert r.status_code == 402, r.text
    assert r.json()["seats_used"] == 1 and r.json()["seats_paid"] == 1
    members = (await client.get("/api/v1/members", params={"active": "true"}, headers=owner.headers)).json()
    assert [m["id"] for m in members["items"]] == [owner.membership_id]

    async with connect(admin_db) as conn:
        await conn.execute("UPDATE tenants SET seat_limit = 2 WHERE id = $1", UUID(owner.tenant_id))
    r = await client.post(f"/api/v1/members/{rep.membership_id}/reactivate", headers=owner.headers)
    assert r.status_code == 200 and r.json()["active"] is True
