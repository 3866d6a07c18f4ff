"""Password reset by email: the request answers the same for any address, the mailed link works once
and expires, setting the password ends every session and lifts the per-account lock."""

from __future__ import annotations

import re
import secrets
from typing import Any
from uuid import UUID

from app.settings import get_settings
from tests.helpers import (
    PASSWORD,
    client_at,
    connect,
    last_link,
    mails_to,
    random_ip,
    run_jobs,
    signup,
)

NEW_PASSWORD = "Brand-new-Secret-7"
LINK = r"http://testserver\.local/reset-password/(\S+)"


async def _request(client: Any, email: str, **headers: str) -> Any:
    return await client.post("/api/v1/auth/password-reset", json={"email": email}, headers=headers)


async def _mailed_token(client: Any, app: Any, mailbox: Any, email: str) -> str:
    assert (await _request(client, email)).status_code == 202
    await run_jobs(app)
    return last_link(mailbox, LINK, to=email)


async def _confirm(client: Any, token: str, password: str = NEW_PASSWORD) -> Any:
    return await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": password}
    )


async def _login(client: Any, email: str, password: str) -> Any:
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    client.cookies.clear()
    return r


async def test_reset_by_mail_end_to_end_ends_every_session(client, app, mailbox, admin_db):
    owner = await signup(client)
    other_session = (await _login(client, owner.email, PASSWORD)).json()["session"]["token"]

    r = await _request(client, owner.email.upper(), **{"accept-language": "zh-CN"})
    assert r.status_code == 202
    assert r.json() == {"detail": "如果有账号使用此邮箱，设置新密码的链接已发往该邮箱。"}
    assert mails_to(mailbox, owner.email) == []  # through the outbox, not sent by the request
    await run_jobs(app)
    (msg,) = mails_to(mailbox, owner.email)
    assert msg["Subject"] == "Choose a new Acre password"  # the account's own language (en)
    token = last_link(mailbox, LINK, to=owner.email)
    async with connect(admin_db) as conn:
        row = await conn.fetchrow(
            "SELECT r.token_hash, r.expires_at - r.created_at AS ttl, e.user_id"
            " FROM password_resets r JOIN account_emails e ON e.user_id = r.user_id WHERE r.user_id = $1",
            UUID(owner.user_id),
        )
    assert row["token_hash"] != token.encode() and len(row["token_hash"]) == 32  # only its sha256
    assert row["ttl"].total_seconds() == get_settings().password_reset_ttl_minutes * 60
    assert str(row["user_id"]) == owner.user_id  # account mail: the user's, no company's

    weak = await _confirm(client, token, "short")
    assert weak.status_code == 422  # refused; the link is still good
    r = await _confirm(client, token)
    assert r.status_code == 200, r.text
    assert r.json() == {"email": owner.email}

    for session in (owner.token, other_session):  # every session of the user ended
        assert (
            await client.get("/api/v1/me", headers={"Authorization": f"Bearer {session}"})
        ).status_code == 401
    assert (await _login(client, owner.email, PASSWORD)).status_code == 401
    assert (await _login(client, owner.email, NEW_PASSWORD)).status_code == 200

    again = await _confirm(client, token, "Yet-another-pass-9")
    assert again.status_code == 410 and again.json()["status"] == "used"  # one-time
    assert (await _login(client, owner.email, NEW_PASSWORD)).status_code == 200


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, app, mailbox, admin_db):
    owner = await signup(client)
    ghost = f"ghost-{secrets.token_hex(4)}@example.com"
    known = await _request(client, owner.email, **{"accept-language": "en"})
    unknown = await _request(client, ghost, **{"accept-language": "en"})
    assert (
        (known.status_code, known.content)
        == (unknown.status_code, unknown.content)
        == (
            202,
            b'{"detail":"If an account uses this email, a link to choose a new password is on its way."}',
        )
    )
    skip = {"date", "x-request-id", "ratelimit-remaining", "ratelimit-reset"}  # per request anyway
    assert {k: v for k, v in known.headers.items() if k not in skip} == {
        k: v for k, v in unknown.headers.items() if k not in skip
    }
    await run_jobs(app)
    assert len(mails_to(mailbox, owner.email)) == 1 and mails_to(mailbox, ghost) == []
    async with connect(admin_db) as conn:
        assert await conn.fetchval("SELECT count(*) FROM emails WHERE to_addr = $1", ghost) == 0
    r = await _request(client, "not an email")
    assert r.status_code == 422  # a malformed address is refused whoever asks


async def test_expired_unknown_and_replaced_links_are_refused(client, app, mailbox, admin_db):
    owner = await signup(client)
    first = await _mailed_token(client, app, mailbox, owner.email)
    # within the minute a further request mails nothing and the first link stays good
    assert (await _request(client, owner.email)).status_code == 202
    await run_jobs(app)
    assert len(mails_to(mailbox, owner.email)) == 1

    async with connect(admin_db) as conn:  # a minute later, a newer request replaces the link
        await conn.execute(
            "UPDATE password_resets SET created_at = created_at - interval '2 minutes' WHERE user_id = $1",
            UUID(owner.user_id),
        )
    second = await _mailed_token(client, app, mailbox, owner.email)
    assert second != first and len(mails_to(mailbox, owner.email)) == 2
    r = await _confirm(client, first)
    assert r.status_code == 410 and r.json()["type"] == "/problems/gone" and r.json()["status"] == "revoked"

    async with connect(admin_db) as conn:
        await conn.execute(
            "UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE user_id = $1",
            UUID(owner.user_id),
        )
    r = await _confirm(client, second)
    assert r.status_code == 410 and r.json()["status"] == "expired"
    r = await _confirm(client, secrets.token_urlsafe(32))
    assert r.status_code == 404 and r.json()["type"] == "/problems/not-found"
    assert (await _login(client, owner.email, PASSWORD)).status_code == 200  # nothing changed


async def test_a_reset_lifts_the_account_lock(client, app, mailbox):
    owner = await signup(client)
    for _ in range(get_settings().login_account_max_failures):
        async with client_at(app, random_ip()) as c:
            await c.post("/api/v1/auth/login", json={"email": owner.email, "password": "Wrong-password-1"})
    assert (await _login(client, owner.email, PASSWORD)).status_code == 429
    token = await _mailed_token(client, app, mailbox, owner.email)
    assert (await _confirm(client, token)).status_code == 200
    assert (await _login(client, owner.email, NEW_PASSWORD)).status_code == 200


async def test_account_mail_is_visible_only_to_its_user(client, app, mailbox, stack):
    owner = await signup(client)
    await _mailed_token(client, app, mailbox, owner.email)

    async def visible(tenant: str | None, user: str | None) -> int:
        async with connect(stack.app_url) as conn, conn.transaction():
            await conn.execute(
                "SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
                tenant or "",
                user or "",
            )
            return int(await conn.fetchval("SELECT count(*) FROM account_emails"))

    other = await signup(client)
    assert await visible(None, owner.user_id) == 1
    assert await visible(None, other.user_id) == 0
    assert await visible(None, None) == 0
    assert await visible(owner.tenant_id, owner.user_id) == 0  # not from inside a company either


async def test_the_reset_pages(client, app, mailbox):
    owner = await signup(client, locale="zh-CN")
    page = await client.get("/forgot-password", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200 and "忘记密码？" in page.text and 'action="/forgot-password"' in page.text
    assert all(src.startswith("/static/") for src in re.findall(r'<script src="([^"]+)"', page.text))
    assert "<script>" not in page.text  # the app's own built scripts only, nothing inline
    bad = await client.post("/forgot-password", data={"email": "nope"}, headers={"accept-language": "zh-CN"})
    assert bad.status_code == 422 and "请输入有效的邮箱地址" in bad.text
    sent = await client.post(
        "/forgot-password", data={"email": owner.email}, headers={"accept-language": "en"}
    )
    ghost = await client.post(
        "/forgot-password",
        data={"email": f"g-{secrets.token_hex(4)}@example.com"},
        headers={"accept-language": "en"},
    )
    assert sent.status_code == ghost.status_code == 200 and sent.text == ghost.text
    assert "Check your email" in sent.text
    await run_jobs(app)
    (msg,) = mails_to(mailbox, owner.email)
    assert msg["Subject"] == "设置新的 Acre 密码"  # the account's language, not the browser's
    token = last_link(mailbox, LINK, to=owner.email)

    form = await client.get(f"/reset-password/{token}", headers={"accept-language": "en"})
    assert (
        form.status_code == 200
        and "设置新密码" in form.text
        and f'action="/reset-password/{token}"' in form.text
    )
    weak = await client.post(f"/reset-password/{token}", data={"password": "short"})
    assert weak.status_code == 422 and "至少使用 10 个字符" in weak.text and "<form" in weak.text
    done = await client.post(f"/reset-password/{token}", data={"password": NEW_PASSWORD})
    assert done.status_code == 200 and "您的密码已更改" in done.text
    used = await client.get(f"/reset-password/{token}")
    assert (
        used.status_code == 410 and "此链接已无法使用" in used.text and 'href="/forgot-password"' in used.text
    )
    unknown = await client.get("/reset-password/not-a-token", headers={"accept-language": "en"})
    assert unknown.status_code == 404 and "This password reset link is not valid" in unknown.text
    assert (await _login(client, owner.email, NEW_PASSWORD)).status_code == 200
