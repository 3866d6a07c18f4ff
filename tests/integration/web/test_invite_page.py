from __future__ import annotations

import re
import secrets

from tests.helpers import PASSWORD, last_link, run_jobs, signup


async def test_invite_page_in_tenant_language_and_accept_by_form(client, app, mailbox):
    owner = await signup(client, locale="zh-CN", company="青禾软件有限公司")
    invitee = f"page-invitee-{secrets.token_hex(4)}@example.com"  # its mail, not another test's
    r = await client.post(
        "/api/v1/invitations",
        json={"email": invitee, "role": "manager"},
        headers=owner.headers,
    )
    assert r.status_code == 201
    await run_jobs(app)
    token = last_link(mailbox, to=invitee)
    page = await client.get(f"/invite/{token}")
    assert page.status_code == 200
    assert "加入 青禾软件有限公司" in page.text and "区域经理" in page.text
    scripts = re.findall(r"<script[^>]*>", page.text)  # no third-party assets, no inline script
    assert scripts and all(re.fullmatch(r'<script src="/static/[\w.]+\.js" defer>', s) for s in scripts)

    bad = await client.post(f"/invite/{token}", data={"name": "李四", "password": "short"})
    assert bad.status_code == 422 and "至少使用 10 个字符" in bad.text

    done = await client.post(f"/invite/{token}", data={"name": "李四", "password": PASSWORD})
    assert done.status_code == 200 and "您已以区域经理身份加入" in done.text
    assert "acre_session" in done.cookies
    client.cookies.clear()
    r = await client.post("/api/v1/auth/login", json={"email": invitee, "password": PASSWORD})
    assert r.json()["session"]["tenant"]["role"] == "manager"
    client.cookies.clear()

    used = await client.get(f"/invite/{token}")
    assert "该邀请已无法使用" in used.text


async def test_invite_page_with_a_bad_token_is_a_clear_404_page(client):
    r = await client.get("/invite/not-a-token", headers={"Accept-Language": "en"})
    assert r.status_code == 404
    assert "This invitation link is not valid" in r.text
