"""API keys: made by owners and admins (the secret shown once, stored hashed), scoped, revocable, the
last use recorded, rate-limited per key; every /api/v1 route either declares the scope a key needs or
refuses keys; a key is never a member who decides approvals."""

from __future__ import annotations

import hashlib
import re
from types import SimpleNamespace

import pytest
from litestar.routes import HTTPRoute

from app.deals import approvals
from app.errors import Forbidden
from tenants import key_scopes
from tenants.scope import SCOPED, _key_allowed, resolve_api_key
from tests.factories import customer, db_rows, staff, territory
from tests.helpers import limited_app, signup
from tests.integration.leads.keys import ALL_SCOPES, api_key, bearer


async def test_a_key_is_shown_once_stored_hashed_and_listed_with_its_last_use(client, admin_db):
    owner = await signup(client)
    made = await api_key(client, owner, ["customers:read"])
    secret = made["secret"]
    assert secret.startswith(f"acre_{owner.tenant_id.replace('-', '')}_{made['key']['prefix']}_")
    stored = await db_rows(admin_db, "SELECT * FROM api_keys WHERE id = $1", made["key"]["id"])
    assert bytes(stored[0]["secret_hash"]) == hashlib.sha256(secret.encode()).digest()
    assert secret not in str(dict(stored[0]))
    listed = (await client.get("/api/v1/api-keys", headers=owner.headers)).json()
    assert [k["id"] for k in listed] == [made["key"]["id"]] and "secret" not in listed[0]
    assert listed[0]["last_used_at"] is None and listed[0]["scopes"] == ["customers:read"]

    assert (await client.get("/api/v1/customers", headers=bearer(made))).status_code == 200
    used = (await client.get("/api/v1/api-keys", headers=owner.headers)).json()[0]["last_used_at"]
    assert used is not None
    # at most one write a minute: the next use leaves the time as it was
    assert (await client.get("/api/v1/customers", headers=bearer(made))).status_code == 200
    assert (await client.get("/api/v1/api-keys", headers=owner.headers)).json()[0]["last_used_at"] == used


async def test_only_owners_and_admins_make_keys_and_a_key_makes_none(client, mailbox, app):
    owner = await signup(client)
    manager = await staff(client, owner, mailbox, app, role="manager")
    r = await client.post(
        "/api/v1/api-keys", json={"name": "x", "scopes": ["leads:write"]}, headers=manager.headers
    )
    assert r.status_code == 403
    assert (await client.get("/api/v1/api-keys", headers=manager.headers)).status_code == 403
    key = await api_key(client, owner)
    r = await client.post(
        "/api/v1/api-keys", json={"name": "x", "scopes": ["leads:write"]}, headers=bearer(key)
    )
    assert r.status_code == 403 and r.json()["reason"] == "api_key_not_allowed"
    r = await client.post(
        "/api/v1/api-keys", json={"name": "x", "scopes": ["admin:all"]}, headers=owner.headers
    )
    assert r.status_code == 422


async def test_a_key_lacking_the_scope_is_403_on_representative_routes(client):
    owner = await signup(client)
    leads_only = await api_key(client, owner, ["leads:write"])
    reader = await api_key(client, owner, ["customers:read"])
    for path in ("/api/v1/customers", "/api/v1/deals", "/api/v1/pipeline", "/api/v1/territories"):
        r = await client.get(path, headers=bearer(leads_only))
        assert r.status_code == 403, (path, r.text)
        assert r.json()["reason"] == "api_key_scope"
    r = await client.post("/api/v1/leads", json={"full_name": "某某有限公司"}, headers=bearer(reader))
    assert r.status_code == 403 and r.json()["reason"] == "api_key_scope"
    assert (await client.get("/api/v1/customers", headers=bearer(reader))).status_code == 200
    # routes without a scope refuse every key, even one holding all of them
    full = await api_key(client, owner, ALL_SCOPES)
    for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/members"), ("GET", "/api/v1/approvals")):
        r = await client.request(method, path, headers=bearer(full))
        assert r.status_code == 403 and r.json()["reason"] == "api_key_not_allowed", path


async def test_another_tenants_key_and_a_revoked_or_forged_key_are_refused(client):
    owner, other = await signup(client), await signup(client)
    mine = await territory(client, owner, "上海市")
    theirs = await api_key(client, other)
    r = await client.get(f"/api/v1/territories/{mine['id']}", headers=bearer(theirs))
    assert r.status_code == 404  # the key is good, for its own tenant only
    forged = theirs["secret"].replace(other.tenant_id.replace("-", ""), owner.tenant_id.replace("-", ""))
    assert (
        await client.get("/api/v1/territories", headers={"Authorization": f"Bearer {forged}"})
    ).status_code == 401
    key = await api_key(client, owner)
    assert (await client.get(f"/api/v1/territories/{mine['id']}", headers=bearer(key))).status_code == 200
    r = await client.delete(f"/api/v1/api-keys/{key['key']['id']}", headers=owner.headers)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert (await client.get("/api/v1/territories", headers=bearer(key))).status_code == 401
    assert (
        await client.get("/api/v1/territories", headers={"Authorization": "Bearer acre_x"})
    ).status_code == 401
    # revoking another tenant's key is 404
    r = await client.delete(f"/api/v1/api-keys/{theirs['key']['id']}", headers=owner.headers)
    assert r.status_code == 404


async def test_a_key_is_rate_limited_per_key(app, client):
    owner = await signup(client)
    one, two = (
        await api_key(client, owner, ["territories:read"]),
        await api_key(client, owner, ["territories:read"]),
    )
    limited = limited_app(app, "ACRE_API_KEY_RATE_LIMIT_PER_MINUTE", 3)
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://t") as c:
        codes = [(await c.get("/api/v1/territories", headers=bearer(one))).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = await c.get("/api/v1/territories", headers=bearer(one))
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "API key" in r.json()["detail"] and r.headers["RateLimit-Limit"] == "3"
        assert (await c.get("/api/v1/territories", headers=bearer(two))).status_code == 200  # its own count


def test_every_api_route_declares_a_key_scope_or_refuses_keys(app):
    """The route table: a route under /api/v1 that takes a session either names a scope a key may hold
    (the only way a key gets in: tenants.scope._key_allowed) or has none, and then refuses keys."""
    declared: dict[str, str] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/v1"):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            scope = handler.opt.get(key_scopes.OPT_KEY)
            if scope is not None:
                assert next(iter(SCOPED)) in handler.resolve_dependencies(), route.path
                assert scope in key_scopes.SCOPES, (method, route.path)
                declared[f"{method} {route.path}"] = scope
    assert set(declared.values()) == set(key_scopes.SCOPES)  # every scope opens something
    # nothing that decides, approves or manages is open to a key
    for name in declared:
        assert name.startswith("GET ") or name == "POST /api/v1/leads", name
        assert "approv" not in name and "api-keys" not in name and "members" not in name, name


async def test_every_api_route_without_a_scope_refuses_a_key_holding_all_scopes(app, client):
    owner = await signup(client)
    made = await api_key(client, owner, ALL_SCOPES)
    key, scope = bearer(made), await resolve_api_key(made["secret"])
    assert scope is not None
    zero = "00000000-0000-0000-0000-000000000000"
    checked = by_rule = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/v1"):
            continue
        for method, (handler, kwargs_model) in route.route_handler_map.items():
            if method in ("HEAD", "OPTIONS") or next(iter(SCOPED)) not in handler.resolve_dependencies():
                continue
            if key_scopes.OPT_KEY in handler.opt:
                continue
            path = re.sub(r"\{[^}]+\}", zero, route.path_format)
            if kwargs_model.expected_form_data is not None:  # multipart: parsed before the dependencies
                r = await client.request(method, path, headers=key, files={"file": ("x.png", b"x")})
            else:
                r = await client.request(method, path, headers=key, json={})
            if r.status_code in (400, 422):  # parameters parsed before the dependency: the rule itself
                with pytest.raises(Forbidden) as refused:
                    _key_allowed(SimpleNamespace(route_handler=handler), scope)  # type: ignore[arg-type]
                assert refused.value.extra["reason"] == "api_key_not_allowed"
                by_rule += 1
                continue
            assert r.status_code == 403 and r.json().get("reason") == "api_key_not_allowed", (
                method,
                path,
                r.text,
            )
            checked += 1
    assert checked > 100 and by_rule < 20, (checked, by_rule)


async def test_a_key_never_decides_an_approval(client):
    """Even reaching the service, a key's scope is refused before anything is read."""
    owner = await signup(client)
    key = await api_key(client, owner)
    scope = await resolve_api_key(key["secret"])
    assert scope is not None and scope.api_key_id is not None and scope.membership_id is None
    with pytest.raises(Forbidden):
        await approvals.decide(scope, scope.api_key_id, True, None)


async def test_a_reading_key_sees_the_whole_company_and_another_tenants_ids_are_404(client):
    owner, other = await signup(client), await signup(client)
    mine, theirs = await territory(client, owner, "华东区"), await territory(client, other, "华北区")
    c1 = await customer(client, owner, mine["id"], full_name="读取测试有限公司")
    c2 = await customer(client, other, theirs["id"], full_name="别家客户有限公司")
    key = bearer(await api_key(client, owner, ["customers:read", "deals:read", "territories:read"]))
    listed = (await client.get("/api/v1/customers", headers=key)).json()["items"]
    assert [c["id"] for c in listed] == [c1["id"]]
    assert (await client.get(f"/api/v1/customers/{c1['id']}", headers=key)).status_code == 200
    assert (await client.get(f"/api/v1/customers/{c2['id']}", headers=key)).status_code == 404
    deal = await client.post(
        "/api/v1/deals", json={"customer_id": c1["id"], "title": "ERP 项目"}, headers=owner.headers
    )
    assert deal.status_code == 201, deal.text
    assert [d["id"] for d in (await client.get("/api/v1/deals", headers=key)).json()["items"]] == [
        deal.json()["id"]
    ]
    assert (await client.get(f"/api/v1/deals/{deal.json()['id']}", headers=key)).status_code == 200
    assert (await client.get("/api/v1/pipeline", headers=key)).status_code == 200
    # a write on a route it may read is still refused
    r = await client.patch(f"/api/v1/customers/{c1['id']}", json={"grade": "A"}, headers=key)
    assert r.status_code == 403 and r.json()["reason"] == "api_key_not_allowed"
