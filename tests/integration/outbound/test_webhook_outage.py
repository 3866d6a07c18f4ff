"""Nothing lost across a Redis outage, for real: an ``acre serve`` and an ``acre worker`` on a Redis of
this test's own; Redis stops in the middle of a burst of changes that emit webhook events, and every
event reaches the receiver (signed, once per event id) after Redis is back."""

from __future__ import annotations

import asyncio

import httpx

from tests.factories import territory
from tests.helpers import signup
from tests.integration.outbound.receiver import receiving
from tests.integration.test_outages import Services, eventually


async def test_webhook_events_written_while_redis_is_down_are_delivered_after(services: Services) -> None:
    base = await services.api()
    services.start("worker", "worker")
    async with receiving() as rx, httpx.AsyncClient(base_url=base, timeout=10) as http:
        owner = await signup(http)
        area = await territory(http, owner, "华东")
        r = await http.post(
            "/api/v1/webhooks/endpoints",
            json={"url": rx.url, "event_types": ["customer.created"]},
            headers=owner.headers,
        )
        assert r.status_code == 201, r.text
        rx.secret = r.json()["secret"]
        made = []
        for i in range(12):  # a burst of new customers; Redis goes away a third of the way through
            if i == 4:
                services.redis.stop()
            body = {"full_name": f"停机测试{i}号科技有限公司", "territory_id": area["id"], "grade": "B"}
            r = await http.post("/api/v1/customers", json=body, headers=owner.headers)
            assert r.status_code == 201, r.text  # the API keeps working: the events wait in the outbox
            made.append(r.json()["id"])
        await asyncio.sleep(2)
        assert len(rx.accepted) <= 4  # nothing after the outage began could have been queued
        services.redis.start()

        async def all_in() -> bool:
            return {r.json()["data"]["customer_id"] for r in rx.accepted} >= set(made)

        await eventually(all_in, 90, "every event delivered after Redis is back", services.log_text)
    assert rx.rejected == 0
    ids = [r.json()["id"] for r in rx.accepted]
    assert len(set(ids)) == len(made)  # each event delivered (at least once; by id, once)
    assert {r.json()["type"] for r in rx.accepted} == {"customer.created"}
