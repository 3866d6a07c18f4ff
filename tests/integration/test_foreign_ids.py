"""Every id inside a request body is checked against the caller's tenant: another tenant's customer,
territory, member, contact, product or target answers 404 or a 422 naming the field, and nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.factories import customer, db_value, territory
from tests.helpers import signup
from tests.integration.deals.support import deal, product

DAY = "2030-01-07"
UNTIL = (datetime.now(UTC) + timedelta(days=30)).isoformat()


async def test_another_tenants_ids_in_bodies_are_refused(client: Any, admin_db: str) -> None:
    me, other = await signup(client), await signup(client)
    mine = await territory(client, me, "南京市")
    ours = await customer(client, me, mine["id"])
    our_deal = await deal(client, me, ours["id"])
    there = await territory(client, other, "上海市")
    theirs = await customer(client, other, there["id"])
    their_product = await product(client, other)
    r = await client.post(
        f"/api/v1/customers/{theirs['id']}/contacts", json={"name": "韩梅梅"}, headers=other.headers
    )
    assert r.status_code == 201, r.text
    their_contact = r.json()["id"]
    r = await client.post(
        "/api/v1/targets",
        json={
            "scope_type": "tenant",
            "metric": "amount",
            "period": "year",
            "period_start": "2030-01-01",
            "value": "100000.00",
        },
        headers=other.headers,
    )
    assert r.status_code == 201, r.text
    their_target = r.json()["id"]

    cases: list[tuple[str, str, dict[str, Any], str | None]] = [
        (
            "POST",
            "/api/v1/customers",
            {"full_name": "某某科技有限公司", "territory_id": there["id"]},
            "territory_id",
        ),
        (
            "POST",
            "/api/v1/customers",
            {
                "full_name": "某某科技有限公司",
                "territory_id": mine["id"],
                "referrer_customer_id": theirs["id"],
            },
            "referrer_customer_id",
        ),
        (
            "POST",
            "/api/v1/customers",
            {
                "full_name": "某某科技有限公司",
                "territory_id": mine["id"],
                "owner_membership_id": other.membership_id,
            },
            "owner_membership_id",
        ),
        ("PATCH", f"/api/v1/customers/{ours['id']}", {"territory_id": there["id"]}, "territory_id"),
        (
            "PUT",
            f"/api/v1/customers/{ours['id']}/referral",
            {"referrer_customer_id": theirs["id"]},
            "referrer_customer_id",
        ),
        ("POST", "/api/v1/deals", {"customer_id": theirs["id"], "title": "ERP", "amount": "1.00"}, None),
        (
            "PATCH",
            f"/api/v1/deals/{our_deal['id']}",
            {"owner_membership_id": other.membership_id},
            "owner_membership_id",
        ),
        (
            "PATCH",
            f"/api/v1/deals/{our_deal['id']}",
            {"decision_people": [{"contact_id": their_contact, "role": "decision_maker"}]},
            "decision_people[0].contact_id",
        ),
        (
            "POST",
            f"/api/v1/deals/{our_deal['id']}/quotes",
            {"lines": [{"product_id": their_product["id"], "quantity": "1"}], "valid_until": "2030-02-01"},
            "lines[0].product_id",
        ),
        ("POST", "/api/v1/tasks", {"customer_id": theirs["id"], "due_on": DAY, "kind": "call"}, None),
        (
            "POST",
            "/api/v1/tasks",
            {
                "customer_id": ours["id"],
                "due_on": DAY,
                "kind": "call",
                "assignee_membership_id": other.membership_id,
            },
            "assignee_membership_id",
        ),
        (
            "POST",
            "/api/v1/market-incidents",
            {"title": "降价", "description": "对手降价", "customer_id": theirs["id"]},
            None,
        ),
        (
            "POST",
            "/api/v1/daily-reports",
            {
                "report_date": DAY,
                "incidents": [{"title": "降价", "description": "对手降价", "customer_id": theirs["id"]}],
            },
            None,
        ),
        (
            "POST",
            "/api/v1/visit-plans",
            {
                "plan_date": DAY,
                "items": [{"customer_id": theirs["id"], "planned_time": "09:00:00", "purpose": "research"}],
            },
            "items[0].customer_id",
        ),
        # (A visit plan's membership_id is refused outright, 403, unless it is the caller's own.)
        (
            "POST",
            "/api/v1/cross-territory-grants",
            {"membership_id": other.membership_id, "territory_id": mine["id"], "until": UNTIL},
            "membership_id",
        ),
        (
            "POST",
            "/api/v1/cross-territory-grants",
            {"membership_id": me.membership_id, "customer_id": theirs["id"], "until": UNTIL},
            None,
        ),
        (
            "POST",
            f"/api/v1/territories/{mine['id']}/members",
            {"membership_id": other.membership_id, "role": "rep"},
            "membership_id",
        ),
        (
            "POST",
            "/api/v1/territories",
            {"name": "子区", "level": "custom", "parent_id": there["id"]},
            "parent_id",
        ),
        ("POST", f"/api/v1/territories/{mine['id']}/move", {"new_parent_id": there["id"]}, "new_parent_id"),
        (
            "POST",
            "/api/v1/targets",
            {
                "scope_type": "territory",
                "territory_id": there["id"],
                "metric": "amount",
                "period": "year",
                "period_start": "2030-01-01",
                "value": "1.00",
            },
            None,
        ),
        (
            "POST",
            "/api/v1/targets",
            {
                "scope_type": "rep",
                "membership_id": other.membership_id,
                "metric": "amount",
                "period": "year",
                "period_start": "2030-01-01",
                "value": "1.00",
            },
            None,
        ),
        (
            "POST",
            "/api/v1/targets/decompose",
            {
                "parent_id": their_target,
                "children": [
                    {"scope_type": "tenant", "period": "year", "period_start": "2030-01-01", "value": "1.00"}
                ],
            },
            None,
        ),
        (
            "POST",
            "/api/v1/realignments",
            {"operation": "move", "territory_id": there["id"], "reason": "调整"},
            None,
        ),
        (
            "POST",
            "/api/v1/realignments",
            {"operation": "merge", "territory_id": mine["id"], "into_id": there["id"], "reason": "调整"},
            None,
        ),
        (
            "POST",
            "/api/v1/realignments",
            {
                "operation": "split",
                "territory_id": mine["id"],
                "reason": "调整",
                "customer_ids": [ours["id"]],
                "new_territory": {"name": "新区", "reps": [other.membership_id]},
            },
            "new_territory.reps[0]",
        ),
        (
            "PUT",
            f"/api/v1/deals/{our_deal['id']}/contract-terms",
            {"quote_id": "00000000-0000-0000-0000-000000000001"},
            None,
        ),
    ]
    wrong: list[str] = []
    # A handover skips a receiver who is no member of the tenant, and says so in its preview.
    r = await client.post(
        "/api/v1/handovers",
        json={
            "reason": "调整",
            "selection": {"customer_ids": [ours["id"]]},
            "targets": [{"membership_id": other.membership_id}],
        },
        headers=me.headers,
    )
    assert r.status_code == 201, r.text
    preview = r.json()["preview"]
    assert [s["membership_id"] for s in preview["skipped_targets"]] == [other.membership_id], preview
    assert preview["receivers"] == [], preview
    for method, path, body, field in cases:
        r = await client.request(method, path, json=body, headers=me.headers)
        named = [e["field"] for e in r.json().get("errors", [])] if r.status_code == 422 else []
        if r.status_code not in (404, 422) or (field and r.status_code == 422 and field not in named):
            wrong.append(f"{method} {path} {body}: {r.status_code} {r.text[:300]}")
    assert not wrong, "\n".join(wrong)
    # Nothing of the other tenant's was touched or linked.
    assert (
        await db_value(
            admin_db, "SELECT count(*) FROM customers WHERE referrer_customer_id = $1", theirs["id"]
        )
        == 0
    )
    assert await db_value(admin_db, "SELECT count(*) FROM deals WHERE customer_id = $1", theirs["id"]) == 0
