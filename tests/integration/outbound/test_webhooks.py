"""Outgoing webhooks end to end, against a real receiver on loopback: events written in the change's
transaction reach the subscribed endpoints signed (checked on the receiving side; a replay is refused
by its timestamp), a 500 is retried, deliveries show their response, an endpoint failing for a day is
disabled with a notice to the owner (in-app and mail) and sends what waited once enabled again;
owner/admin only (a rep is 403), another company's endpoint is 404, and URLs are checked."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from app.outbound import signature
from app.outbound.delivery import DISABLE_AFTER_FAILURES, body_of, retry_delay
from tests.factories import customer, db_value, staff, territory
from tests.helpers import Member, mails_to, run_jobs, signup
from tests.integration.outbound.receiver import receiving


async def endpoint(client: Any, who: Member, url: str, types: list[str], **extra: Any) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/webhooks/endpoints", json={"url": url, "event_types": types, **extra}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["secret"].startswith("whsec_") and body["endpoint"]["active"] is True
    return body  # type: ignore[no-any-return]


async def deliveries(client: Any, who: Member, endpoint_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def test_events_reach_the_subscribed_endpoint_signed(client, app) -> None:
    owner = await signup(client)
    area = await territory(client, owner, "华东")
    async with receiving() as rx, receiving() as other:
        made = await endpoint(client, owner, rx.url + "/hooks", ["customer.created", "customer.released"])
        rx.secret = made["secret"]
        quiet = await endpoint(client, owner, other.url, ["deal.won"])  # subscribes to nothing that happens
        other.secret = quiet["secret"]
        company = await customer(client, owner, area["id"])
        r = await client.post(
            f"/api/v1/customers/{company['id']}/release",
            json={"reason": "other", "note": "不再跟进"},
            headers=owner.headers,
        )
        assert r.status_code == 200, r.text
        await run_jobs(app)
        await rx.wait_for(2)
    assert other.received == []
    assert rx.rejected == 0 and all(r.verified for r in rx.received)
    events = sorted((r.json() for r in rx.received), key=lambda e: str(e["created_at"]))  # in any order
    assert [e["type"] for e in events] == ["customer.created", "customer.released"]
    created, released = events
    assert created["data"]["customer_id"] == company["id"] and created["tenant"] == owner.tenant_id
    assert created["data"]["to_owner"] == owner.membership_id
    assert released["data"]["from_owner"] == owner.membership_id and released["data"]["to_owner"] is None
    by_type = {r.headers["acre-event-type"]: r for r in rx.received}
    assert by_type["customer.created"].headers["acre-event-id"] == created["id"]
    assert {r.path for r in rx.received} == {"/hooks"}

    items = await deliveries(client, owner, made["endpoint"]["id"])
    assert [(d["event_type"], d["status"], d["attempts"], d["response_status"]) for d in items] == [
        ("customer.released", "delivered", 1, 200),
        ("customer.created", "delivered", 1, 200),
    ]
    assert json.loads(items[0]["response_body"])["status"] == 200 and items[0]["duration_ms"] >= 0

    # a replay: the captured request sent again later is refused by its timestamp, as is a forgery
    first = rx.received[0]
    header = first.headers["acre-signature"]
    stamp = signature.verify(made["secret"], header, first.body)
    with pytest.raises(signature.SignatureError, match="tolerance"):
        signature.verify(made["secret"], header, first.body, now=stamp + signature.TOLERANCE_SECONDS + 1)
    with pytest.raises(signature.SignatureError, match="does not match"):
        signature.verify(made["secret"], header, first.body.replace(b"customer", b"Customer"))
    with pytest.raises(signature.SignatureError, match="does not match"):
        signature.verify(quiet["secret"], header, first.body)
    async with receiving() as replayed:
        replayed.secret = made["secret"]
        old = signature.header(made["secret"], first.body, int(time.time()) - 301)
        async with httpx.AsyncClient() as http:
            r = await http.post(replayed.url, content=first.body, headers={signature.HEADER: old})
        assert r.status_code == 400 and replayed.rejected == 1


async def test_a_500_is_retried_until_delivered(client, app) -> None:
    owner = await signup(client)
    area = await territory(client, owner, "华南")
    async with receiving(answers=[500, 503]) as rx:
        made = await endpoint(client, owner, rx.url, ["customer.created"])
        rx.secret = made["secret"]
        await customer(client, owner, area["id"])
        await run_jobs(app)
        await rx.wait_for(1)
    assert [r.headers["x-answer"] for r in rx.received] == ["500", "503", "200"]
    assert len({r.body for r in rx.received}) == 1  # the same event each time, signed anew
    (item,) = await deliveries(client, owner, made["endpoint"]["id"])
    assert (item["status"], item["attempts"], item["response_status"]) == ("delivered", 3, 200)
    r = await client.get(f"/api/v1/webhooks/endpoints/{made['endpoint']['id']}", headers=owner.headers)
    assert r.json()["consecutive_failures"] == 0 and r.json()["failing_since"] is None


def test_the_back_off_doubles_up_to_six_hours(monkeypatch) -> None:
    from tests.helpers import settings_env

    with settings_env(webhook_retry_base_seconds="30"):
        assert [retry_delay(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
        assert retry_delay(15) == 6 * 3600


async def test_an_endpoint_failing_for_a_day_is_disabled_and_the_owner_told(
    client, app, admin_db, mailbox
) -> None:
    owner = await signup(client)
    area = await territory(client, owner, "华北")
    async with receiving(answers=[500]) as rx:
        made = await endpoint(client, owner, rx.url, ["customer.created"])
        rx.secret = made["secret"]
        eid = made["endpoint"]["id"]
        # it has failed for 25 hours already, one short of the count
        await db_value(
            admin_db,
            "UPDATE webhook_endpoints SET consecutive_failures = $2,"
            " failing_since = now() - interval '25 hours' WHERE id = $1::uuid RETURNING 1",
            eid,
            DISABLE_AFTER_FAILURES - 1,
        )
        await customer(client, owner, area["id"])
        await run_jobs(app)
        assert [r.headers["x-answer"] for r in rx.received] == ["500"]  # then nothing more: disabled
        r = await client.get(f"/api/v1/webhooks/endpoints/{eid}", headers=owner.headers)
        assert r.json()["active"] is False and r.json()["disabled_at"] is not None
        (item,) = await deliveries(client, owner, eid)
        assert (item["status"], item["attempts"], item["response_status"]) == ("pending", 1, 500)
        notes = (await client.get("/api/v1/notifications", headers=owner.headers)).json()["items"]
        assert [n["kind"] for n in notes] == ["webhook_disabled"]
        assert rx.url in notes[0]["message"] and str(DISABLE_AFTER_FAILURES) in notes[0]["message"]
        await run_jobs(app)  # the mail
        (mail,) = mails_to(mailbox, owner.email)
        assert "disabled" in mail["Subject"] and rx.url in mail["Subject"]

        # enabled again: what waited goes out
        path = f"/api/v1/webhooks/endpoints/{eid}"
        r = await client.patch(path, json={"active": True}, headers=owner.headers)
        assert r.status_code == 200 and r.json()["consecutive_failures"] == 0, r.text
        await run_jobs(app)
        await rx.wait_for(1)
    (item,) = await deliveries(client, owner, eid)
    assert (item["status"], item["attempts"]) == ("delivered", 2)


async def test_only_owner_and_admin_manage_endpoints_and_only_their_own(client, app, mailbox) -> None:
    owner = await signup(client)
    rep = await staff(client, owner, mailbox, app, role="rep")
    admin = await staff(client, owner, mailbox, app, role="admin")
    stranger = await signup(client)
    made = await endpoint(client, owner, "http://127.0.0.1:9/x", ["deal.won", "deal.lost", "deal.won"])
    assert made["endpoint"]["event_types"] == ["deal.lost", "deal.won"]
    eid = made["endpoint"]["id"]
    base = f"/api/v1/webhooks/endpoints/{eid}"
    assert (await client.get("/api/v1/webhooks/endpoints", headers=rep.headers)).status_code == 403
    r = await client.post(
        "/api/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9", "event_types": ["deal.won"]},
        headers=rep.headers,
    )
    assert r.status_code == 403
    assert (await client.get(base, headers=rep.headers)).status_code == 403
    assert (await client.get(base, headers=admin.headers)).status_code == 200
    for method, path, body in (
        ("GET", base, None),
        ("PATCH", base, {"description": "x"}),
        ("POST", base + "/roll-secret", None),
        ("GET", base + "/deliveries", None),
        ("DELETE", base, None),
    ):
        r = await client.request(method, path, json=body, headers=stranger.headers)
        assert r.status_code == 404, (method, path, r.text)
    assert (await client.get("/api/v1/webhooks/endpoints", headers=stranger.headers)).json() == []

    rolled = (await client.post(base + "/roll-secret", headers=admin.headers)).json()
    assert rolled["secret"] != made["secret"] and rolled["secret"].startswith("whsec_")
    listed = (await client.get("/api/v1/webhooks/endpoints", headers=owner.headers)).json()
    assert [e["id"] for e in listed] == [eid] and "secret" not in listed[0]
    assert (await client.delete(base, headers=admin.headers)).status_code == 204
    assert (await client.get(base, headers=owner.headers)).status_code == 404


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("ftp://example.com/hook", 422),
        ("javascript:alert(1)", 422),
        ("http://10.1.2.3/hook", 422),
        ("http://192.168.1.10/hook", 422),
        ("http://169.254.169.254/latest/meta-data", 422),
        ("http://[::ffff:10.0.0.1]/hook", 422),
        ("http://127.0.0.1:8080/hook", 201),  # loopback: allowed outside production (the tests' setting)
        ("https://hooks.example.com/acre", 201),
    ],
)
async def test_endpoint_urls_are_checked(client, url: str, status: int) -> None:
    owner = await signup(client)
    r = await client.post(
        "/api/v1/webhooks/endpoints", json={"url": url, "event_types": ["deal.won"]}, headers=owner.headers
    )
    assert r.status_code == status, r.text
    r = await client.post(
        "/api/v1/webhooks/endpoints",
        json={"url": "https://x.example", "event_types": ["no.such"]},
        headers=owner.headers,
    )
    assert r.status_code in (400, 422)


async def test_loopback_is_refused_in_production(monkeypatch) -> None:
    from app.outbound.urls import RefusedAddress, check_resolved, refused
    from tests.helpers import settings_env

    with settings_env(environment="production", webhook_allow_loopback="true"):
        assert refused("127.0.0.1") and refused("::1") and refused("10.0.0.1")
        with pytest.raises(RefusedAddress, match=r"127\.0\.0\.1"):
            await check_resolved("http://localhost:8080/x")
    assert not refused("127.0.0.1") and refused("172.16.0.1") and not refused("8.8.8.8")


def test_the_body_is_the_event() -> None:
    from datetime import UTC, datetime
    from uuid import uuid4

    tenant, event = uuid4(), uuid4()
    at = datetime(2026, 12, 4, tzinfo=UTC)
    row = {"event_id": event, "type": "deal.won", "created_at": at, "data": '{"a":"中"}'}
    body = body_of(tenant, row)
    assert json.loads(body) == {
        "id": str(event),
        "type": "deal.won",
        "created_at": "2026-12-04T00:00:00+00:00",
        "tenant": str(tenant),
        "data": {"a": "中"},
    }
    assert "中".encode() in body  # UTF-8, not escaped


async def test_deal_moves_are_events(client, app) -> None:
    from tests.integration.deals.support import deal

    owner = await signup(client)
    area = await territory(client, owner, "华中")
    company = await customer(client, owner, area["id"])
    async with receiving() as rx:
        made = await endpoint(client, owner, rx.url, ["deal.stage_changed", "deal.lost", "deal.won"])
        rx.secret = made["secret"]
        opportunity = await deal(client, owner, company["id"])
        r = await client.post(
            f"/api/v1/deals/{opportunity['id']}/stage",
            json={"to": "lost", "reason": "预算取消"},
            headers=owner.headers,
        )
        assert r.status_code in (200, 202), r.text
        await run_jobs(app)
        await rx.wait_for(2)
    got = {r.json()["type"]: r.json()["data"] for r in rx.accepted}
    assert set(got) == {"deal.stage_changed", "deal.lost"}  # not won
    assert got["deal.lost"]["deal_id"] == opportunity["id"] and got["deal.lost"]["to_stage"] == "lost"
    assert got["deal.stage_changed"]["from_stage"] == opportunity["stage"]
    assert got["deal.lost"]["reason"] == "预算取消" and got["deal.lost"]["customer_id"] == company["id"]
