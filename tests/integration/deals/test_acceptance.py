"""The installation acceptance note (验收单) and the renewals: the note renders with the real renderer
(docxtpl + LibreOffice), the customer signs it through the signing flow, its signature date starts the
service period and sets the balance milestone's due date; before the period ends a renewal deal and
a return visit are made for the owner, once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from app.localtime import local_today
from app.sales.growth.renewals import renew_tenant
from app.settings import get_settings
from tenants.scope import TenantScope
from tests.factories import db_value
from tests.helpers import run_jobs, signup
from tests.integration.deals.support import World, approved_quote, deal, move, world
from tests.integration.documents.test_documents_api import request_document
from tests.integration.signing.support import link_for, make_envelope, sign_typed, signer

TZ = "Asia/Shanghai"  # the tenants' zone in these tests


async def signed_deal(client: Any, w: World) -> dict[str, Any]:
    d = await deal(client, w.rep, w.customer["id"], stage="negotiation")
    await approved_quote(client, w, d["id"])  # 15,368.00: deposit, delivery, balance
    terms = {
        "party_a_full_name": w.customer["full_name"],
        "party_a_address": "苏州工业园区星湖街 218 号",
        "party_a_contact": "张建国",
        "party_a_phone": "0512-62883456",
    }
    r = await client.put(f"/api/v1/deals/{d['id']}/contract-terms", json=terms, headers=w.rep.headers)
    assert r.status_code == 200, r.text
    assert (await move(client, w.rep, d["id"], "signed")).status_code == 200
    return d


async def acceptance_pdf(
    client: Any, app: Any, w: World, deal_id: str, locale: str = "zh-CN"
) -> dict[str, Any]:
    r = await request_document(
        client, w.rep, kind="acceptance", subject_type="deal", subject_id=deal_id, locale=locale
    )
    assert r.status_code == 202, r.text
    await run_jobs(app)
    doc = (await client.get(r.json()["url"], headers=w.rep.headers)).json()
    if not doc.get("pdf"):
        pytest.skip(f"no acceptance PDF: {doc.get('pdf_note') or doc.get('failure_reason')}")
    return doc  # type: ignore[no-any-return]


async def test_signed_acceptance_starts_the_period_and_the_balance_due_date(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    d = await signed_deal(client, w)
    period = (await client.get(f"/api/v1/deals/{d['id']}/service-period", headers=w.rep.headers)).json()
    assert period["months"] == 12 and period["accepted_at"] is None  # recorded when the deal was won
    before = (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json()
    assert [c["code"] for c in before] == ["deposit", "delivery", "balance"]
    doc = await acceptance_pdf(client, app, w, d["id"])
    assert doc["kind"] == "acceptance"
    customer = signer("张建国")
    env = await make_envelope(client, w.rep, doc["id"], [customer], title="安装验收单")
    await run_jobs(app)
    r = await sign_typed(client, link_for(mailbox, customer["email"]), "张建国")
    assert r.status_code in (200, 303), r.text
    await run_jobs(app)
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=w.rep.headers)).json()
    assert got["status"] == "completed", got
    signed_at = await db_value(
        admin_db, "SELECT max(signed_at) FROM envelope_signers WHERE envelope_id = $1", UUID(env["id"])
    )
    day = signed_at.astimezone(ZoneInfo(TZ)).date()
    # not a contract: the deal and its collections stay; the balance falls due after stable running
    deal_now = (await client.get(f"/api/v1/deals/{d['id']}", headers=w.rep.headers)).json()
    assert deal_now["stage"] == "signed"
    after = (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json()
    assert [c["id"] for c in after] == [c["id"] for c in before]
    balance = next(c for c in after if c["code"] == "balance")
    assert balance["due_date"] == (day + timedelta(days=get_settings().acceptance_balance_days)).isoformat()
    assert [c["due_date"] for c in after[:2]] == [c["due_date"] for c in before[:2]]
    period = (await client.get(f"/api/v1/deals/{d['id']}/service-period", headers=w.rep.headers)).json()
    assert period["starts_on"] == day.isoformat() and period["accepted_at"] is not None
    assert period["acceptance_document_id"] == doc["id"] and period["balance_due_on"] == balance["due_date"]
    ends = date.fromisoformat(period["ends_on"])
    assert ends == day.replace(year=day.year + 1) - timedelta(days=1)


async def test_an_acceptance_note_needs_a_signed_contract_and_renders_in_english(client, mailbox, app):
    w = await world(client, mailbox, app)
    open_deal = await deal(client, w.rep, w.customer["id"], stage="negotiation")
    r = await request_document(
        client, w.rep, kind="acceptance", subject_type="deal", subject_id=open_deal["id"], locale="zh-CN"
    )
    assert r.status_code == 409 and "contract is signed" in r.json()["detail"], r.text
    d = await signed_deal(client, w)
    doc = await acceptance_pdf(client, app, w, d["id"], locale="en")
    assert doc["status"] == "ready" and doc["locale"] == "en"


async def test_renewal_deal_and_return_visit_before_the_period_ends_once(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await signed_deal(client, w)
    today = local_today(TZ)
    r = await client.put(
        f"/api/v1/deals/{d['id']}/service-period",
        json={"starts_on": (today - timedelta(days=330)).isoformat(), "months": 12},
        headers=w.rep.headers,
    )
    assert r.status_code == 200, r.text
    ends = date.fromisoformat(r.json()["ends_on"])
    scope = await TenantScope.for_job(w.owner.tenant_id)
    assert await renew_tenant(scope, today, (ends - today).days - 1) == 0  # not yet
    assert await renew_tenant(scope, today, 60) == 1
    assert await renew_tenant(scope, today, 60) == 0  # once
    period = (await client.get(f"/api/v1/deals/{d['id']}/service-period", headers=w.rep.headers)).json()
    renewal = (await client.get(f"/api/v1/deals/{period['renewal_deal_id']}", headers=w.rep.headers)).json()
    assert (
        renewal["customer_id"] == w.customer["id"] and renewal["owner_membership_id"] == w.rep.membership_id
    )
    assert d["title"] in renewal["title"] and renewal["stage"] == "prospect_list"
    visits = (
        await client.get(f"/api/v1/return-visits?customer_id={w.customer['id']}", headers=w.rep.headers)
    ).json()
    assert period["return_visit_id"] in [v["id"] for v in visits["items"]]
    notes = (await client.get("/api/v1/notifications", headers=w.rep.headers)).json()["items"]
    assert any(n["kind"] == "renewal_created" and n["subject_id"] == renewal["id"] for n in notes)
    # a deal not yet won has no period and cannot be given one
    open_deal = await deal(client, w.rep, w.customer["id"], title="二期", stage="negotiation")
    assert (
        await client.get(f"/api/v1/deals/{open_deal['id']}/service-period", headers=w.rep.headers)
    ).status_code == 404
    r = await client.put(
        f"/api/v1/deals/{open_deal['id']}/service-period",
        json={"starts_on": today.isoformat(), "months": 12},
        headers=w.rep.headers,
    )
    assert r.status_code == 409
    r = await client.put(
        f"/api/v1/deals/{d['id']}/service-period",
        json={"starts_on": today.isoformat(), "months": 0},
        headers=w.rep.headers,
    )
    assert r.status_code == 422


async def test_another_tenants_deal_has_no_service_period(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await signed_deal(client, w)
    stranger = await signup(client)
    assert (
        await client.get(f"/api/v1/deals/{d['id']}/service-period", headers=stranger.headers)
    ).status_code == 404
    r = await client.put(
        f"/api/v1/deals/{d['id']}/service-period",
        json={"starts_on": local_today(TZ).isoformat(), "months": 12},
        headers=stranger.headers,
    )
    assert r.status_code == 404
