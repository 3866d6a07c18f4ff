"""The settings pages for inbound leads: API keys (made, the secret shown once, listed with their last
use, revoked) and inquiry forms (defined, listed with their address and iframe, taken offline), for
owners and admins only."""

from __future__ import annotations

import re

from tests.factories import staff
from tests.helpers import signup
from tests.integration.web.support import htmx, sign_in


async def test_an_owner_makes_a_key_sees_it_once_and_revokes_it(client, mailbox, app):
    owner = await signup(client, locale="zh-CN")
    csrf = await sign_in(client, owner)
    page = await client.get("/settings/api-keys")
    assert page.status_code == 200 and "API 密钥" in page.text
    r = await client.post(
        "/settings/api-keys",
        data={"name": "官网", "scopes": ["leads:write", "customers:read"]},
        headers=htmx(csrf),
    )
    assert r.status_code == 200, r.text
    secret = re.search(r'id="new-secret">([^<]+)<', r.text)
    assert secret and secret.group(1).startswith("acre_")
    again = await client.get("/settings/api-keys")
    assert secret.group(1) not in again.text and "官网" in again.text  # listed, the secret never again
    used = await client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret.group(1)}"})
    assert used.status_code == 200
    key_id = re.search(r"/settings/api-keys/([0-9a-f-]{36})/revoke", again.text)
    assert key_id
    r = await client.post(f"/settings/api-keys/{key_id.group(1)}/revoke", headers=htmx(csrf))
    assert r.status_code == 200 and "已撤销" in r.text
    gone = await client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret.group(1)}"})
    assert gone.status_code == 401
    r = await client.post("/settings/api-keys", data={"name": "x"}, headers=htmx(csrf))
    assert r.status_code == 422 and "请至少选择一项权限" in r.text
    client.cookies.clear()


async def test_forms_page_defines_a_form_and_a_manager_is_refused(client, mailbox, app):
    owner = await signup(client)
    manager = await staff(client, owner, mailbox, app, role="manager")
    csrf = await sign_in(client, owner)
    r = await client.post(
        "/settings/forms",
        data={"name": "Contact us", "slug": "contact", "fields": ["phone", "email"], "required": ["phone"]},
        headers=htmx(csrf),
    )
    assert r.status_code == 200, r.text
    assert f"/f/{owner.tenant_slug}/contact/embed" in r.text and "&lt;iframe" in r.text
    public = await client.get(f"/f/{owner.tenant_slug}/contact?lang=en")
    assert public.status_code == 200 and 'name="phone"' in public.text and 'name="email"' in public.text
    dup = await client.post("/settings/forms", data={"name": "x", "slug": "contact"}, headers=htmx(csrf))
    assert dup.status_code == 422
    client.cookies.clear()
    await sign_in(client, manager)
    assert (await client.get("/settings/forms")).status_code == 403
    assert (await client.get("/settings/api-keys")).status_code == 403
    client.cookies.clear()


async def test_a_form_is_changed_on_its_settings_page(client, mailbox, app):
    owner = await signup(client)
    csrf = await sign_in(client, owner)
    r = await client.post(
        "/settings/forms",
        data={"name": "Contact us", "slug": "contact", "fields": ["phone"], "required": ["phone"]},
        headers=htmx(csrf),
    )
    assert r.status_code == 200, r.text
    form_id = (await client.get("/api/v1/lead-forms", headers=owner.headers)).json()[0]["id"]
    assert 'value="phone" checked' in r.text
    r = await client.post(
        f"/settings/forms/{form_id}",
        data={"name": "Ask us", "slug": "ask", "fields": ["email", "message"], "thank_you": "Thanks!"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200, r.text
    got = (await client.get(f"/api/v1/lead-forms/{form_id}", headers=owner.headers)).json()
    assert (got["name"], got["slug"], got["thank_you"], got["active"]) == ("Ask us", "ask", "Thanks!", True)
    assert [(f["name"], f["required"]) for f in got["fields"]] == [("email", False), ("message", False)]
    bad = await client.post(
        f"/settings/forms/{form_id}", data={"name": "x", "slug": "No!"}, headers=htmx(csrf)
    )
    assert bad.status_code == 422
    client.cookies.clear()
