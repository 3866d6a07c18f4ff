"""Credential stuffing: the per-account limit on password attempts (``app.accounts.lockout``) beside
the per-address one, and the per-address buckets kept apart (``app.rate_limits``)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from app.main import create_app
from app.settings import get_settings
from tests.helpers import PASSWORD, client_at, random_ip, settings_env, signup

WRONG = "Not-the-password-1"


async def _login_from_new_address(app: Any, email: str, password: str, **headers: str) -> Any:
    async with client_at(app, random_ip()) as c:
        return await c.post(
            "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
        )


async def test_thirty_addresses_cannot_stuff_one_account_and_others_are_unaffected(app, client):
    victim, bystander = await signup(client), await signup(client)
    limit = get_settings().login_account_max_failures
    assert limit == 10  # the default: the 11th attempt answers 429

    statuses = [(await _login_from_new_address(app, victim.email, WRONG)).status_code for _ in range(30)]
    assert statuses == [401] * limit + [429] * (30 - limit)

    r = await _login_from_new_address(app, victim.email, WRONG, **{"accept-language": "zh-CN"})
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/rate-limited"
    assert "该账号登录失败次数过多" in r.json()["detail"] and "15 分钟" in r.json()["detail"]
    assert 0 < int(r.headers["retry-after"]) <= get_settings().login_account_lock_seconds
    # while locked even the right password waits (an attacker who finds it learns nothing)...
    r = await _login_from_new_address(app, victim.email, PASSWORD, **{"accept-language": "en"})
    assert r.status_code == 429 and "reset your password" in r.json()["detail"]
    # ...and the other paths that check this account's password are locked the same
    r = await client.post(
        "/api/v1/signup",
        json={
            "company_name": "Other",
            "slug": f"o-{secrets.token_hex(4)}",
            "email": victim.email,
            "password": PASSWORD,
            "name": "X",
            "locale": "en",
        },
    )
    assert r.status_code == 429
    # another account logs in from the very same network
    r = await _login_from_new_address(app, bystander.email, PASSWORD)
    assert r.status_code == 200 and r.json()["session"]["tenant"]["slug"] == bystander.tenant_slug
    client.cookies.clear()


async def test_an_unknown_email_is_limited_the_same(app):
    ghost = f"ghost-{secrets.token_hex(4)}@example.com"
    limit = get_settings().login_account_max_failures
    statuses = [(await _login_from_new_address(app, ghost, WRONG)).status_code for _ in range(limit + 1)]
    assert statuses == [401] * limit + [429]  # the answers do not tell that no account exists


async def test_the_right_password_clears_the_count_and_the_window_end_lifts_the_lock(app, client):
    owner = await signup(client)
    limit = get_settings().login_account_max_failures
    for _ in range(limit - 1):
        assert (await _login_from_new_address(app, owner.email, WRONG)).status_code == 401
    assert (await _login_from_new_address(app, owner.email, PASSWORD)).status_code == 200
    for _ in range(limit - 1):  # counted from zero again: the owner's own success reset it
        assert (await _login_from_new_address(app, owner.email, WRONG)).status_code == 401
    assert (await _login_from_new_address(app, owner.email, PASSWORD)).status_code == 200

    for _ in range(limit - 1):
        assert (await _login_from_new_address(app, owner.email, WRONG)).status_code == 401
    # the failure that locks sets the lock's length: a short window for it keeps the test short (the
    # attempts before it may take longer than that under load)
    with settings_env(login_account_lock_seconds="2"):
        assert (await _login_from_new_address(app, owner.email, WRONG)).status_code == 401
        r = await _login_from_new_address(app, owner.email, PASSWORD)
        assert r.status_code == 429 and int(r.headers["retry-after"]) <= 2
        await asyncio.sleep(2.5)
        r = await _login_from_new_address(app, owner.email, PASSWORD)
        assert r.status_code == 200, r.text  # the window ended: the owner is not locked out for good
    client.cookies.clear()


async def test_concurrent_attempts_cannot_overshoot_the_limit(app, client):
    owner = await signup(client)
    limit = get_settings().login_account_max_failures
    answers = await asyncio.gather(
        *(_login_from_new_address(app, owner.email, WRONG) for _ in range(3 * limit))
    )
    assert sorted(r.status_code for r in answers) == [401] * limit + [429] * (2 * limit)


async def test_each_public_endpoint_has_its_own_per_address_bucket(app, client):
    with settings_env(login_rate_limit_per_minute="4"):
        limited = create_app()
    limited.state.storage = app.state.storage  # no lifespan of its own: it runs on the app's pool
    owner = await signup(client)
    try:
        async with client_at(limited, random_ip()) as c:
            for _ in range(4):
                r = await c.post("/api/v1/verify", files={"file": ("x.txt", b"hello", "text/plain")})
                assert r.status_code == 422, r.text
            r = await c.post("/api/v1/verify", files={"file": ("x.txt", b"hello", "text/plain")})
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
            assert r.json()["detail"] == "Too many attempts from your network; try again in a minute"
            r = await c.post("/verify", files={"file": ("x.txt", b"hello", "text/plain")})
            assert r.status_code == 429  # the page and the API share the verification bucket

            # four verifications spend nothing of the signup, login or reset allowances
            r = await c.post(
                "/api/v1/signup",
                json={
                    "company_name": "Bucket Co",
                    "slug": f"b-{secrets.token_hex(4)}",
                    "email": f"b-{secrets.token_hex(4)}@example.com",
                    "password": PASSWORD,
                    "name": "B",
                    "locale": "en",
                },
            )
            assert r.status_code == 201, r.text
            c.cookies.clear()
            r = await c.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
            assert r.status_code == 200, r.text
            c.cookies.clear()
            r = await c.post("/api/v1/auth/password-reset", json={"email": owner.email})
            assert r.status_code == 202

            for _ in range(3):  # the login bucket on its own: 4 a minute, one spent above
                assert (
                    await c.post("/api/v1/auth/login", json={"email": owner.email, "password": WRONG})
                ).status_code == 401
            r = await c.post("/api/v1/auth/login", json={"email": owner.email, "password": WRONG})
            assert r.status_code == 429
            # the invitation form on the page counts like the API (a page answer, in the page's look)
            for _ in range(4):
                assert (await c.post("/invite/not-a-token", data={"password": "x"})).status_code == 404
            r = await c.post(
                "/invite/not-a-token", data={"password": "x"}, headers={"accept-language": "zh-CN"}
            )
            assert r.status_code == 429 and r.headers["content-type"].startswith("text/html")
            assert "来自您网络的尝试次数过多" in r.text and "<form" not in r.text
            assert int(r.headers["retry-after"]) >= 1
    finally:
        await limited.stores.get("rate_limit").aclose()
