from __future__ import annotations

import secrets

import asyncpg

from tests.helpers import PASSWORD, signup


def _body(**over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "company_name": "华东软件有限公司",
        "slug": f"s-{secrets.token_hex(4)}",
        "email": f"u-{secrets.token_hex(4)}@example.com",
        "password": PASSWORD,
        "name": "张三",
        "locale": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "currency": "CNY",
    }
    body.update(over)
    return body


async def test_signup_creates_tenant_owner_and_session(client, admin_db):
    body = _body()
    r = await client.post("/api/v1/signup", json=body)
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["tenant"] == {"slug": body["slug"], "name": "华东软件有限公司", "role": "owner"}
    assert "acre_session" in r.cookies
    client.cookies.clear()
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {data['token']}"})
    assert me.status_code == 200
    assert me.json()["role"] == "owner" and me.json()["email"] == body["email"]
    assert me.json()["locale"] == "zh-CN"
    conn = await asyncpg.connect(admin_db)
    try:
        stored = await conn.fetchval("SELECT password_hash FROM users WHERE email = $1", body["email"])
        token_rows = await conn.fetchval(
            "SELECT count(*) FROM sessions WHERE token_hash = $1::text::bytea", data["token"]
        )
    finally:
        await conn.close()
    assert stored.startswith("$argon2id$")
    assert token_rows == 0  # only the hash of the token is stored


async def test_signup_duplicate_slug_is_409_and_creates_nothing(client, admin_db):
    owner = await signup(client)
    body = _body(slug=owner.tenant_slug)
    r = await client.post("/api/v1/signup", json=body)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/conflict"
    conn = await asyncpg.connect(admin_db)
    try:
        assert await conn.fetchval("SELECT count(*) FROM users WHERE email = $1", body["email"]) == 0
    finally:
        await conn.close()


async def test_signup_existing_email_needs_its_password(client):
    owner = await signup(client)
    r = await client.post("/api/v1/signup", json=_body(email=owner.email, password="Another-pass-99"))
    assert r.status_code == 409
    r = await client.post("/api/v1/signup", json=_body(email=owner.email, password=PASSWORD))
    assert r.status_code == 201
    client.cookies.clear()
    # two companies now: login without a slug answers with the list
    r = await client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert r.status_code == 200
    assert r.json()["session"] is None
    assert len(r.json()["choose_tenant"]) == 2
    r = await client.post(
        "/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD, "tenant": owner.tenant_slug}
    )
    assert r.json()["session"]["tenant"]["slug"] == owner.tenant_slug
    client.cookies.clear()


async def test_signup_validation_errors_name_the_field(client):
    cases = [
        (_body(password="short"), "password"),
        (_body(password="aaaaaaaaaaaa"), "password"),
        (_body(email="not-an-email"), "email"),
        (_body(slug="Bad Slug!"), "slug"),
        (_body(time_zone="Mars/Olympus"), "time_zone"),
        (_body(currency="XXXY"), "currency"),
        (_body(locale="fr"), "locale"),
    ]
    for body, field in cases:
        r = await client.post("/api/v1/signup", json=body)
        assert r.status_code == 422, (field, r.text)
        assert r.json()["type"] == "/problems/validation"
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())


async def test_malformed_json_is_400(client):
    r = await client.post(
        "/api/v1/signup", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["type"] == "/problems/malformed-body"


async def test_wrong_password_and_unknown_email_look_the_same(client):
    owner = await signup(client)
    r1 = await client.post("/api/v1/auth/login", json={"email": owner.email, "password": "Wrong-pass-123"})
    r2 = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "Wrong-pass-123"}
    )
    assert r1.status_code == r2.status_code == 401
    assert r1.json()["detail"] == r2.json()["detail"]


async def test_problem_titles_follow_the_locale(client):
    r = await client.get("/api/v1/me", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert r.status_code == 401
    assert r.json()["title"] == "需要登录"
    r = await client.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert r.json()["title"] == "Authentication required"


async def test_logout_ends_the_session(client):
    owner = await signup(client)
    r = await client.post("/api/v1/auth/logout", headers=owner.headers)
    assert r.status_code == 200
    assert (await client.get("/api/v1/me", headers=owner.headers)).status_code == 401
