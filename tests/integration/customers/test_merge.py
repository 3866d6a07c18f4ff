"""Merging two records of one company (``POST /api/v1/customers/{id}/merge``): everything naming the
absorbed customer moves to the survivor, the ledger records it on both chains, an envelope out refuses
it, permissions and other tenants' ids; and merges racing claims and handovers on real connections."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import asyncpg

from app.customers.merge import KEPT, REFERENCES
from tests.factories import company, customer, db_rows, db_value, territory
from tests.helpers import Member, connect, signup
from tests.integration.customers.imports.support import tax_id
from tests.integration.customers.pool.support import Team, ledger_rows, pool_customer, team

_FK_TO_CUSTOMERS = """
SELECT c.conrelid::regclass::text AS tbl, a.attname AS col
FROM pg_constraint c
JOIN LATERAL unnest(c.conkey) AS k(n) ON true
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
WHERE c.contype = 'f' AND c.confrelid = 'customers'::regclass AND a.attname <> 'tenant'
"""
_CUSTOMER_COLUMNS = r"""
SELECT table_name AS tbl, column_name AS col FROM information_schema.columns
WHERE table_schema = 'public' AND data_type = 'uuid'
  AND (column_name = 'customer_id' OR column_name LIKE '%\_customer\_id')
"""


async def test_every_column_naming_a_customer_is_moved_or_kept_by_the_merge(admin_db: str) -> None:
    """A new foreign key to customers (or a new ``…customer_id`` column) fails here until
    ``app.customers.merge.REFERENCES`` moves it (or ``KEPT`` says why it stays)."""
    handled_fks = {(r.table, r.column) for r in REFERENCES if r.foreign_key}
    fks = {(r["tbl"], r["col"]) for r in await db_rows(admin_db, _FK_TO_CUSTOMERS)}
    assert len(fks) >= 14
    assert fks - handled_fks == set(), "foreign keys to customers the merge does not move"
    assert handled_fks - fks == set(), "REFERENCES lists as a foreign key what is none"
    named = {(r["tbl"], r["col"]) for r in await db_rows(admin_db, _CUSTOMER_COLUMNS)}
    known = {(r.table, r.column) for r in REFERENCES} | set(KEPT)
    assert named - known == set(), "columns naming a customer the merge neither moves nor keeps"


async def _sent_envelope(admin_db: str, tenant_id: str, customer_id: str, status: str = "sent") -> str:
    async with connect(admin_db) as conn:
        doc = await conn.fetchval(
            "INSERT INTO documents (tenant, idempotency_key, kind, locale, subject_type, subject_id, status)"
            " VALUES ($1::uuid, $2, 'contract', 'zh-CN', 'customer', $3, 'ready') RETURNING id",
            tenant_id,
            secrets.token_hex(8),
            customer_id,
        )
        return str(
            await conn.fetchval(
                "INSERT INTO envelopes (tenant, document_id, customer_id, subject_type, subject_id, title,"
                " signing_order, expiry_days, reminder_interval_days, reminder_max, original_sha256,"
                " original_key, status) VALUES ($1::uuid, $2, $3::uuid, 'customer', $3, '合同', 'parallel',"
                " 14, 3, 1, repeat('0', 64), 'k', $4) RETURNING id",
                tenant_id,
                doc,
                customer_id,
                status,
            )
        )


async def _pair(client: Any, t: Team) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two records of one company: the kept one with its tax id, owned by the first rep; the other
    under an older name, in the pool, with a phone and an address."""
    rep = t.reps[0]
    kept = await customer(client, rep, t.territory["id"], tax_id=tax_id(), grade="A")
    other = await pool_customer(
        client,
        t.owner,
        t.territory["id"],
        full_name=company("旧名"),
        phone="0592-5551234",
        address="厦门市思明区",
    )
    return kept, other


async def test_a_merge_moves_contacts_followups_deals_tasks_and_records_both_chains(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    kept, other = await _pair(client, t)
    h = t.owner.headers
    for name in ("王经理", "李会计"):
        r = await client.post(f"/api/v1/customers/{other['id']}/contacts", json={"name": name}, headers=h)
        assert r.status_code == 201, r.text
    for note in ("电话沟通", "上门拜访"):
        r = await client.post(
            f"/api/v1/customers/{other['id']}/followups", json={"kind": "call", "summary": note}, headers=h
        )
        assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/deals", json={"customer_id": other["id"], "title": "ERP", "amount": "1000.00"}, headers=h
    )
    assert r.status_code == 201, r.text
    deal_id = r.json()["id"]
    signed = await _sent_envelope(admin_db, t.owner.tenant_id, other["id"], status="completed")
    async with connect(admin_db) as conn:
        await conn.execute(
            "INSERT INTO sales_tasks (tenant, customer_id, assignee_membership_id, kind, source, due_on)"
            " VALUES ($1::uuid, $2::uuid, $3::uuid, 'call', 'manual', current_date)",
            t.owner.tenant_id,
            other["id"],
            rep.membership_id,
        )
    ids = [kept["id"], other["id"]]
    before = await ledger_rows(admin_db, t.owner.tenant_id)

    r = await client.post(
        f"/api/v1/customers/{kept['id']}/merge",
        json={"absorb_id": other["id"], "reason": "同一家公司"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["absorbed_id"] == other["id"]
    assert body["moved"]["customer_contacts"] == 2 and body["moved"]["customer_followups"] == 2
    assert body["moved"]["deals"] == 1 and body["moved"]["sales_tasks"] == 1
    assert body["moved"]["envelopes"] == 1 and body["moved"]["documents"] == 1
    assert {"phone", "address"} <= set(body["filled"]) and "tax_id" not in body["filled"]
    survivor = body["customer"]
    assert survivor["phone"] == "0592-5551234" and survivor["tax_id"] == kept["tax_id"]
    assert survivor["owner_membership_id"] == rep.membership_id  # the survivor's owner stays
    assert survivor["last_followup_at"] is not None

    assert (await client.get(f"/api/v1/customers/{other['id']}", headers=h)).status_code == 404
    contacts = (await client.get(f"/api/v1/customers/{kept['id']}/contacts", headers=h)).json()["items"]
    assert {c["name"] for c in contacts} == {"王经理", "李会计"}
    assert (
        await db_value(admin_db, "SELECT customer_id::text FROM deals WHERE id = $1::uuid", deal_id)
        == kept["id"]
    )
    env = await db_rows(
        admin_db, "SELECT customer_id::text, subject_id FROM envelopes WHERE id = $1::uuid", signed
    )
    assert tuple(env[0]) == (kept["id"], kept["id"])  # its customer and its subject
    left = await db_value(
        admin_db,
        "SELECT (SELECT count(*) FROM customer_followups WHERE customer_id = $1::uuid)"
        " + (SELECT count(*) FROM sales_tasks WHERE customer_id = $1::uuid)",
        other["id"],
    )
    assert left == 0

    after = await ledger_rows(admin_db, t.owner.tenant_id)
    new = after[len(before) :]
    assert [(str(e["customer_id"]), e["cause"]) for e in new] == [
        (other["id"], "merge"),
        (kept["id"], "merge"),
    ]
    assert new[0]["from_membership_id"] is None and str(new[0]["to_membership_id"]) == rep.membership_id
    assert str(new[1]["from_membership_id"]) == str(new[1]["to_membership_id"]) == rep.membership_id
    assert all(other["id"] in e["reason"] and "同一家公司" in e["reason"] for e in new)
    verify = (await client.get("/api/v1/ownership/verify", headers=h)).json()
    assert verify["ok"] is True
    audit = await db_rows(
        admin_db,
        "SELECT action, subject_id FROM audit_log WHERE action LIKE 'customer.merged%'"
        " AND subject_id = ANY($1)",
        ids,
    )
    assert {(a["action"], a["subject_id"]) for a in audit} == {
        ("customer.merged", kept["id"]),
        ("customer.merged_into", other["id"]),
    }


async def test_an_envelope_out_refuses_the_merge_and_changes_nothing(client, admin_db):
    t = await team(client, admin_db, reps=1)
    kept, other = await _pair(client, t)
    await _sent_envelope(admin_db, t.owner.tenant_id, other["id"])
    r = await client.post(
        f"/api/v1/customers/{kept['id']}/merge",
        json={"absorb_id": other["id"], "reason": "同一家公司"},
        headers=t.owner.headers,
    )
    assert r.status_code == 409, r.text
    assert r.json()["rule"] == "envelope_out"
    assert (await client.get(f"/api/v1/customers/{other['id']}", headers=t.owner.headers)).status_code == 200
    assert [e["cause"] for e in await ledger_rows(admin_db, t.owner.tenant_id)].count("merge") == 0


async def test_who_may_merge_and_bad_input(client, admin_db):
    t = await team(client, admin_db, reps=1)
    kept, other = await _pair(client, t)
    url = f"/api/v1/customers/{kept['id']}/merge"
    body = {"absorb_id": other["id"], "reason": "同一家公司"}
    r = await client.post(url, json=body, headers=t.reps[0].headers)  # the survivor's own rep
    assert r.status_code == 403, r.text
    r = await client.post(url, json={**body, "absorb_id": kept["id"]}, headers=t.owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "absorb_id"
    r = await client.post(url, json={**body, "reason": "   "}, headers=t.owner.headers)
    assert r.status_code == 422

    stranger = await signup(client, locale="en")
    r = await client.post(url, json=body, headers=stranger.headers)  # another tenant's survivor
    assert r.status_code == 404, r.text
    theirs_t = await territory(client, stranger, "厦门")
    theirs = await customer(client, stranger, theirs_t["id"])
    r = await client.post(url, json={**body, "absorb_id": theirs["id"]}, headers=t.owner.headers)
    assert r.status_code == 404, r.text
    r = await client.post(
        f"/api/v1/customers/{theirs['id']}/merge",
        json={**body, "absorb_id": other["id"]},
        headers=stranger.headers,
    )
    assert r.status_code == 404, r.text
    assert await db_value(admin_db, "SELECT count(*) FROM customers WHERE id = $1::uuid", other["id"]) == 1


# --- races: two real connections ---------------------------------------------------------------


_LEDGER_LOCK = "SELECT pg_advisory_lock(hashtextextended('ownership-ledger:' || $1, 0))"
_LEDGER_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('ownership-ledger:' || $1, 0))"


async def _waiting(admin_db: str, n: int) -> None:
    """Until ``n`` backends of this database wait for a lock."""
    for _ in range(500):
        waiting = await db_value(
            admin_db,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'",
        )
        if waiting >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {n} backends waiting for a lock")


async def _held_ledger(admin_db: str, tenant_id: str) -> asyncpg.Connection:
    """A second connection holding the tenant's ledger lock: whatever appends next waits there, with
    its own row locks held, until it is let go."""
    conn = await asyncpg.connect(admin_db)
    await conn.execute(_LEDGER_LOCK, tenant_id)
    return conn


async def _merge(client: Any, who: Member, kept: str, other: str) -> Any:
    return await client.post(
        f"/api/v1/customers/{kept}/merge",
        json={"absorb_id": other, "reason": "同一家公司"},
        headers=who.headers,
    )


async def test_a_merge_holding_the_rows_makes_a_racing_claim_409(client, admin_db):
    t = await team(client, admin_db, reps=1)
    kept, other = await _pair(client, t)
    conn = await _held_ledger(admin_db, t.owner.tenant_id)
    try:
        merging = asyncio.create_task(_merge(client, t.owner, kept["id"], other["id"]))
        await _waiting(admin_db, 1)  # the merge waits at its ledger append, the rows locked
        claiming = asyncio.create_task(
            client.post(f"/api/v1/customers/{other['id']}/claim", headers=t.reps[0].headers)
        )
        await _waiting(admin_db, 2)  # the claim waits for the absorbed row
        await conn.execute(_LEDGER_UNLOCK, t.owner.tenant_id)
        merged, claimed = await merging, await claiming
    finally:
        await conn.close()
    assert merged.status_code == 200, merged.text
    assert claimed.status_code == 409, claimed.text
    assert claimed.json()["rule"] == "merged"
    causes = [(str(e["customer_id"]), e["cause"]) for e in await ledger_rows(admin_db, t.owner.tenant_id)]
    assert (other["id"], "claim") not in causes


async def test_a_claim_holding_the_row_makes_a_racing_merge_409(client, admin_db):
    t = await team(client, admin_db, reps=1)
    kept, other = await _pair(client, t)
    conn = await _held_ledger(admin_db, t.owner.tenant_id)
    try:
        claiming = asyncio.create_task(
            client.post(f"/api/v1/customers/{other['id']}/claim", headers=t.reps[0].headers)
        )
        await _waiting(admin_db, 1)  # the claim has updated the row and waits at its append
        merged = await _merge(client, t.owner, kept["id"], other["id"])
        await conn.execute(_LEDGER_UNLOCK, t.owner.tenant_id)
        claimed = await claiming
    finally:
        await conn.close()
    assert merged.status_code == 409, merged.text
    assert merged.json()["rule"] == "busy"
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["owner_membership_id"] == t.reps[0].membership_id


async def _handover_draft(client: Any, t: Team, customer_id: str, to: Member) -> str:
    r = await client.post(
        "/api/v1/handovers",
        json={
            "reason": "调岗",
            "selection": {"customer_ids": [customer_id]},
            "targets": [{"membership_id": to.membership_id}],
            "mode": "single",
        },
        headers=t.owner.headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_a_merge_and_a_handover_racing_one_wins_the_other_409(client, admin_db):
    t = await team(client, admin_db, reps=2)
    kept, other = await _pair(client, t)
    r = await client.post(f"/api/v1/customers/{other['id']}/claim", headers=t.reps[0].headers)
    assert r.status_code == 200, r.text
    plan_id = await _handover_draft(client, t, other["id"], t.reps[1])
    execute = f"/api/v1/handovers/{plan_id}/execute"

    # the merge first: the handover waits for the rows and then finds its customer gone
    conn = await _held_ledger(admin_db, t.owner.tenant_id)
    try:
        merging = asyncio.create_task(_merge(client, t.owner, kept["id"], other["id"]))
        await _waiting(admin_db, 1)
        handing = asyncio.create_task(client.post(execute, headers=t.owner.headers))
        await _waiting(admin_db, 2)
        await conn.execute(_LEDGER_UNLOCK, t.owner.tenant_id)
        merged, handed = await merging, await handing
    finally:
        await conn.close()
    assert merged.status_code == 200, merged.text
    assert handed.status_code == 409, handed.text

    # the handover first: the merge finds the rows held and refuses
    first, second = await _pair(client, t)
    r = await client.post(f"/api/v1/customers/{second['id']}/claim", headers=t.reps[0].headers)
    assert r.status_code == 200, r.text
    plan_id = await _handover_draft(client, t, second["id"], t.reps[1])
    conn = await _held_ledger(admin_db, t.owner.tenant_id)
    try:
        handing = asyncio.create_task(
            client.post(f"/api/v1/handovers/{plan_id}/execute", headers=t.owner.headers)
        )
        await _waiting(admin_db, 1)
        merged = await _merge(client, t.owner, first["id"], second["id"])
        await conn.execute(_LEDGER_UNLOCK, t.owner.tenant_id)
        handed = await handing
    finally:
        await conn.close()
    assert merged.status_code == 409 and merged.json()["rule"] == "busy", merged.text
    assert handed.status_code == 200, handed.text
    owner = await db_value(
        admin_db, "SELECT owner_membership_id::text FROM customers WHERE id = $1::uuid", second["id"]
    )
    assert owner == t.reps[1].membership_id
