"""Trying pool rules before saving them (``POST /api/v1/pool-rules/simulate``): who the proposed
rules reclaim or warn in the next 30 days, per rep and day, against the rules in force; exempt
customers left out as the sweep leaves them; read only (every table unchanged, a write inside fails);
owner/admin only; and the settings page's "Preview the effect"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from app.customers.pool import rules as pool_rules
from app.customers.pool.rules import PoolRulesWrite, ReclaimExemption
from app.customers.pool.simulate import simulate_rules
from tests.factories import customer, db_rows, db_value
from tests.helpers import connect
from tests.integration.customers.pool.support import age, team
from tests.integration.customers.test_merge import _sent_envelope
from tests.integration.customers.test_owner_changes import _scope
from tests.integration.web.support import htmx, sign_in

PROPOSED = {"grades": {"A": {"no_followup_days": 45}, "B": {"no_followup_days": 20}}}


ZONE = "Asia/Shanghai"  # the tenants' zone here (set in _book)


def _day(days_from_now: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days_from_now)).astimezone(ZoneInfo(ZONE)).date().isoformat()


async def _book(client: Any, admin_db: str) -> Any:
    """A rep's book: B due in 5 days and in 20 (now: 30 days), A due in 15 (now: 15 days), one B
    with a contract out (exempt), one C far off."""
    t = await team(client, admin_db, reps=1)
    async with connect(admin_db) as conn:
        await conn.execute("UPDATE tenants SET time_zone = $2 WHERE id = $1::uuid", t.owner.tenant_id, ZONE)
    rep, where = t.reps[0], t.territory["id"]
    made = {}
    for key, grade, aged in (
        ("b5", "B", 25),
        ("b20", "B", 10),
        ("a15", "A", 0),
        ("out", "B", 29),
        ("c", "C", 0),
    ):
        made[key] = await customer(client, rep, where, grade=grade)
        if aged:
            await age(admin_db, made[key]["id"], aged)
    await _sent_envelope(admin_db, t.owner.tenant_id, made["out"]["id"])
    return t, made


async def _tables(admin_db: str) -> dict[str, str]:
    """Every table's content, hashed."""
    async with connect(admin_db) as conn:
        names = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        digest = "SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM \"{}\" x"
        return {n["tablename"]: await conn.fetchval(digest.format(n["tablename"])) for n in names}


async def test_the_proposed_rules_against_the_current_per_rep_and_day(client, admin_db):
    t, made = await _book(client, admin_db)
    r = await client.post("/api/v1/pool-rules/simulate", json=PROPOSED, headers=t.owner.headers)
    assert r.status_code == 200, r.text
    sim = r.json()
    assert sim["days"] == 30
    # now: b5 in 5 days, b20 in 20, a15 in 15; proposed: b5 today (25 > 20), b20 in 10, a15 not (45)
    assert sim["current"]["reclaimed"] == 3 and sim["proposed"]["reclaimed"] == 2
    assert sim["proposed"]["warned"] == 1  # b20, three days before; b5 is due at once, not warned
    listed = {c["customer_id"]: c for c in sim["customers"]}
    assert made["out"]["id"] not in listed and made["c"]["id"] not in listed  # exempt; far off
    assert listed[made["b5"]["id"]]["current_reclaim_date"] == _day(5)
    assert listed[made["b5"]["id"]]["proposed_reclaim_date"] == _day(0)
    assert listed[made["b20"]["id"]]["proposed_reclaim_date"] == _day(10)
    assert listed[made["b20"]["id"]]["proposed_warning_date"] == _day(7)
    assert listed[made["a15"]["id"]]["proposed_reclaim_date"] is None
    assert listed[made["a15"]["id"]]["current_reclaim_date"] == _day(15)
    rows = {d["date"]: d for d in sim["per_day"]}
    assert all(d["membership_id"] == t.reps[0].membership_id for d in sim["per_day"])
    assert rows[_day(0)]["proposed_reclaimed"] == 1 and rows[_day(0)]["current_reclaimed"] == 0
    assert rows[_day(5)]["current_reclaimed"] == 1 and rows[_day(5)]["proposed_reclaimed"] == 0
    assert rows[_day(10)]["proposed_reclaimed"] == 1
    assert sum(d["current_warned"] for d in sim["per_day"]) == sim["current"]["warned"] == 3


async def test_a_simulation_changes_nothing_and_a_write_inside_it_fails(client, admin_db):
    t, _ = await _book(client, admin_db)
    before = await _tables(admin_db)
    r = await client.post("/api/v1/pool-rules/simulate", json=PROPOSED, headers=t.owner.headers)
    assert r.status_code == 200, r.text
    assert await _tables(admin_db) == before

    # an exemption whose query writes (a function that inserts): inside the simulation it fails
    async with connect(admin_db) as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS sim_probe (customer_id uuid);"
            " GRANT INSERT, SELECT ON sim_probe TO acre_app;"
            " CREATE OR REPLACE FUNCTION sim_probe_write(t uuid) RETURNS SETOF uuid LANGUAGE plpgsql AS"
            " $$ BEGIN INSERT INTO sim_probe VALUES (t); RETURN; END $$"
        )
    probe = ReclaimExemption("sim_probe", "probe", "SELECT sim_probe_write({tenant}) AS customer_id")
    pool_rules.RECLAIM_EXEMPTIONS.append(probe)
    try:
        scope = await _scope(t.owner)
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await simulate_rules(scope, PoolRulesWrite(grades={}))
    finally:
        pool_rules.RECLAIM_EXEMPTIONS.remove(probe)
        async with connect(admin_db) as conn:
            await conn.execute("DROP TABLE sim_probe; DROP FUNCTION sim_probe_write(uuid)")
    assert (
        await db_value(admin_db, "SELECT count(*) FROM pool_rules WHERE tenant = $1::uuid", t.owner.tenant_id)
        == 0
    )


async def test_only_owners_and_admins_and_bad_rules_are_named(client, admin_db):
    t, _ = await _book(client, admin_db)
    r = await client.post("/api/v1/pool-rules/simulate", json=PROPOSED, headers=t.reps[0].headers)
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/pool-rules/simulate",
        json={"warning_days": 5, "grades": {"A": {"no_followup_days": 4}}},
        headers=t.owner.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "grades.A.no_followup_days"


async def test_the_settings_page_previews_the_effect_without_saving(client, admin_db):
    t, made = await _book(client, admin_db)
    csrf = await sign_in(client, t.owner)
    page = await client.get("/settings/pool-rules")
    assert 'hx-post="/settings/pool-rules/preview"' in page.text and "Preview the effect" in page.text
    form = {
        "owned_cap": "100",
        "warning_days": "3",
        "cooldown_days": "7",
        "A_no_followup_days": "45",
        "B_no_followup_days": "20",
        "C_no_followup_days": "60",
        "D_no_followup_days": "90",
    }
    headers = {**htmx(csrf), "Content-Type": "application/x-www-form-urlencoded"}
    r = await client.post("/settings/pool-rules/preview", content=urlencode(form), headers=headers)
    assert r.status_code == 200, r.text
    assert "<html" not in r.text and "3 now → 2 with these rules" in r.text
    assert _day(10) in r.text and made["b20"]["full_name"] in r.text
    assert (
        await db_value(admin_db, "SELECT count(*) FROM pool_rules WHERE tenant = $1::uuid", t.owner.tenant_id)
        == 0
    )
    r = await client.post(
        "/settings/pool-rules/preview",
        content=urlencode({**form, "B_no_followup_days": "2"}),
        headers=headers,
    )
    assert r.status_code == 422 and "<html" not in r.text
    rows = await db_rows(admin_db, "SELECT 1 FROM pool_rules WHERE tenant = $1::uuid", t.owner.tenant_id)
    assert rows == []
    assert UUID(t.owner.tenant_id)


async def test_a_pools_own_rules_are_simulated_and_kept_over_the_tenants(client, admin_db):
    t, made = await _book(client, admin_db)
    pool_id = str(
        await db_value(
            admin_db, "SELECT id FROM pools WHERE territory_id = $1::uuid", UUID(t.territory["id"])
        )
    )
    url = "/api/v1/pool-rules/simulate"
    r = await client.post(url, params={"pool_id": pool_id}, json=PROPOSED, headers=t.owner.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["current"]["reclaimed"], r.json()["proposed"]["reclaimed"]) == (3, 2)

    # the pool overrides B (20 days): new tenant rules leave its customers under its own
    async with connect(admin_db) as conn:
        await conn.execute(
            "UPDATE pools SET rules = $2::jsonb WHERE id = $1::uuid",
            UUID(pool_id),
            '{"grades": {"B": {"no_followup_days": 20}}}',
        )
    r = await client.post(url, json={"grades": {"B": {"no_followup_days": 40}}}, headers=t.owner.headers)
    sim = r.json()
    listed = {c["customer_id"]: c for c in sim["customers"]}
    assert (
        listed[made["b20"]["id"]]["current_reclaim_date"]
        == listed[made["b20"]["id"]]["proposed_reclaim_date"]
    )
    assert listed[made["b20"]["id"]]["proposed_reclaim_date"] == _day(10)

    stranger = await team(client, admin_db, reps=0)
    theirs = await db_value(
        admin_db, "SELECT id::text FROM pools WHERE territory_id = $1::uuid", UUID(stranger.territory["id"])
    )
    r = await client.post(url, params={"pool_id": theirs}, json=PROPOSED, headers=t.owner.headers)
    assert r.status_code == 404, r.text
