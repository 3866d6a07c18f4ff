"""The ledger anchored outside the database: the daily cron timestamps every tenant's chain head with
a real RFC 3161 authority (loopback), and verify checks the chain against the anchors — a rewrite of
an old entry with the whole chain re-hashed after it (what the platform itself could do) is named by
the first anchor that no longer matches."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import pytest
from structlog.testing import capture_logs

from app.customers.anchors import anchor_digest, anchor_ledger, anchor_ledgers
from app.dev import free_port
from app.settings import get_settings
from tenants.scope import TenantScope
from tests.helpers import connect
from tests.integration.customers.pool.support import Team, ledger_rows, pool_customer, team
from tests.integration.signing.tsa import timestamp_authority
from tests.integration.web.support import HTMX, sign_in


async def _round(client: Any, t: Team) -> None:
    """Four entries: each rep claims and releases one new pool customer."""
    c = await pool_customer(client, t.owner, t.territory["id"])
    for rep in t.reps:
        url = f"/api/v1/customers/{c['id']}"
        assert (await client.post(url + "/claim", headers=rep.headers)).status_code == 200
        r = await client.post(url + "/release", json={"reason": "other", "note": "轮换"}, headers=rep.headers)
        assert r.status_code == 200


async def _verify(client: Any, t: Team) -> dict[str, Any]:
    r = await client.get("/api/v1/ownership/verify", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _rewrite_and_rehash(admin_db: str, tenant: str, seq: int) -> None:
    """As a superuser who knows to disable the trigger: change entry ``seq``'s reason and recompute
    every hash from it to the head, so the chain alone is consistent again."""
    UUID(tenant)  # (a uuid: safe to put in the statement)
    async with connect(admin_db) as conn, conn.transaction():
        await conn.execute("ALTER TABLE customer_ownership_history DISABLE TRIGGER USER")
        await conn.execute(f"""
DO $$ DECLARE r record; prev bytea; h bytea; new_reason text; BEGIN
  FOR r IN SELECT * FROM customer_ownership_history WHERE tenant = '{tenant}' ORDER BY seq LOOP
    IF r.seq < {seq} THEN prev := r.hash; CONTINUE; END IF;
    new_reason := CASE WHEN r.seq = {seq} THEN '伪造' ELSE r.reason END;
    h := sha256(acre_ownership_content(r.tenant, r.seq, r.customer_id, r.from_membership_id,
        r.to_membership_id, r.cause, r.actor, new_reason, r.plan_id, r.at, r.pool_id) || prev);
    UPDATE customer_ownership_history SET reason = new_reason, prev_hash = prev, hash = h WHERE id = r.id;
    prev := h;
  END LOOP;
END $$""")
        await conn.execute("ALTER TABLE customer_ownership_history ENABLE TRIGGER USER")


async def _anchored_history(client: Any, admin_db: str, monkeypatch: pytest.MonkeyPatch, url: str) -> Team:
    """12 entries, anchored by the cron at seq 4 and seq 8."""
    t = await team(client, admin_db, reps=2)
    monkeypatch.setattr(get_settings(), "timestamp_url", url)
    for _ in range(2):
        await _round(client, t)
        assert await anchor_ledgers({}) >= 1  # (other tenants of the test database may anchor too)
    await _round(client, t)
    return t


async def test_a_rewritten_and_rehashed_chain_is_named_by_the_first_anchor_that_no_longer_matches(
    client: Any, admin_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with timestamp_authority() as tsa:
        t = await _anchored_history(client, admin_db, monkeypatch, tsa.url)
        scope = await TenantScope.for_job(t.owner.tenant_id)
        assert await anchor_ledger(scope) is not None  # seq 12: a third anchor, asked directly
        assert await anchor_ledger(scope) is None  # the head is anchored already: nothing new
        imprints = [r["message_imprint"]["hashed_message"].native for r in tsa.requests]
    body = await _verify(client, t)
    assert body["ok"] is True and body["checked"] == 12 and body["anchors_checked"] == 3, body
    assert body["last_anchor"]["head_seq"] == 12 and body["last_anchor"]["head_hash"] == body["head_hash"]
    # the TSA was asked for exactly the digest that names the head and the anchor before
    rows = await ledger_rows(admin_db, t.owner.tenant_id)
    async with connect(admin_db) as conn:
        anchors = await conn.fetch(
            "SELECT * FROM ownership_anchors WHERE tenant = $1::uuid ORDER BY head_seq", t.owner.tenant_id
        )
    assert [a["head_seq"] for a in anchors] == [4, 8, 12]
    assert anchors[0]["head_hash"] == rows[3]["hash"] and anchors[0]["prev_token_sha256"] is None
    first = anchor_digest(UUID(t.owner.tenant_id), 4, bytes(rows[3]["hash"]), None)
    assert first in imprints

    await _rewrite_and_rehash(admin_db, t.owner.tenant_id, 6)
    body = await _verify(client, t)
    # the chain alone recomputes: only the anchors see it
    assert body["first_broken_id"] is None and body["checked"] == 12
    assert body["ok"] is False and body["anchor_problem"] == "entry_changed"
    assert body["first_broken_anchor_seq"] == 8 and body["first_broken_anchor_id"] == str(anchors[1]["id"])
    assert body["last_anchor"]["head_seq"] == 4  # the last one that still matches
    await sign_in(client, t.owner)  # and the page says so
    page = await client.get("/settings/ledger/verify", headers=HTMX)
    assert page.status_code == 200 and 'id="ledger-anchor-broken"' in page.text
    assert "The anchor of entry 8" in page.text and "rewritten at or before" in page.text
    assert 'id="ledger-ok"' not in page.text

    # rewriting the anchor row as well does not help: its token no longer matches what it says
    rehashed = await ledger_rows(admin_db, t.owner.tenant_id)
    async with connect(admin_db) as conn, conn.transaction():
        await conn.execute("ALTER TABLE ownership_anchors DISABLE TRIGGER USER")
        await conn.execute(
            "UPDATE ownership_anchors SET head_hash = $2 WHERE id = $1", anchors[1]["id"], rehashed[7]["hash"]
        )
        await conn.execute("ALTER TABLE ownership_anchors ENABLE TRIGGER USER")
    body = await _verify(client, t)
    assert body["ok"] is False and body["anchor_problem"] == "token_invalid"
    assert body["first_broken_anchor_seq"] == 8


async def test_a_deleted_anchor_breaks_the_next_one(
    client: Any, admin_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with timestamp_authority() as tsa:
        t = await _anchored_history(client, admin_db, monkeypatch, tsa.url)
        assert await anchor_ledger(await TenantScope.for_job(t.owner.tenant_id)) is not None
    async with connect(admin_db) as conn, conn.transaction():
        await conn.execute("ALTER TABLE ownership_anchors DISABLE TRIGGER USER")
        await conn.execute(
            "DELETE FROM ownership_anchors WHERE tenant = $1::uuid AND head_seq = 8", t.owner.tenant_id
        )
        await conn.execute("ALTER TABLE ownership_anchors ENABLE TRIGGER USER")
    body = await _verify(client, t)
    assert body["ok"] is False and body["anchor_problem"] == "anchors_unchained"
    assert body["first_broken_anchor_seq"] == 12 and body["anchors_checked"] == 2


async def test_no_timestamp_url_skips_with_a_warning_and_an_unreachable_tsa_stores_nothing(
    client: Any, admin_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = await team(client, admin_db, reps=2)
    await _round(client, t)
    monkeypatch.setattr(get_settings(), "timestamp_url", None)
    with capture_logs() as logs:
        assert await anchor_ledgers({}) == 0
    assert any("ACRE_TIMESTAMP_URL is not set" in e["event"] and e["log_level"] == "warning" for e in logs)
    monkeypatch.setattr(get_settings(), "timestamp_url", f"http://127.0.0.1:{free_port()}/tsa")  # closed
    scope = await TenantScope.for_job(t.owner.tenant_id)
    with pytest.raises(Exception):  # noqa: B017 - the TSA client's own error
        await anchor_ledger(scope)
    with capture_logs() as logs:
        await anchor_ledgers({})  # one tenant's failure is logged, the run goes on
    assert any(e["event"] == "anchor_ledgers failed for a tenant" for e in logs)
    async with connect(admin_db) as conn:
        stored = await conn.fetchval(
            "SELECT count(*) FROM ownership_anchors WHERE tenant = $1::uuid", t.owner.tenant_id
        )
    assert stored == 0
    body = await _verify(client, t)
    assert body["ok"] is True and body["anchors_checked"] == 0 and body["last_anchor"] is None


async def test_anchors_are_append_only_and_another_tenants_are_invisible(
    client: Any, admin_db: str, stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with timestamp_authority() as tsa:
        t = await team(client, admin_db, reps=2)
        other = await team(client, admin_db, reps=2)
        await _round(client, t)
        await _round(client, other)
        monkeypatch.setattr(get_settings(), "timestamp_url", tsa.url)
        assert await anchor_ledger(await TenantScope.for_job(t.owner.tenant_id)) is not None
        assert await anchor_ledger(await TenantScope.for_job(other.owner.tenant_id)) is not None
    conn = await asyncpg.connect(stack.app_url)  # the application's own role
    try:
        for sql in ("UPDATE ownership_anchors SET tsa_url = 'x'", "DELETE FROM ownership_anchors"):
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", t.owner.tenant_id)
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                    await conn.execute(sql)
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", t.owner.tenant_id)
            seen = await conn.fetch("SELECT tenant FROM ownership_anchors")
        assert [str(r["tenant"]) for r in seen] == [t.owner.tenant_id]
    finally:
        await conn.close()
    async with connect(admin_db) as admin:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await admin.execute("DELETE FROM ownership_anchors WHERE tenant = $1::uuid", t.owner.tenant_id)
    body = await _verify(client, other)
    assert body["ok"] is True and body["anchors_checked"] == 1
