"""The members page invites with territories: the invite form lists the tenant's territories as
boxes to tick, the invitation list shows the ticked ones with the invitee's role there (and its
resend carries them again), another tenant's territory is refused in place with nothing stored, and
accepting on the invite page (which names them) makes the invitee a member of each."""

from __future__ import annotations

import re
import secrets

from tests.factories import db_value, territory
from tests.helpers import PASSWORD, last_link, run_jobs, signup
from tests.integration.web.support import htmx, sign_in


async def test_invite_with_territories_on_the_members_page_and_accept(client, app, mailbox, admin_db):
    owner = await signup(client)
    east = await territory(client, owner, "华东区")
    suzhou = await territory(client, owner, "苏州市", parent=east["id"])
    wuxi = await territory(client, owner, "无锡市", parent=east["id"])
    csrf = await sign_in(client, owner)
    page = await client.get("/members")
    assert page.status_code == 200
    boxes = re.findall(
        r'<input type="checkbox" id="invite-territory-([0-9a-f-]+)" name="territory_ids"', page.text
    )
    assert boxes[0] == east["id"] and set(boxes[1:]) == {suzhou["id"], wuxi["id"]}  # the tree, in order
    assert 'class="depth-2"' in page.text  # a city indented under its region

    addr = f"rep-{secrets.token_hex(4)}@example.com"
    form = {"email": addr, "role": "rep", "territory_ids": [suzhou["id"], wuxi["id"]]}
    r = await client.post("/members/invite", data=form, headers=htmx(csrf))
    assert r.status_code == 200 and f"Invitation sent to {addr}" in r.text, r.text
    invitation_id = await db_value(admin_db, "SELECT id::text FROM invitations WHERE email = $1", addr)
    shown = re.search(rf'id="invite-{invitation_id}-territories">Territories: ([^<]+)<', r.text)
    assert shown and set(shown.group(1).split(", ")) == {"苏州市 (Sales rep)", "无锡市 (Sales rep)"}
    resend = re.search(rf'<li class="item" id="invite-{invitation_id}">.*?</form>', r.text, re.S)
    assert resend is not None
    carried = re.findall(r'name="territory_ids" value="([0-9a-f-]+)"', resend.group(0))
    assert sorted(carried) == sorted([suzhou["id"], wuxi["id"]])
    page = await client.get("/members")
    assert shown.group(0) in page.text

    await run_jobs(app)
    token = last_link(mailbox, to=addr)
    client.cookies.clear()
    invite = await client.get(f"/invite/{token}")
    named = re.search(r'id="invite-territories">Territories: ([^<]+)<', invite.text)
    assert named and set(named.group(1).split(", ")) == {"苏州市", "无锡市"}
    done = await client.post(f"/invite/{token}", data={"name": "李业务", "password": PASSWORD})
    assert done.status_code == 200 and "You have joined" in done.text, done.text
    client.cookies.clear()
    joined = await db_value(
        admin_db,
        "SELECT array_agg(t.name || ':' || tm.role ORDER BY t.name) FROM territory_members tm"
        " JOIN territories t ON t.tenant = tm.tenant AND t.id = tm.territory_id"
        " JOIN memberships m ON m.tenant = tm.tenant AND m.id = tm.membership_id"
        " JOIN users u ON u.id = m.user_id WHERE u.email = $1",
        addr,
    )
    assert sorted(joined) == sorted(["苏州市:rep", "无锡市:rep"])


async def test_another_tenants_territory_is_refused_in_place(client, admin_db):
    owner = await signup(client)
    stranger = await signup(client)
    theirs = await territory(client, stranger, "宁波市")
    csrf = await sign_in(client, owner)
    addr = f"rep-{secrets.token_hex(4)}@example.com"
    for ids in ([theirs["id"]], ["not-a-uuid"]):
        r = await client.post(
            "/members/invite", data={"email": addr, "role": "rep", "territory_ids": ids}, headers=htmx(csrf)
        )
        assert r.status_code == 422 and "No territory with this id" in r.text and "<html" not in r.text, (
            r.text
        )
    assert await db_value(admin_db, "SELECT count(*) FROM invitations WHERE email = $1", addr) == 0
