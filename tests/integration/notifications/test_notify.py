"""``notify`` is the one writer of notifications: a dedupe key notifies once (across calls and within
one), the answer names the keys written now, the params are stored as JSON and the message is
rendered in the reader's language."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from app import db
from app.notifications.service import Notice, notify
from tests.helpers import signup


async def test_a_key_notifies_once(client):
    m = await signup(client, locale="en")
    tenant, me = UUID(m.tenant_id), UUID(m.membership_id)
    day = date(2026, 12, 7)
    approved = Notice(me, "visit_plan_approved", "plan:1", "visit_plan", None, {"date": day})
    returned = Notice(me, "visit_plan_returned", "plan:2", params={"date": day, "comment": "太满"})
    async with db.transaction(tenant) as tx:
        assert await notify(tx, [approved, returned, approved]) == {"plan:1", "plan:2"}
        assert await notify(tx, [returned]) == set()  # already written in this transaction
        assert await notify(tx, []) == set()
    async with db.transaction(tenant) as tx:
        assert await notify(tx, [approved, returned]) == set()  # a second run of the producer
        with pytest.raises(ValueError, match="unknown notification kinds"):
            await notify(tx, [Notice(me, "no_such_kind", "x:1")])

    items = (await client.get("/api/v1/notifications", headers=m.headers)).json()["items"]
    assert sorted(i["kind"] for i in items) == ["visit_plan_approved", "visit_plan_returned"]
    by_kind = {i["kind"]: i for i in items}
    assert by_kind["visit_plan_approved"]["params"] == {"date": "2026-12-07"}  # non-JSON values as str
    assert by_kind["visit_plan_approved"]["message"] == "Your visit plan for 2026-12-07 was approved"
    assert by_kind["visit_plan_approved"]["subject_type"] == "visit_plan"
    assert by_kind["visit_plan_returned"]["subject_type"] is None
    assert "太满" in by_kind["visit_plan_returned"]["message"]


async def test_keys_are_per_tenant(client):
    a, b = await signup(client), await signup(client)
    for m in (a, b):
        async with db.transaction(UUID(m.tenant_id)) as tx:
            notice = Notice(
                UUID(m.membership_id), "market_incident", "same-key", params={"member": "x", "title": "y"}
            )
            assert await notify(tx, [notice]) == {"same-key"}
    for m in (a, b):
        items = (await client.get("/api/v1/notifications", headers=m.headers)).json()["items"]
        assert [i["kind"] for i in items] == ["market_incident"]
