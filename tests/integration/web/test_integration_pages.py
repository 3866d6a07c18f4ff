"""The integrations pages: an owner adds a webhook endpoint (its secret shown once), sees its
deliveries with their response, disables and enables it; adds a territory's group robot; a rep is
refused (403) and another company's endpoint or robot is the 404 page; any member makes, replaces and
turns off their own calendar address on /settings/calendar."""

from __future__ import annotations

import re

from tests.factories import customer, staff, territory
from tests.helpers import run_jobs, signup
from tests.integration.outbound.receiver import receiving
from tests.integration.web.support import htmx, sign_in


async def test_an_owner_adds_an_endpoint_and_sees_its_deliveries(client, mailbox, app) -> None:
    owner = await signup(client, locale="zh-CN")
    area = await territory(client, owner, "华东")
    csrf = await sign_in(client, owner)
    page = await client.get("/settings/integrations")
    assert page.status_code == 200 and "集成" in page.text and "customer.created" in page.text
    async with receiving() as rx:
        r = await client.post(
            "/settings/integrations/webhooks",
            data={"url": rx.url + "/in", "description": "ERP", "event_types": ["customer.created"]},
            headers=htmx(csrf),
        )
        assert r.status_code == 200, r.text
        secret = re.search(r'id="new-secret">([^<]+)<', r.text)
        assert secret and secret.group(1).startswith("whsec_")
        rx.secret = secret.group(1)
        again = await client.get("/settings/integrations")
        assert rx.url in again.text and secret.group(1) not in again.text  # shown once
        endpoint_id = re.search(r"/settings/integrations/webhooks/([0-9a-f-]{36})\"", again.text)
        assert endpoint_id
        await customer(client, owner, area["id"])
        await run_jobs(app)
        await rx.wait_for(1)
    deliveries = await client.get(f"/settings/integrations/webhooks/{endpoint_id.group(1)}")
    assert deliveries.status_code == 200 and "customer.created" in deliveries.text
    assert "已送达" in deliveries.text and "<td>1</td>" in deliveries.text  # delivered, one attempt
    assert "<td>200" in deliveries.text  # the response status
    r = await client.post(
        f"/settings/integrations/webhooks/{endpoint_id.group(1)}/active", headers=htmx(csrf)
    )
    assert r.status_code == 200 and "启用" in r.text and "已关闭" in r.text
    bad = await client.post(
        "/settings/integrations/webhooks", data={"url": "ftp://x", "event_types": []}, headers=htmx(csrf)
    )
    assert bad.status_code == 422 and "请检查地址" in bad.text

    r = await client.post(
        "/settings/integrations/chat",
        data={
            "territory_id": area["id"],
            "provider": "dingtalk",
            "url": "http://127.0.0.1:9/robot/send?access_token=secret-token",
            "secret": "SECx",
            "kinds": ["reclaim_warning", "market_incident"],
        },
        headers=htmx(csrf),
    )
    assert r.status_code == 200, r.text
    assert "钉钉" in r.text and "华东" in r.text and "secret-token" not in r.text  # the token masked
    client.cookies.clear()


async def test_reps_are_refused_and_other_companies_ids_are_404(client, mailbox, app) -> None:
    owner = await signup(client)
    rep = await staff(client, owner, mailbox, app, role="rep")
    stranger = await signup(client)
    area = await territory(client, stranger, "别家")
    r = await client.post(
        "/api/v1/webhooks/endpoints",
        json={"url": "https://hooks.example.com/x", "event_types": ["deal.won"]},
        headers=stranger.headers,
    )
    theirs = r.json()["endpoint"]["id"]
    r = await client.post(
        "/api/v1/chat-channels",
        json={
            "territory_id": area["id"],
            "provider": "wecom",
            "url": "https://qyapi.example/x",
            "kinds": ["reclaim_warning"],
        },
        headers=stranger.headers,
    )
    their_robot = r.json()["id"]
    csrf = await sign_in(client, rep)
    assert (await client.get("/settings/integrations")).status_code == 403
    r = await client.post(
        "/settings/integrations/webhooks",
        data={"url": "https://x.example", "event_types": ["deal.won"]},
        headers=htmx(csrf),
    )
    assert r.status_code == 403
    csrf = await sign_in(client, owner)
    for path in (f"/settings/integrations/webhooks/{theirs}",):
        r = await client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    for path in (
        f"/settings/integrations/webhooks/{theirs}/active",
        f"/settings/integrations/webhooks/{theirs}/roll-secret",
        f"/settings/integrations/webhooks/{theirs}/delete",
        f"/settings/integrations/chat/{their_robot}/test",
        f"/settings/integrations/chat/{their_robot}/delete",
    ):
        r = await client.post(path, headers=htmx(csrf))
        assert r.status_code == 404, (path, r.status_code)
    client.cookies.clear()


async def test_a_member_makes_and_turns_off_their_calendar_address(client, mailbox, app) -> None:
    owner = await signup(client, locale="zh-CN")
    rep = await staff(client, owner, mailbox, app, role="rep")
    csrf = await sign_in(client, rep)
    assert 'href="/settings/calendar"' in (await client.get("/")).text  # in every page's footer
    page = await client.get("/settings/calendar")
    assert page.status_code == 200 and "我的日历" in page.text and "已关闭" in page.text
    r = await client.post("/settings/calendar", headers=htmx(csrf))
    url = re.search(r'id="feed-url">([^<]+)<', r.text)
    assert r.status_code == 200 and url and url.group(1).endswith(".ics")
    feed = await client.get(url.group(1).removeprefix("http://testserver.local"))
    assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")
    assert url.group(1) not in (await client.get("/settings/calendar")).text  # shown once
    r = await client.post("/settings/calendar/revoke", headers=htmx(csrf))
    assert r.status_code == 200 and "已关闭" in r.text
    assert (await client.get(url.group(1).removeprefix("http://testserver.local"))).status_code == 404
    client.cookies.clear()
