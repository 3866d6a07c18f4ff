"""Helpers for the sales growth tests (cadences, tasks, funnel, referrals, return visits): the deals
world (owner, province manager, city rep, another province's manager), follow-ups, a signed deal
(which makes the customer won and runs the WON_HOOKS) and the cadence job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.helpers import Member
from tests.integration.deals.support import World, deal, world

__all__ = ["World", "cadence_job", "followup", "iso", "signed", "world"]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def followup(
    client: Any,
    who: Member,
    customer_id: str,
    kind: str = "call",
    result: str | None = None,
    happened_at: datetime | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, "summary": "电话沟通"}
    if result:
        body["result"] = result
    body["happened_at"] = iso(happened_at or datetime.now(UTC) - timedelta(minutes=5))
    r = await client.post(f"/api/v1/customers/{customer_id}/followups", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def signed(client: Any, who: Member, customer_id: str, amount: str = "50000.00") -> dict[str, Any]:
    """A deal created at the signed stage: the customer becomes won in the same transaction."""
    return await deal(client, who, customer_id, stage="signed", amount=amount)


async def cadence_job() -> int:
    from app.sales.growth.jobs import cadence_tasks

    return await cadence_tasks({})
