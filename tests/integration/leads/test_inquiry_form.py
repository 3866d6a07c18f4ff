"""The public inquiry form over HTTP: owners define it, anyone sends it; a submission becomes a lead by
the API's own intake; spam is refused without a captcha (honeypot, the signed token's minimum fill
time and maximum age, per-address and per-form limits); the embed is framable, the hosted page not."""

from __future__ import annotations

import re
import time

import httpx

from app.leads import forms
from tests.factories import assign, db_rows, db_value, staff, territory
from tests.helpers import client_at, limited_app, random_ip, signup

FIELDS = [
    {"name": "contact_name", "required": True},
    {"name": "phone", "required": True},
    {"name": "email"},
    {"name": "message"},
]


async def _form(client, mailbox, app, **extra):
    owner = await signup(client)
    manager = await staff(client, owner, mailbox, app, role="manager")
    east = await territory(client, owner, "华东区")
    await assign(client, owner, east["id"], manager, "manager")
    body = {"slug": "contact", "name": "联系我们", "fields": FIELDS, "territory_id": east["id"], **extra}
    r = await client.post("/api/v1/lead-forms", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return owner, manager, east, r.json()


def _token(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _aged(form_id: str, seconds: float = 10) -> str:
    return forms.form_token(__import__("uuid").UUID(form_id), now=time.time() - seconds)


async def test_a_sent_form_becomes_a_lead_in_the_forms_territory(client, mailbox, app, admin_db):
    owner, manager, east, form = await _form(client, mailbox, app, thank_you="谢谢，我们会尽快联系您")
    assert form["url"].endswith(f"/f/{owner.tenant_slug}/contact")
    page = await client.get(f"/f/{owner.tenant_slug}/contact", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200 and "联系我们" in page.text and "您的姓名" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    values = {
        "token": _aged(form["id"]),
        "full_name": "宁波海曙精工有限公司",
        "contact_name": "陈先生",
        "phone": "0574-8888 1234",
        "message": "想了解财务软件",
        "website": "",
    }
    async with client_at(app, random_ip()) as c:
        r = await c.post(f"/f/{owner.tenant_slug}/contact", data=values)
        assert r.status_code == 200 and "谢谢，我们会尽快联系您" in r.text, r.text
        again = await c.post(f"/f/{owner.tenant_slug}/contact", data=values)  # the same form sent twice
        assert again.status_code == 200
    rows = await db_rows(admin_db, "SELECT * FROM customers WHERE tenant = $1", owner.tenant_id)
    assert [
        (x["full_name"], x["source"], x["owner_membership_id"], str(x["territory_id"])) for x in rows
    ] == [("宁波海曙精工有限公司", "web", None, east["id"])]
    logged = await db_rows(
        admin_db, "SELECT channel, form_id, message FROM leads WHERE tenant = $1", owner.tenant_id
    )
    assert [(x["channel"], str(x["form_id"]), x["message"]) for x in logged] == [
        ("form", form["id"], "想了解财务软件")
    ]
    told = (await client.get("/api/v1/notifications", headers=manager.headers)).json()["items"]
    assert told[0]["kind"] == "lead_received"


async def test_required_fields_and_a_plain_html_post_without_token(client, mailbox, app, admin_db):
    owner, _, _, form = await _form(client, mailbox, app)
    async with client_at(app, random_ip()) as c:
        r = await c.post(
            f"/f/{owner.tenant_slug}/contact?lang=en",
            data={"token": _aged(form["id"]), "full_name": "Acme Ltd", "contact_name": ""},
        )
        assert r.status_code == 422 and 'aria-invalid="true"' in r.text and "Required" in r.text
        # a form on the company's own site has no token: the same form comes back filled in, to send
        r = await c.post(
            f"/f/{owner.tenant_slug}/contact?lang=en", data={"full_name": "Acme Ltd", "phone": "1"}
        )
        assert r.status_code == 200 and 'value="Acme Ltd"' in r.text and _token(r.text)
    assert await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", owner.tenant_id) == 0


async def test_spam_honeypot_too_fast_expired_forged(client, mailbox, app, admin_db):
    owner, _, _, form = await _form(client, mailbox, app)
    url = f"/f/{owner.tenant_slug}/contact?lang=en"
    good = {"full_name": "Spam Co", "contact_name": "x", "phone": "1"}
    async with client_at(app, random_ip()) as c:
        r = await c.post(url, data={**good, "token": _aged(form["id"]), "website": "http://spam.example"})
        assert r.status_code == 200 and "Thank you" in r.text  # a bot is told nothing
        assert _token((await c.get(url)).text)  # the page hands out a fresh token each time
        # sent the moment it was served (a token minted a minute ahead, so a slow machine cannot age
        # it past the minimum fill time): faster than a person
        fresh = _aged(form["id"], -60)
        r = await c.post(url, data={**good, "token": fresh})
        assert r.status_code == 422 and "That was quick" in r.text
        r = await c.post(url, data={**good, "token": _aged(form["id"], 3 * 86400)})
        assert r.status_code == 422 and "expired" in r.text
        forged = _aged(form["id"])[:-4] + "0000"
        r = await c.post(url, data={**good, "token": forged})
        assert r.status_code == 422
        other_form = _aged("00000000-0000-0000-0000-000000000000")
        assert (await c.post(url, data={**good, "token": other_form})).status_code == 422
    assert await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", owner.tenant_id) == 0


async def test_too_many_from_one_address_and_to_one_form(client, mailbox, app):
    owner, *_ = await _form(client, mailbox, app)
    url = f"/f/{owner.tenant_slug}/contact?lang=en"
    per_address = limited_app(app, "ACRE_INQUIRY_RATE_LIMIT_PER_MINUTE", 2)
    ip = random_ip()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=per_address, client=(ip, 1)), base_url="http://t"
    ) as c:
        codes = [(await c.post(url, data={"full_name": f"A{i}"})).status_code for i in range(3)]
        assert codes == [200, 200, 429]
        busy = await c.post(url, data={"full_name": "A"})
        assert busy.status_code == 429 and "try again" in busy.text and int(busy.headers["Retry-After"]) >= 1
    body = {"slug": "second", "name": "另一个表单"}
    assert (await client.post("/api/v1/lead-forms", json=body, headers=owner.headers)).status_code == 201
    url = f"/f/{owner.tenant_slug}/second?lang=en"  # a form of its own: its count starts at zero
    per_form = limited_app(app, "ACRE_INQUIRY_FORM_RATE_LIMIT_PER_MINUTE", 2)
    codes = []
    for _ in range(3):  # each from another address
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=per_form, client=(random_ip(), 1)), base_url="http://t"
        ) as c:
            codes.append((await c.post(url, data={"full_name": "B"})).status_code)
    assert codes == [200, 200, 429]


async def test_the_embed_is_framable_and_an_unknown_or_offline_form_is_404(client, mailbox, app):
    owner, _, _, form = await _form(client, mailbox, app)
    r = await client.get(f"/f/{owner.tenant_slug}/contact/embed")
    assert r.status_code == 200 and "frame-ancestors *" in r.headers["content-security-policy"]
    assert "x-frame-options" not in r.headers and "<header" not in r.text
    assert (await client.get(f"/f/{owner.tenant_slug}/nope")).status_code == 404
    assert (await client.get("/f/no-such-company/contact")).status_code == 404
    body = {"slug": "contact", "name": "联系我们", "fields": FIELDS, "active": False}
    r = await client.put(f"/api/v1/lead-forms/{form['id']}", json=body, headers=owner.headers)
    assert r.status_code == 200
    assert (await client.get(f"/f/{owner.tenant_slug}/contact")).status_code == 404


async def test_forms_are_managed_by_owners_and_admins_of_their_own_company(client, mailbox, app):
    owner, manager, _, form = await _form(client, mailbox, app)
    other = await signup(client)
    assert (await client.get("/api/v1/lead-forms", headers=manager.headers)).status_code == 403
    assert (await client.get(f"/api/v1/lead-forms/{form['id']}", headers=other.headers)).status_code == 404
    body = {"slug": "contact", "name": "x"}
    assert (
        await client.put(f"/api/v1/lead-forms/{form['id']}", json=body, headers=other.headers)
    ).status_code == 404
    r = await client.post("/api/v1/lead-forms", json=body, headers=owner.headers)
    assert r.status_code == 409
    r = await client.post("/api/v1/lead-forms", json={"slug": "Bad Slug", "name": "x"}, headers=owner.headers)
    assert r.status_code == 422
