"""What deals offer other domains: the territory move preview's open deals, the pool's reclaim
exemption for late-stage deals, and the document data providers for deals and quotes."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest

from app import db
from app.customers.pool.rules import LAST_DEAL_AT_SQL, reclaim_exempt_customer_ids_sql
from app.documents import kinds
from app.documents.providers import SubjectRequest, get_provider
from app.documents.service import tenant_context
from app.documents.validation import default_needs
from app.errors import NotFound
from app.territories.impact import open_pipeline_in_subtree
from tenants.scope import TenantScope
from tests.factories import company_profile, customer, db_value
from tests.helpers import signup
from tests.integration.deals.support import approved_quote, deal, move, world


async def test_move_preview_counts_open_deals_and_pipeline(client, mailbox, app):
    w = await world(client, mailbox, app)
    await deal(client, w.rep, w.customer["id"], amount="50000.00")
    lost = await deal(client, w.rep, w.customer["id"], amount="7000.00")
    await move(client, w.rep, lost["id"], "lost", reason="预算取消")
    await deal(client, w.rep, w.customer["id"], amount="1000.50")
    r = await client.post(
        f"/api/v1/territories/{w.city['id']}/move",
        json={"new_parent_id": w.other_province["id"], "preview": True},
        headers=w.owner.headers,
    )
    assert r.status_code == 200 and r.json()["open_deals"] == 2
    r = await client.post(
        f"/api/v1/territories/{w.other_province['id']}/move",
        json={"new_parent_id": None, "preview": True},
        headers=w.owner.headers,
    )
    assert r.json()["open_deals"] == 0
    async with db.transaction(UUID(w.owner.tenant_id)) as tx:
        path = await tx.fetchval("SELECT path FROM territories WHERE id = $1", UUID(w.province["id"]))
        assert await open_pipeline_in_subtree(tx, UUID(w.owner.tenant_id), path) == {
            "CNY": Decimal("51000.50")
        }


async def test_late_stage_open_deal_exempts_its_customer_from_reclaim(client, mailbox, app):
    w = await world(client, mailbox, app)
    early = await customer(client, w.rep, w.city["id"])
    await deal(client, w.rep, early["id"], stage="exchange_research")
    demo = await customer(client, w.rep, w.city["id"])
    await deal(client, w.rep, demo["id"], stage="demo")  # demo or later exempts
    await deal(client, w.rep, w.customer["id"], stage="formal_quote")
    closed = await customer(client, w.rep, w.city["id"])
    d = await deal(client, w.rep, closed["id"], stage="negotiation")
    await move(client, w.rep, d["id"], "lost", reason="x")
    async with db.transaction(UUID(w.owner.tenant_id)) as tx:
        rows = await tx.fetch(reclaim_exempt_customer_ids_sql("$1"), UUID(w.owner.tenant_id))
    exempt = {(str(r["customer_id"]), r["code"]) for r in rows}
    assert exempt == {(w.customer["id"], "late_stage_deal"), (demo["id"], "late_stage_deal")}
    # the pool status says why
    r = await client.get(f"/api/v1/customers/{demo['id']}/pool-status", headers=w.rep.headers)
    assert r.status_code == 200 and r.json()["reclaim"]["exempt_reasons"] == ["late_stage_deal"], r.text


async def test_deal_and_quote_providers_fill_contract_and_quote_sheet(client, mailbox, app):
    w = await world(client, mailbox, app)
    profile = await company_profile(client, w.owner, free_upgrade_years=2)
    d = await deal(client, w.rep, w.customer["id"])
    q = await approved_quote(client, w, d["id"])
    terms = {
        "party_a_full_name": w.customer["full_name"],
        "party_a_address": "苏州工业园区星湖街 218 号",
        "party_a_contact": "张建国",
        "party_a_phone": "0512-62883456",
        "onsite_fee_per_day": "800",
    }
    assert (
        await client.put(f"/api/v1/deals/{d['id']}/contract-terms", json=terms, headers=w.rep.headers)
    ).status_code == 200
    tenant = UUID(w.owner.tenant_id)
    scope = await TenantScope.for_job(tenant)
    async with db.transaction(tenant) as tx:
        context = await tenant_context(tx, scope, None, UUID(profile["id"]))
        contract = await get_provider("deal")(
            SubjectRequest(scope, tx, d["id"], "contract", "zh-CN", **context)
        )
        sheet = await get_provider("quote")(SubjectRequest(scope, tx, q["id"], "quote", "en", **context))
    assert kinds.blank_paths(default_needs("contract", "zh-CN"), contract) == ["party_b.contact"]  # no author
    assert (
        contract["party_a"]["contact"] == "张建国"
        and contract["party_b"]["full_name"] == "华东启航软件有限公司"
    )
    assert contract["party_b"]["tax_id"] == "91310115MA1K4A2B3A" and contract["party_b"]["bank"]
    assert contract["lines"][0]["unit_price"] == "¥6,800.00" and contract["totals"]["total"] == "¥15,368.00"
    assert contract["totals"]["discount"] == "¥0.00" and contract["totals"]["subtotal"] == "¥13,600.00"
    assert contract["totals"]["total_in_words"] == "人民币壹万伍仟叁佰陆拾捌元整"
    assert [m["percent"] for m in contract["milestones"]] == ["20%", "60%", "20%"]
    assert (  # saved terms keep their own period; the profile's two years are only the unsaved default
        contract["maintenance"]["free_upgrade_years"] == "1"
        and contract["maintenance"]["onsite_fee"] == "¥800.00 / 人·天"
        and contract["maintenance"]["hotline"] == "400-820-1234"
    )
    r = await client.get(
        f"/api/v1/deals/{(await deal(client, w.rep, w.customer['id']))['id']}/contract-terms",
        headers=w.rep.headers,
    )
    assert r.json()["free_upgrade_years"] == 2 and r.json()["onsite_fee_per_day"] == "800.00"
    assert sheet["quote"]["round"] == "Round 1" and sheet["customer"]["full_name"] == w.customer["full_name"]
    assert (
        sheet["terms"]
        == "Includes 1 year(s) of free same-version upgrades; on-site service: ¥800.00 per engineer-day."
    )
    assert len(sheet["lines"]) == 1 and sheet["lines"][0]["quantity"] == "2"

    other = await signup(client)
    other_scope = await TenantScope.for_job(other.tenant_id)
    async with db.transaction(UUID(other.tenant_id)) as tx:
        for subject_type, subject_id in (("deal", d["id"]), ("quote", q["id"]), ("deal", "not-a-uuid")):
            with pytest.raises(NotFound):  # the provider's 404 is the access check
                await get_provider(subject_type)(
                    SubjectRequest(other_scope, tx, subject_id, "contract", "en")
                )


async def test_deal_activity_restarts_the_no_deal_clock(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    fresh = await customer(client, w.rep, w.city["id"])
    tenant = UUID(w.owner.tenant_id)
    async with db.transaction(tenant) as tx:
        await tx.execute(
            "UPDATE deals SET updated_at = now() + interval '3 days' WHERE tenant = $1 AND id = $2",
            tenant,
            UUID(d["id"]),
        )
        sql = f"SELECT {LAST_DEAL_AT_SQL} FROM customers c WHERE c.tenant = $1 AND c.id = $2"
        last = await tx.fetchval(sql, tenant, UUID(w.customer["id"]))
        none = await tx.fetchval(sql, tenant, UUID(fresh["id"]))
        later = await tx.fetchval("SELECT now() + interval '2 days'")
    assert last > later and none is None


async def test_a_stage_move_restarts_the_no_deal_clock(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    tenant = UUID(w.owner.tenant_id)
    sql = f"SELECT {LAST_DEAL_AT_SQL} FROM customers c WHERE c.tenant = $1 AND c.id = $2"
    async with db.transaction(tenant) as tx:
        await tx.execute(
            "UPDATE deals SET updated_at = now() - interval '90 days' WHERE tenant = $1 AND id = $2",
            tenant,
            UUID(d["id"]),
        )
        before = await tx.fetchval(sql, tenant, UUID(w.customer["id"]))
    assert (await move(client, w.rep, d["id"], "first_visit")).status_code == 200
    async with db.transaction(tenant) as tx:
        after = await tx.fetchval(sql, tenant, UUID(w.customer["id"]))
        recent = await tx.fetchval("SELECT now() - interval '1 minute'")
    assert before < recent < after


async def test_signed_or_won_deal_makes_the_customer_won(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    status = "SELECT status FROM customers WHERE id = $1"
    assert await db_value(admin_db, status, UUID(w.customer["id"])) != "won"
    d = await deal(client, w.rep, w.customer["id"], stage="negotiation")
    await approved_quote(client, w, d["id"])
    assert (await move(client, w.rep, d["id"], "signed")).status_code == 200
    assert await db_value(admin_db, status, UUID(w.customer["id"])) == "won"
    items = (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json()
    assert [i["code"] for i in items] == ["deposit", "delivery", "balance"]  # signed: collections start
    assert (
        await db_value(
            admin_db,
            "SELECT count(*) FROM audit_log WHERE action = 'customer.won' AND subject_id = $1",
            w.customer["id"],
        )
        == 1
    )
    assert (await move(client, w.rep, d["id"], "won")).status_code == 200  # idempotent: no second event
    assert (
        await db_value(
            admin_db,
            "SELECT count(*) FROM audit_log WHERE action = 'customer.won' AND subject_id = $1",
            w.customer["id"],
        )
        == 1
    )

    other = await customer(client, w.rep, w.city["id"])
    lost = await deal(client, w.rep, other["id"], stage="signed")
    assert await db_value(admin_db, status, UUID(other["id"])) == "won"  # opened as signed: a sale too
    third = await customer(client, w.rep, w.city["id"])
    gone = await deal(client, w.rep, third["id"], stage="negotiation")
    assert (await move(client, w.rep, gone["id"], "lost", reason="预算取消")).status_code == 200
    assert await db_value(admin_db, status, UUID(third["id"])) != "won"
    assert lost["stage"] == "signed"
