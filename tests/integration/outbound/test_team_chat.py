"""Team-chat robots against real receivers on loopback, one per vendor format: a notification of a
chosen kind reaches the robots of the recipient's territory in WeCom's, DingTalk's and Feishu's
documented message formats, DingTalk's and Feishu's signatures are checked on the receiving side
(and a stale one refused, as the vendors do), a kind not chosen stays out, a refused post is
retried; a rep cannot set robots up (403), another company's robot is 404."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from uuid import UUID

from app import db
from app.notifications.service import Notice, notify
from app.outbound.chat import request_for
from tests.factories import assign, staff, territory
from tests.helpers import Member, run_jobs, signup
from tests.integration.outbound.receiver import Received, receiving

DING_SECRET = "SEC0123456789abcdef"
FEISHU_SECRET = "feishu-secret-key"
ONE_HOUR = 3600  # both vendors refuse a timestamp more than an hour off


def dingtalk_ok(request: Received, secret: str, now: float | None = None) -> bool:
    """DingTalk's check: sign = base64(HMAC-SHA256(secret, "<timestamp ms>\\n<secret>")), fresh."""
    ts = int(request.query["timestamp"])
    mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    fresh = abs((time.time() if now is None else now) * 1000 - ts) <= ONE_HOUR * 1000
    return fresh and hmac.compare_digest(base64.b64encode(mac).decode(), request.query["sign"])


def feishu_ok(body: dict[str, Any], secret: str, now: float | None = None) -> bool:
    """Feishu's check: sign = base64(HMAC-SHA256(key="<timestamp s>\\n<secret>", msg="")), fresh."""
    ts = int(body["timestamp"])
    mac = hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
    fresh = abs((time.time() if now is None else now) - ts) <= ONE_HOUR
    return fresh and hmac.compare_digest(base64.b64encode(mac).decode(), body["sign"])


async def robot(client: Any, who: Member, **body: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/chat-channels", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def tell(who: Member, kind: str, key: str, **params: Any) -> None:
    async with db.transaction(UUID(who.tenant_id)) as tx:
        await notify(tx, [Notice(UUID(who.membership_id), kind, key, params=params)])


async def test_notifications_reach_the_territorys_robots_in_each_vendors_format(client, app, mailbox) -> None:
    owner = await signup(client)
    rep = await staff(client, owner, mailbox, app, role="rep")
    area, elsewhere = await territory(client, owner, "华东"), await territory(client, owner, "西北")
    await assign(client, owner, area["id"], rep, "rep")
    kinds = ["handover_received", "reclaim_warning"]
    async with receiving() as wecom, receiving() as ding, receiving() as feishu, receiving() as other:
        made = [
            await robot(
                client,
                owner,
                territory_id=area["id"],
                provider="wecom",
                url=wecom.url + "/cgi-bin/webhook/send?key=abc123",
                kinds=kinds,
            ),
            await robot(
                client,
                owner,
                territory_id=area["id"],
                provider="dingtalk",
                url=ding.url + "/robot/send?access_token=t0k3n",
                secret=DING_SECRET,
                kinds=kinds,
            ),
            await robot(
                client,
                owner,
                territory_id=area["id"],
                provider="feishu",
                url=feishu.url + "/open-apis/bot/v2/hook/h00k",
                secret=FEISHU_SECRET,
                kinds=["reclaim_warning"],
            ),
            await robot(
                client, owner, territory_id=elsewhere["id"], provider="wecom", url=other.url, kinds=kinds
            ),
        ]
        assert [m["signed"] for m in made] == [False, True, True, False]
        assert "abc123" not in made[0]["url"] and made[0]["url"].endswith("c123")  # the token is masked
        await tell(rep, "handover_received", "h:1", count=3, reason="调岗")
        await tell(rep, "reclaim_warning", "r:1", customer="华东启航", date="2026-12-10")
        await tell(rep, "market_incident", "m:1", member="x", title="y")  # no robot posts this kind
        await run_jobs(app)
        await wecom.wait_for(2)
        await ding.wait_for(2)
        await feishu.wait_for(1)
    assert other.received == []  # the rep is not in that territory

    texts = sorted(r.json()["text"]["content"] for r in wecom.received)
    assert [r.json()["msgtype"] for r in wecom.received] == ["text", "text"]
    assert all(t.startswith("[Acre] @新成员 ") for t in texts)
    assert any("3 customers were handed over to you: 调岗" in t for t in texts)
    assert any("华东启航 returns to the pool on 2026-12-10" in t for t in texts)
    assert {r.query["key"] for r in wecom.received} == {"abc123"} and wecom.received[
        0
    ].path == "/cgi-bin/webhook/send"

    for request in ding.received:
        assert request.json()["msgtype"] == "text" and request.query["access_token"] == "t0k3n"
        assert dingtalk_ok(request, DING_SECRET)
        assert not dingtalk_ok(request, "SECwrong")
        assert not dingtalk_ok(request, DING_SECRET, now=time.time() + ONE_HOUR + 60)  # a replay later

    (post,) = feishu.received
    body = post.json()
    assert body["msg_type"] == "text" and "returns to the pool" in body["content"]["text"]
    assert feishu_ok(body, FEISHU_SECRET) and not feishu_ok(body, "wrong")
    assert not feishu_ok(body, FEISHU_SECRET, now=time.time() + ONE_HOUR + 60)

    listed = (
        await client.get("/api/v1/chat-channels", params={"territory_id": area["id"]}, headers=owner.headers)
    ).json()
    assert sorted(c["provider"] for c in listed) == ["dingtalk", "feishu", "wecom"]
    assert {c["last_status"] for c in listed} == {200} and {c["last_error"] for c in listed} == {None}


async def test_a_refused_post_is_retried(client, app, mailbox) -> None:
    owner = await signup(client)
    area = await territory(client, owner, "华南")
    await assign(client, owner, area["id"], owner, "manager")
    async with receiving(answers=[500]) as wecom:
        await robot(
            client, owner, territory_id=area["id"], provider="wecom", url=wecom.url, kinds=["market_incident"]
        )
        await tell(owner, "market_incident", "m:2", member="王", title="竞品降价")
        await run_jobs(app)
        await wecom.wait_for(1)
    assert [r.headers["x-answer"] for r in wecom.received] == ["500", "200"]


def test_the_vendor_formats() -> None:
    url, body = request_for(
        "dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=x", "SECabc", "hi", now=1700000000.5
    )
    assert url.startswith("https://oapi.dingtalk.com/robot/send?access_token=x&timestamp=1700000000500&sign=")
    mac = hmac.new(b"SECabc", b"1700000000500\nSECabc", hashlib.sha256).digest()
    from urllib.parse import quote_plus

    assert url.endswith("&sign=" + quote_plus(base64.b64encode(mac).decode()))
    assert body == b'{"msgtype": "text", "text": {"content": "hi"}}'
    _, body = request_for(
        "feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/x", "s", "你好", now=1700000000
    )
    expected = base64.b64encode(hmac.new(b"1700000000\ns", b"", hashlib.sha256).digest()).decode()
    assert json.loads(body) == {
        "timestamp": "1700000000",
        "sign": expected,
        "msg_type": "text",
        "content": {"text": "你好"},
    }
    url, body = request_for("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", None, "x")
    assert url.endswith("key=k") and body == b'{"msgtype": "text", "text": {"content": "x"}}'


async def test_robots_are_for_managers_and_their_own_company(client, app, mailbox) -> None:
    owner = await signup(client)
    rep = await staff(client, owner, mailbox, app, role="rep")
    stranger = await signup(client)
    area = await territory(client, owner, "华北")
    made = await robot(
        client,
        owner,
        territory_id=area["id"],
        provider="wecom",
        url="http://127.0.0.1:9/x",
        kinds=["reclaim_warning"],
    )
    base = f"/api/v1/chat-channels/{made['id']}"
    body = {
        "territory_id": area["id"],
        "provider": "wecom",
        "url": "http://127.0.0.1:9/y",
        "kinds": ["reclaim_warning"],
    }
    assert (await client.post("/api/v1/chat-channels", json=body, headers=rep.headers)).status_code == 403
    assert (await client.get(base, headers=rep.headers)).status_code == 403
    assert (await client.get("/api/v1/chat-channels", headers=rep.headers)).status_code == 403
    for method, path, payload in (
        ("GET", base, None),
        ("PATCH", base, {"name": "x"}),
        ("POST", base + "/test", None),
        ("DELETE", base, None),
    ):
        r = await client.request(method, path, json=payload, headers=stranger.headers)
        assert r.status_code == 404, (method, path, r.text)
    theirs = await territory(client, stranger, "别家")
    body = {
        "territory_id": area["id"],
        "provider": "feishu",
        "url": "https://open.feishu.cn/x",
        "kinds": ["reclaim_warning"],
    }
    assert (
        await client.post("/api/v1/chat-channels", json=body, headers=stranger.headers)
    ).status_code == 404
    body["territory_id"] = theirs["id"]
    body["url"] = "http://10.0.0.8/hook"
    assert (
        await client.post("/api/v1/chat-channels", json=body, headers=stranger.headers)
    ).status_code == 422
    r = await client.patch(base, json={"secret": "SECnew", "active": False}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["signed"] is True and r.json()["active"] is False
    r = await client.post(base + "/test", headers=owner.headers)  # nothing listens on port 9
    assert r.status_code == 200 and r.json()["last_status"] is None and r.json()["last_error"]
    assert (await client.delete(base, headers=owner.headers)).status_code == 204
