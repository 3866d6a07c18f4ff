"""Every address that takes an id — pages and the JSON API, every method — answers 404 for another
tenant's real id (the 404 page, or the API's problem+json). The addresses come from the application's
own route table, so a new route with an id is covered without being listed; an id kind this test
cannot fill fails it until one is added to ``TABLES`` (and the other company given a row of it)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from litestar.routes import HTTPRoute

from tests.factories import db_rows, db_value, today
from tests.helpers import signup
from tests.integration.customers.imports.support import upload
from tests.integration.deals.support import deal, product
from tests.integration.sales.field.support import item, plan
from tests.integration.signing.support import make_envelope, ready_contract, signer
from tests.integration.web.support import htmx, sign_in
from tests.integration.web.team_support import busy_team

_PARAM = re.compile(r"\{(\w+):(\w+)\}")

# The table an id of a path parameter names (where the address decides, ``IN_PATH`` first).
IN_PATH = {
    ("/handovers/", "plan_id"): "handover_plans",
    ("/realignments/", "plan_id"): "handover_plans",
    ("/visit-plans/", "plan_id"): "visit_plans",
    ("/weekly-reports/", "report_id"): "weekly_reports",
}
TABLES = {
    "customer_id": "customers",
    "deal_id": "deals",
    "document_id": "documents",
    "envelope_id": "envelopes",
    "import_id": "customer_imports",
    "report_id": "daily_reports",
    "incident_id": "market_incidents",
    "membership_id": "memberships",
    "target_id": "targets",
    "territory_id": "territories",
    "approval_id": "approvals",
    "collection_id": "collections",
    "conflict_id": "customer_conflicts",
    "contact_id": "customer_contacts",
    "invitation_id": "invitations",
    "member_id": "memberships",
    "notification_id": "notifications",
    "quote_id": "quotes",
    "visit_id": "return_visits",
    "product_id": "products",
    "template_id": "document_templates",
    "task_id": "sales_tasks",
    "grant_id": "cross_territory_grants",
    "reward_id": "referral_rewards",
    "item_id": "visit_plan_items",
    "key_id": "api_keys",
    "request_id": "cross_territory_requests",
    "form_id": "lead_forms",
    "endpoint_id": "webhook_endpoints",
    "channel_id": "chat_channels",
    "registration_id": "vendor_registrations",
    "statement_id": "ownership_statements",
    "pool_id": "pools",
}
OTHER_VALUES = {"int": "1", "str": "x", "path": "x"}


def _id_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route with a uuid in its path."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or ":uuid}" not in route.path:
            continue
        for handler in route.route_handlers:
            found += [(m, route.path) for m in sorted(handler.http_methods) if m not in ("HEAD", "OPTIONS")]
    return found


def _table(param: str, path: str) -> str | None:
    here = next((t for (part, name), t in IN_PATH.items() if name == param and part in path), None)
    return here or TABLES.get(param)


async def _their_world(client: Any, mailbox: Any, app: Any, admin_db: str) -> UUID:
    """Another company with a row of every kind a page address names."""
    f, _ = await busy_team(client, mailbox, app, admin_db)
    tomorrow = today() + timedelta(days=1)
    r = await plan(client, f.rep, tomorrow, [item(f.customers[0]["id"])])
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/handovers",
        json={
            "reason": "调整",
            "selection": {"customer_ids": [f.customers[0]["id"]]},
            "targets": [{"membership_id": f.rep2.membership_id}],
        },
        headers=f.owner.headers,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/targets",
        json={
            "metric": "amount",
            "scope_type": "rep",
            "period": "month",
            "period_start": today().replace(day=1).isoformat(),
            "value": "100000",
            "membership_id": f.rep.membership_id,
        },
        headers=f.manager.headers,
    )
    assert r.status_code == 201, r.text
    r = await upload(client, f.owner, "客户名称\n苏州某某科技有限公司\n".encode())
    assert r.status_code == 202, r.text
    document = await ready_contract(client, app, f.owner)
    await make_envelope(client, f.owner, document, [signer()], send=False)
    customer_id = f.customers[0]["id"]
    r = await client.post(
        f"/api/v1/customers/{customer_id}/contacts", json={"name": "韩梅梅"}, headers=f.rep.headers
    )
    assert r.status_code == 201, r.text
    line = {"product_id": (await product(client, f.owner))["id"], "quantity": "1", "unit_price": "4000.00"}
    a_deal = await deal(client, f.rep, customer_id, stage="formal_quote")
    until = (today() + timedelta(days=30)).isoformat()
    r = await client.post(
        f"/api/v1/deals/{a_deal['id']}/quotes",
        json={"lines": [line], "valid_until": until},
        headers=f.rep.headers,
    )
    assert r.status_code == 201, r.text
    assert (
        await client.post(f"/api/v1/quotes/{r.json()['id']}/submit", headers=f.rep.headers)
    ).status_code == 202
    # Rows whose making through the API needs a longer story (a signed contract's milestones, a won
    # referral, an uploaded template, a 撞单, a grant): written directly, as the other company's.
    tenant = UUID(f.owner.tenant_id)
    for sql, *args in (
        (
            "INSERT INTO collections (tenant, deal_id, seq, code, percent, amount, currency, due_date)"
            " VALUES ($1, $2, 1, 'full', 100, 1000, 'CNY', current_date)",
            UUID(a_deal["id"]),
        ),
        (
            "INSERT INTO vendor_registrations (tenant, deal_id, customer_id, vendor, registration_no,"
            " registered_on, protected_until)"
            " VALUES ($1, $2, $3, '用友', 'YY-1', current_date, current_date + 30)",
            UUID(a_deal["id"]),
            UUID(customer_id),
        ),
        (
            "INSERT INTO referral_rewards (tenant, referred_customer_id, kind, points)"
            " VALUES ($1, $2, 'points', 10)",
            UUID(customer_id),
        ),
        (
            "INSERT INTO document_templates (tenant, kind, locale, version, filename, storage_key, sha256,"
            " size_bytes) VALUES ($1, 'contract', 'zh-CN', 1, 't.docx', 'k', repeat('0', 64), 1)",
        ),
        (
            "INSERT INTO customer_conflicts (tenant, customer_id, attempted_data, territory_id)"
            " VALUES ($1, $2, '{}', $3)",
            UUID(customer_id),
            UUID(f.city["id"]),
        ),
        (
            "INSERT INTO cross_territory_grants (tenant, membership_id, territory_id, until)"
            " VALUES ($1, $2, $3, now() + interval '1 day')",
            UUID(f.rep.membership_id),
            UUID(f.other_province["id"]),
        ),
        (
            "INSERT INTO cross_territory_requests (tenant, membership_id, territory_id, reason, until)"
            " VALUES ($1, $2, $3, '跨区拜访', now() + interval '7 days')",
            UUID(f.rep.membership_id),
            UUID(f.other_province["id"]),
        ),
        (
            "INSERT INTO api_keys (tenant, prefix, secret_hash, name, scopes, created_by)"
            " VALUES ($1, 'acre_test', '\\x00', 'ERP', '{leads:write}', $2)",
            UUID(f.owner.membership_id),
        ),
        (
            "INSERT INTO lead_forms (tenant, slug, name, created_by) VALUES ($1, 'contact', '联系我们', $2)",
            UUID(f.owner.membership_id),
        ),
        (
            "INSERT INTO weekly_reports (tenant, territory_name, week_start, figures)"
            " VALUES ($1, '苏州市', date_trunc('week', now())::date, '{}')",
        ),
        (
            "INSERT INTO webhook_endpoints (tenant, url, event_types, secret)"
            " VALUES ($1, 'https://hooks.example.com/acre', '{deal.won}', 'whsec_x')",
        ),
        (
            "INSERT INTO chat_channels (tenant, territory_id, provider, url, kinds)"
            " VALUES ($1, $2, 'wecom', 'https://qyapi.weixin.qq.com/x', '{reclaim_warning}')",
            UUID(f.city["id"]),
        ),
        (
            "INSERT INTO ownership_statements (tenant, membership_id, period_start, period_end, kind, locale)"
            " VALUES ($1, $2, now() - interval '1 day', now(), 'requested', 'en')",
            UUID(f.rep.membership_id),
        ),
    ):
        await db_rows(admin_db, sql, tenant, *args)
    return tenant


async def test_another_tenants_ids_in_every_address_answer_404(client, mailbox, app, admin_db):
    routes = _id_routes(app)
    # the walk finds pages and API routes (a walk that found nothing would pass vacuously)
    assert {("GET", "/customers/{customer_id:uuid}"), ("GET", "/api/v1/customers/{customer_id:uuid}")} <= set(
        routes
    )
    assert len(routes) > 150
    theirs = await _their_world(client, mailbox, app, admin_db)
    ids: dict[str, str] = {}
    for table in {*TABLES.values(), *IN_PATH.values()}:
        found = await db_value(admin_db, f"SELECT id::text FROM {table} WHERE tenant = $1 LIMIT 1", theirs)
        assert found, f"the other company has no row of {table}"
        ids[table] = found

    me = await signup(client)
    csrf = await sign_in(client, me)
    unfilled, answered = [], []
    for method, path in routes:
        values, absent = {}, {}
        for param, kind in _PARAM.findall(path):
            table = _table(param, path) if kind == "uuid" else None
            if kind == "uuid" and table is None:
                unfilled.append(f"{path} ({param})")
            values[param] = ids.get(table or "", OTHER_VALUES.get(kind, "x"))
            absent[param] = str(uuid4()) if kind == "uuid" else values[param]
        r = await _ask(client, csrf, method, path, values, me.headers)
        expected = "application/problem+json" if path.startswith("/api/") else "text/html"
        if r.status_code == 404 and r.headers["content-type"].startswith(expected):
            continue
        # An action that checks its (empty) form before it looks the id up may refuse it first: then it
        # must answer exactly as for an id that exists nowhere, so it tells nothing of the other company.
        nowhere = await _ask(client, csrf, method, path, absent, me.headers)
        same = r.status_code == nowhere.status_code == 422 and _text(r, values) == _text(nowhere, absent)
        if method == "GET" or not same:
            answered.append(f"{method} {path} -> {r.status_code} (an id of nowhere: {nowhere.status_code})")
    assert unfilled == [], "add these id kinds to TABLES: " + "; ".join(sorted(set(unfilled)))
    assert answered == [], "another tenant's id must be the 404 page: " + "; ".join(answered)


async def _ask(client: Any, csrf: str, method: str, path: str, values: dict[str, str], auth: Any) -> Any:
    url = _PARAM.sub(lambda m: values[m.group(1)], path)
    if path.startswith("/api/"):
        body = None if method in ("GET", "DELETE") else {}
        return await client.request(method, url, headers=auth, json=body)
    if method == "GET":
        return await client.get(url)
    return await client.request(method, url, headers=htmx(csrf), data={})


_REQUEST_ID = re.compile(r'"request_id":"\w+"')


def _text(response: Any, values: dict[str, str]) -> str:
    text = _REQUEST_ID.sub("", str(response.text))
    for value in values.values():
        text = text.replace(value, "ID")
    return text
