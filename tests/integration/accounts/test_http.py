"""The HTTP surface: CSRF, cookie sessions, rate limiting, system routes, request ids, problems."""

from __future__ import annotations

import os
import secrets
from typing import Any

import httpx

from app.settings import get_settings
from tests.helpers import PASSWORD, signup


async def _cookie_signup(client: Any) -> dict[str, Any]:
    slug = f"c-{secrets.token_hex(4)}"
    r = await client.post(
        "/api/v1/signup",
        json={
            "company_name": "Cookie Co",
            "slug": slug,
            "email": f"cookie-{secrets.token_hex(4)}@example.com",
            "password": PASSWORD,
            "name": "Cookie",
            "locale": "en",
        },
    )
    assert r.status_code == 201, r.text
    assert "acre_session" in client.cookies and "acre_csrf" in client.cookies
    assert client.cookies["acre_csrf"] == r.json()["csrf_token"]
    return r.json()


async def test_cookie_session_needs_the_csrf_header_on_unsafe_methods(client):
    try:
        session = await _cookie_signup(client)
        me = await client.get("/api/v1/me")  # the cookie alone authenticates a safe request
        assert me.status_code == 200 and me.json()["tenant_slug"] == session["tenant"]["slug"]

        invite = {"email": f"csrf-{secrets.token_hex(4)}@example.com"}
        r = await client.post("/api/v1/invitations", json=invite)
        assert r.status_code == 403, r.text
        assert r.json()["type"] == "/problems/forbidden"
        r = await client.post("/api/v1/invitations", json=invite, headers={"X-CSRF-Token": "0" * 64})
        assert r.status_code == 403
        r = await client.post(
            "/api/v1/invitations", json=invite, headers={"X-CSRF-Token": session["csrf_token"]}
        )
        assert r.status_code == 201, r.text

        listed = (await client.get("/api/v1/invitations")).json()["items"]
        assert [i["email"] for i in listed] == [invite["email"]]  # the refused attempts created nothing
    finally:
        client.cookies.clear()


async def test_bearer_tokens_need_no_csrf_header(client):
    owner = await signup(client)
    assert not client.cookies
    r = await client.post(
        "/api/v1/invitations", json={"email": f"b-{secrets.token_hex(4)}@example.com"}, headers=owner.headers
    )
    assert r.status_code == 201, r.text


async def test_logout_by_cookie_clears_the_session(client):
    try:
        session = await _cookie_signup(client)
        r = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": session["csrf_token"]})
        assert r.status_code == 200
        client.cookies.clear()
        r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {session['token']}"})
        assert r.status_code == 401
    finally:
        client.cookies.clear()


def _random_ip() -> str:
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


async def test_login_is_rate_limited_per_client(app, client):
    from app.main import create_app

    owner = await signup(client)
    saved = os.environ.get("ACRE_LOGIN_RATE_LIMIT_PER_MINUTE")
    os.environ["ACRE_LOGIN_RATE_LIMIT_PER_MINUTE"] = "3"
    get_settings.cache_clear()
    try:
        limited = create_app()
    finally:
        if saved is None:
            os.environ.pop("ACRE_LOGIN_RATE_LIMIT_PER_MINUTE", None)
        else:
            os.environ["ACRE_LOGIN_RATE_LIMIT_PER_MINUTE"] = saved
        get_settings.cache_clear()

    # The limiter keys on the client address and keeps its counts in Redis, shared with every other
    # app and test run: a client address of our own makes the count ours alone. The second app runs in
    # this event loop on the database pool of the `app` fixture (so it needs no lifespan of its own).
    def client_at(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=limited, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")

    ip, other_ip = _random_ip(), _random_ip()
    wrong = {"email": owner.email, "password": "Not-the-password-1"}
    try:
        async with client_at(ip) as c:
            for _ in range(3):
                r = await c.post("/api/v1/auth/login", json=wrong)
                assert r.status_code == 401, r.text
            r = await c.post("/api/v1/auth/login", json=wrong)
            assert r.status_code == 429, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"] == "/problems/rate-limited" and r.json()["status"] == 429
            assert r.headers.get("x-request-id")
            # even the right password waits now
            r = await c.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
            assert r.status_code == 429
            # routes that are not throttled are not affected
            assert (await c.get("/health")).status_code == 200
            # and a spoofed forwarding header does not buy a fresh allowance
            r = await c.post("/api/v1/auth/login", json=wrong, headers={"X-Forwarded-For": "203.0.113.9"})
            assert r.status_code == 429
        async with client_at(other_ip) as other:
            r = await other.post("/api/v1/auth/login", json=wrong)
            assert r.status_code == 401  # another client has its own allowance
    finally:
        await limited.stores.get("rate_limit").aclose()


async def test_health_and_ready(client):
    r = await client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = await client.get("/ready")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert {k: body["checks"][k] for k in ("database", "redis", "storage")} == {
        "database": "ok",
        "redis": "ok",
        "storage": "ok",
    }


async def test_ready_reports_redis_down_but_stays_ready(app, client):
    """Redis is reported, not required: the API serves without it (test_outages has the real outage)."""
    from arq.connections import ArqRedis

    from app.dev import free_port

    real = app.state.arq
    app.state.arq = ArqRedis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    try:
        r = await client.get("/ready")
    finally:
        await app.state.arq.aclose()
        app.state.arq = real
    assert r.status_code == 200
    assert r.json()["status"] == "degraded"
    assert r.json()["checks"]["redis"].startswith("error") and r.json()["checks"]["database"] == "ok"


async def test_api_docs(client):
    r = await client.get("/schema")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html") and "<html" in r.text.lower()
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert spec["info"]["title"] == "Acre API"
    assert "/api/v1/members" in spec["paths"] and "get" in spec["paths"]["/api/v1/members"]
    assert "/api/v1/invitations/{invitation_id}/revoke" in spec["paths"]


async def test_every_response_carries_a_request_id(client):
    ids = set()
    for path in ("/health", "/api/v1/me", "/no/such/route", "/schema/openapi.json"):
        r = await client.get(path)
        assert r.headers.get("x-request-id"), path
        ids.add(r.headers["x-request-id"])
    assert len(ids) == 4  # a fresh one each time

    mine = "Req" + secrets.token_hex(10)
    for path in ("/health", "/api/v1/me", "/no/such/route"):
        r = await client.get(path, headers={"X-Request-ID": mine})
        assert r.headers["x-request-id"] == mine, path
    r = await client.get("/api/v1/me", headers={"X-Request-ID": mine})
    assert r.json()["request_id"] == mine  # problems name it too

    for bad in ("short", "x" * 65, "has spaces in it", "semi;colon;abc", "ünïcödé-ïd-1234"):
        r = await client.get("/health", headers={"X-Request-ID": bad.encode()})
        assert r.status_code == 200
        assert r.headers["x-request-id"] not in (bad, "")


async def test_unknown_route_is_a_problem(client):
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == "/problems/not-found" and body["status"] == 404 and body["title"] == "Not found"
    assert body["request_id"] == r.headers["x-request-id"]


async def test_problem_titles_are_translated(client):
    r = await client.get("/api/v1/me", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 401
    assert r.json()["title"] == "需要登录"
    r = await client.get("/api/v1/me", headers={"Accept-Language": "fr-FR, zh;q=0.5"})
    assert r.json()["title"] == "需要登录"
    r = await client.get("/api/v1/me", headers={"Accept-Language": "en-GB, zh-CN;q=0.5"})
    assert r.json()["title"] == "Authentication required"
    r = await client.get("/api/v1/me")
    assert r.json()["title"] == "Authentication required"
