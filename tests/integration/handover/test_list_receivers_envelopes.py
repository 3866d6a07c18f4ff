"""The list of handover plans (paged, filtered, scoped), receivers checked against the manager's
territories, and envelopes out for signature carried to the receiver without disturbing the signers."""

from __future__ import annotations

from typing import Any

from tests.factories import assign, customer, territory
from tests.helpers import Member, connect, mails_to, run_jobs, signup
from tests.integration.customers.pool.support import quick_members
from tests.integration.handover.support import Team, db_rows, deal, owned, owners, plan, team


async def listing(client: Any, who: Member, expect: int = 200, **params: Any) -> dict[str, Any]:
    r = await client.get("/api/v1/handovers", params=params, headers=who.headers)
    assert r.status_code == expect, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_list_is_paged_filtered_scoped_to_the_manager_and_closed_to_reps(client, admin_db):
    t = await team(client, admin_db, reps=2)
    leaving, receiver = t.reps
    sub = await territory(client, t.owner, "吴中区", parent=t.territory["id"])
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    await assign(client, t.owner, sub["id"], manager, "manager")
    await assign(client, t.owner, sub["id"], receiver, "rep")
    await customer(client, t.owner, sub["id"], owner_membership_id=leaving.membership_id)
    await owned(client, t, receiver, "AB")  # in 苏州市, outside the manager's subtree
    body = {
        "selection": {"owner_ids": [leaving.membership_id]},
        "targets": [{"membership_id": receiver.membership_id}],
    }
    mine = await plan(client, manager, **body)
    inside = await plan(client, t.owner, **body)  # only 吴中区's customer: inside the manager's subtree
    outside = await plan(
        client,
        t.owner,
        selection={"owner_ids": [receiver.membership_id]},
        targets=[{"membership_id": leaving.membership_id}],
    )
    r = await client.post(f"/api/v1/handovers/{inside['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text

    everything = await listing(client, t.owner)
    assert [p["id"] for p in everything["items"]] == [outside["id"], inside["id"], mine["id"]]
    assert everything["items"][1]["status"] == "executed" and everything["items"][1]["customers"] == 1
    first = await listing(client, t.owner, limit=2)
    assert [p["id"] for p in first["items"]] == [outside["id"], inside["id"]] and first["next_cursor"]
    rest = await listing(client, t.owner, limit=2, cursor=first["next_cursor"])
    assert [p["id"] for p in rest["items"]] == [mine["id"]] and rest["next_cursor"] is None
    assert [p["id"] for p in (await listing(client, t.owner, status="executed"))["items"]] == [inside["id"]]
    assert [p["id"] for p in (await listing(client, t.owner, status="draft", kind="handover"))["items"]] == [
        outside["id"],
        mine["id"],
    ]
    assert (await listing(client, t.owner, kind="realign"))["items"] == []
    assert [p["id"] for p in (await listing(client, manager))["items"]] == [inside["id"], mine["id"]]
    await listing(client, t.owner, expect=422, status="nonsense")
    await listing(client, t.owner, expect=422, cursor="not-a-cursor")
    assert (await listing(client, leaving, expect=403))["type"] == "/problems/forbidden"
    stranger = await signup(client)
    assert (await listing(client, stranger))["items"] == []


async def test_manager_hands_over_only_to_members_of_territories_they_manage(client, admin_db):
    t = await team(client, admin_db, reps=2)
    leaving, elsewhere = t.reps  # both reps of 苏州市 only
    sub = await territory(client, t.owner, "吴中区", parent=t.territory["id"])
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    [inside_rep] = await quick_members(client, admin_db, t.owner, 1)
    await assign(client, t.owner, sub["id"], manager, "manager")
    await assign(client, t.owner, sub["id"], inside_rep, "rep")
    made = await customer(client, t.owner, sub["id"], owner_membership_id=leaving.membership_id)
    before = await db_rows(
        admin_db, "SELECT count(*) AS n FROM handover_plans WHERE tenant = $1::uuid", t.owner.tenant_id
    )

    body = await plan(
        client,
        manager,
        expect=422,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": inside_rep.membership_id}, {"membership_id": elsewhere.membership_id}],
    )
    assert body["errors"] == [
        {"field": "targets", "message": "This receiver is not a member of a territory you manage"}
    ]
    assert body["membership_id"] == elsewhere.membership_id
    after = await db_rows(
        admin_db, "SELECT count(*) AS n FROM handover_plans WHERE tenant = $1::uuid", t.owner.tenant_id
    )
    assert after[0]["n"] == before[0]["n"]  # nothing half-saved
    # the owner may; the manager sees that plan (its customer is in 吴中区) but may not run it
    owners_plan = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": elsewhere.membership_id}],
    )
    r = await client.post(f"/api/v1/handovers/{owners_plan['id']}/execute", headers=manager.headers)
    assert r.status_code == 422, r.text
    assert r.json()["membership_id"] == elsewhere.membership_id
    assert await owners(admin_db, [made["id"]]) == {made["id"]: leaving.membership_id}
    # to a rep of their subtree they may, and only 吴中区's customers are in it
    outside = await customer(client, t.owner, t.territory["id"], owner_membership_id=leaving.membership_id)
    ok = await plan(
        client,
        manager,
        selection={"customer_ids": [made["id"], outside["id"]]},
        targets=[{"membership_id": inside_rep.membership_id}],
        mode="single",
    )
    assert ok["preview"]["customers"] == 1
    assert [(b["customer_id"], b["code"]) for b in ok["preview"]["blocked"]] == [
        (outside["id"], "not_managed")
    ]


async def _envelope(
    admin_db: str,
    t: Team,
    sender: Member,
    customer_id: str | None,
    subject: tuple[str, str],
    status: str = "sent",
) -> tuple[str, str]:
    """A document and an envelope (with one signer) straight in the database; returns the envelope id
    and the signer's address."""
    email = f"signer-{customer_id or subject[1]}@example.com"[:60]
    async with connect(admin_db) as conn:
        doc = await conn.fetchval(
            "INSERT INTO documents (tenant, idempotency_key, kind, locale, subject_type, subject_id, status)"
            " VALUES ($1::uuid, gen_random_uuid()::text, 'contract', 'zh-CN', $2, $3, 'ready') RETURNING id",
            t.owner.tenant_id,
            subject[0],
            subject[1],
        )
        env = await conn.fetchval(
            "INSERT INTO envelopes (tenant, document_id, customer_id, subject_type, subject_id, title,"
            " signing_order, status, created_by, sender_email, sender_name, sender_locale, expiry_days,"
            " reminder_interval_days, reminder_max, original_sha256, original_key, sent_at)"
            " VALUES ($1::uuid, $2, $3::uuid, $4, $5, '软件销售合同', 'parallel', $6, $7::uuid, $8,"
            " '离职业务员', 'zh-CN', 30, 3, 2, repeat('0', 64), 'k', now()) RETURNING id",
            t.owner.tenant_id,
            doc,
            customer_id,
            subject[0],
            subject[1],
            status,
            sender.membership_id,
            sender.email,
        )
        await conn.execute(
            "INSERT INTO envelope_signers (tenant, envelope_id, position, name, email, locale, status)"
            " VALUES ($1::uuid, $2, 1, '李雷', $3, 'zh-CN', 'sent')",
            t.owner.tenant_id,
            env,
            email,
        )
    return str(env), email


async def test_envelopes_out_for_signature_go_to_the_receiver_silently(client, admin_db, app, mailbox):
    t = await team(client, admin_db, reps=2)
    leaving, receiver = t.reps
    [c1, c2] = await owned(client, t, leaving, "AB")
    deal_id = await deal(admin_db, t, c2["id"], leaving, "900.00")
    direct, signer1 = await _envelope(admin_db, t, leaving, c1["id"], ("customer", c1["id"]))
    by_deal, signer2 = await _envelope(admin_db, t, leaving, None, ("deal", deal_id))
    done_env, _ = await _envelope(admin_db, t, leaving, c1["id"], ("customer", c1["id"]), status="completed")
    await run_jobs(app)
    signer_mails = len(mails_to(mailbox, signer1)) + len(mails_to(mailbox, signer2))

    body = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": receiver.membership_id}],
        mode="single",
    )
    assert body["preview"]["envelopes"] == 2 and body["preview"]["receivers"][0]["envelopes"] == 2
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text

    rows = {
        str(r["id"]): r
        for r in await db_rows(
            admin_db,
            "SELECT id, created_by::text, sender_email FROM envelopes WHERE id = ANY($1::uuid[])",
            [direct, by_deal, done_env],
        )
    }
    assert rows[direct]["created_by"] == rows[by_deal]["created_by"] == receiver.membership_id
    assert rows[direct]["sender_email"] == receiver.email
    assert rows[done_env]["created_by"] == leaving.membership_id  # only envelopes still out
    events = await db_rows(
        admin_db,
        "SELECT envelope_id::text, data FROM envelope_events WHERE event = 'sender_changed'"
        " ORDER BY envelope_id",
    )
    assert sorted(e["envelope_id"] for e in events if e["envelope_id"] in (direct, by_deal)) == sorted(
        [direct, by_deal]
    )
    audit = await db_rows(
        admin_db,
        "SELECT count(*) AS n FROM audit_log WHERE action = 'envelope.sender_changed'"
        " AND reason = '业务员调岗' AND subject_id = ANY($1::text[])",
        [direct, by_deal],
    )
    assert audit[0]["n"] == 2
    await run_jobs(app)
    assert (
        len(mails_to(mailbox, signer1)) + len(mails_to(mailbox, signer2)) == signer_mails
    )  # signers not disturbed
    digest, _sheet_to_sign = mails_to(mailbox, receiver.email)
    text = digest.get_body(("plain",)).get_content()
    assert "2 envelopes out for signature are now sent in your name" in text
    # the handed-over rep owns nothing any more: deactivation goes through
    assert set((await owners(admin_db, [c1["id"], c2["id"]])).values()) == {receiver.membership_id}
    remaining = await db_rows(
        admin_db,
        "SELECT count(*) AS n FROM envelopes WHERE created_by = $1::uuid AND status = 'sent'",
        leaving.membership_id,
    )
    assert remaining[0]["n"] == 0
    r = await client.post(f"/api/v1/members/{leaving.membership_id}/deactivate", headers=t.owner.headers)
    assert r.status_code in (200, 204), r.text


async def test_offboarding_counts_envelopes_and_refuses_until_they_are_handed_over(client, admin_db):
    t = await team(client, admin_db, reps=2)
    leaving, _ = t.reps
    other_customer = await customer(
        client, t.owner, t.territory["id"], owner_membership_id=t.reps[1].membership_id
    )
    env, _ = await _envelope(admin_db, t, leaving, other_customer["id"], ("customer", other_customer["id"]))
    r = await client.post(f"/api/v1/members/{leaving.membership_id}/deactivate", headers=t.owner.headers)
    assert r.status_code == 409, r.text
    assert (r.json()["customers"], r.json()["deals"], r.json()["envelopes"]) == (0, 0, 1)
    # the draft carries the envelope of a customer the leaving rep does not own to that customer's owner
    r = await client.post(f"/api/v1/handovers/{r.json()['handover_id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    rows = await db_rows(admin_db, "SELECT created_by::text FROM envelopes WHERE id = $1::uuid", env)
    assert rows[0]["created_by"] == t.reps[1].membership_id
    r = await client.post(f"/api/v1/members/{leaving.membership_id}/deactivate", headers=t.owner.headers)
    assert r.status_code in (200, 204), r.text


async def test_undo_gives_envelopes_still_out_back_to_their_sender(client, admin_db):
    t = await team(client, admin_db, reps=2)
    leaving, receiver = t.reps
    [c1] = await owned(client, t, leaving, "A")
    env, _ = await _envelope(admin_db, t, leaving, c1["id"], ("customer", c1["id"]))
    body = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": receiver.membership_id}],
        mode="single",
        options={"carry_envelopes": True},
    )
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/handovers/{body['id']}/undo", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    rows = await db_rows(
        admin_db, "SELECT created_by::text, sender_email FROM envelopes WHERE id = $1::uuid", env
    )
    assert (rows[0]["created_by"], rows[0]["sender_email"]) == (leaving.membership_id, leaving.email)
    events = await db_rows(
        admin_db, "SELECT count(*) AS n FROM envelope_events WHERE envelope_id = $1::uuid", env
    )
    assert events[0]["n"] == 2  # there and back, both in the evidence
    # without the option the envelope stays with its sender
    other = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": receiver.membership_id}],
        mode="single",
        options={"carry_envelopes": False},
    )
    assert other["preview"]["envelopes"] == 0
    r = await client.post(f"/api/v1/handovers/{other['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    rows = await db_rows(admin_db, "SELECT created_by::text FROM envelopes WHERE id = $1::uuid", env)
    assert rows[0]["created_by"] == leaving.membership_id
