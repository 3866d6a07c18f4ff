"""Cross-territory requests (跨区申请) over HTTP: a rep asks to work another territory's customer or
pool with a reason and a period; the target territory's managers see it and approve (the grant is
made, the rep now works it) or reject; the rep is told. Validation (422), who may see (404: another
tenant's, an invisible one), who may decide (403: a rep, the requester), twice (409), the audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.factories import assign, customer, db_rows, db_value, territory
from tests.helpers import Member, signup
from tests.integration.customers.pool.support import pool_customer, quick_members, team

BASE = "/api/v1/cross-territory-requests"


def until(days: float = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@dataclass
class Two:
    """A rep of 苏州 and the manager of 无锡, with a pool customer and an owned one there."""

    owner: Member
    rep: Member
    other_rep: Member
    manager: Member
    home: dict[str, Any]
    far: dict[str, Any]
    far_pool: dict[str, Any]
    far_owned: dict[str, Any]


async def two(client: Any, admin_db: str) -> Two:
    t = await team(client, admin_db, reps=2)
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    far = await territory(client, t.owner, "无锡市")
    await assign(client, t.owner, far["id"], manager, "manager")
    [far_rep] = await quick_members(client, admin_db, t.owner, 1)
    await assign(client, t.owner, far["id"], far_rep, "rep")
    far_pool = await pool_customer(client, t.owner, far["id"])
    far_owned = await customer(client, t.owner, far["id"], owner_membership_id=far_rep.membership_id)
    return Two(t.owner, t.reps[0], t.reps[1], manager, t.territory, far, far_pool, far_owned)


async def ask(client: Any, who: Member, expect: int = 201, **body: Any) -> dict[str, Any]:
    body.setdefault("reason", "老客户转介绍，客户在无锡")
    body.setdefault("until", until())
    r = await client.post(BASE, json=body, headers=who.headers)
    assert r.status_code == expect, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_a_territory_request_approved_opens_its_pool_and_tells_the_rep(client, admin_db):
    d = await two(client, admin_db)
    assert d.far_pool["id"] not in {
        i["id"] for i in (await client.get("/api/v1/pool", headers=d.rep.headers)).json()["items"]
    }
    asked = await ask(client, d.rep, territory_id=d.far["id"])
    assert asked["status"] == "pending" and asked["target_territory_id"] == d.far["id"]
    assert asked["target_territory_name"] == "无锡市" and asked["member_territories"] == ["苏州市"]
    assert asked["reason"] == "老客户转介绍，客户在无锡" and asked["grant_id"] is None

    # the managers of 无锡 are told, and see it to decide; the rep sees it as theirs
    notes = (await client.get("/api/v1/notifications", headers=d.manager.headers)).json()["items"]
    assert [n["kind"] for n in notes] == ["cross_territory_requested"]
    assert "asks to work 无锡市" in notes[0]["message"]
    inbox = (await client.get(f"{BASE}/to-decide", headers=d.manager.headers)).json()["items"]
    assert [i["id"] for i in inbox] == [asked["id"]]
    mine = (await client.get(f"{BASE}/mine", headers=d.rep.headers)).json()["items"]
    assert [i["id"] for i in mine] == [asked["id"]]
    assert (await client.get(f"{BASE}/mine", headers=d.manager.headers)).json()["items"] == []
    # asking again while it waits: 409
    r = await client.post(
        BASE, json={"territory_id": d.far["id"], "reason": "再次", "until": until()}, headers=d.rep.headers
    )
    assert r.status_code == 409 and r.json()["rule"] == "pending"

    r = await client.post(
        f"{BASE}/{asked['id']}/approve", json={"comment": "同意，月底前"}, headers=d.manager.headers
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "approved" and done["comment"] == "同意，月底前" and done["grant_id"]
    assert done["decided_by"] == d.manager.membership_id
    grant = await db_rows(
        admin_db, "SELECT * FROM cross_territory_grants WHERE id = $1::uuid", done["grant_id"]
    )
    assert grant[0]["territory_id"] is not None and str(grant[0]["membership_id"]) == d.rep.membership_id
    assert grant[0]["until"].isoformat()[:16] == asked["until"][:16]
    pool = (await client.get("/api/v1/pool", headers=d.rep.headers)).json()["items"]
    assert d.far_pool["id"] in {i["id"] for i in pool}
    r = await client.post(f"/api/v1/customers/{d.far_pool['id']}/claim", headers=d.rep.headers)
    assert r.status_code == 200, r.text
    told = (await client.get("/api/v1/notifications", headers=d.rep.headers)).json()["items"]
    assert told[0]["kind"] == "cross_territory_approved" and "无锡市 was approved" in told[0]["message"]

    r = await client.post(f"{BASE}/{asked['id']}/reject", json={}, headers=d.manager.headers)
    assert r.status_code == 409 and "decided already" in r.json()["detail"]
    actions = await db_rows(
        admin_db,
        "SELECT action FROM audit_log WHERE subject_id = $1 ORDER BY id",
        asked["id"],
    )
    assert [a["action"] for a in actions] == [
        "cross_territory_request.created",
        "cross_territory_request.approved",
    ]
    # now working 无锡: another request for it is refused
    r = await client.post(
        BASE, json={"territory_id": d.far["id"], "reason": "x", "until": until()}, headers=d.rep.headers
    )
    assert r.status_code == 409 and r.json()["rule"] == "already_works"


async def test_a_customer_request_from_a_duplicate_entry_rejected_with_a_comment(client, admin_db):
    d = await two(client, admin_db)
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": d.far_owned["full_name"], "territory_id": d.home["id"]},
        headers=d.rep.headers,
    )
    assert r.status_code == 409, r.text
    conflict_id = r.json()["conflict_id"]
    # the customer itself is invisible to the rep: by its id, 404; by their duplicate entry, allowed
    await ask(client, d.rep, 404, customer_id=d.far_owned["id"])
    await ask(client, d.other_rep, 404, conflict_id=conflict_id)  # not their duplicate entry
    asked = await ask(client, d.rep, conflict_id=conflict_id, reason="客户主动来电，要求我跟进")
    assert asked["customer_id"] == d.far_owned["id"] and asked["customer_name"] == d.far_owned["full_name"]
    assert asked["territory_id"] is None and asked["target_territory_id"] == d.far["id"]
    assert asked["customer_grade"] == d.far_owned["grade"] and asked["customer_owner_name"]

    # a rep deciding (even their own): 403; the other rep does not see it: 404
    r = await client.post(f"{BASE}/{asked['id']}/approve", json={}, headers=d.rep.headers)
    assert r.status_code == 403
    r = await client.post(f"{BASE}/{asked['id']}/approve", json={}, headers=d.other_rep.headers)
    assert r.status_code == 404
    assert (await client.get(f"{BASE}/{asked['id']}", headers=d.other_rep.headers)).status_code == 404
    assert (await client.get(f"{BASE}/to-decide", headers=d.rep.headers)).status_code == 403
    assert (await client.get(f"{BASE}/{asked['id']}", headers=d.rep.headers)).status_code == 200

    r = await client.post(
        f"{BASE}/{asked['id']}/reject", json={"comment": "该客户已有人跟进"}, headers=d.manager.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["grant_id"] is None
    assert (
        await db_value(
            admin_db, "SELECT count(*) FROM cross_territory_grants WHERE tenant = $1::uuid", d.owner.tenant_id
        )
        == 0
    )
    assert (
        await client.get(f"/api/v1/customers/{d.far_owned['id']}", headers=d.rep.headers)
    ).status_code == 404
    told = (await client.get("/api/v1/notifications", headers=d.rep.headers)).json()["items"]
    assert told[0]["kind"] == "cross_territory_rejected" and "该客户已有人跟进" in told[0]["message"]
    decided = (
        await client.get(f"{BASE}/to-decide", params={"status": "rejected"}, headers=d.manager.headers)
    ).json()
    assert [i["id"] for i in decided["items"]] == [asked["id"]]
    assert (await client.get(f"{BASE}/to-decide", headers=d.manager.headers)).json()["items"] == []
    # rejected, it may be asked again
    await ask(client, d.rep, conflict_id=conflict_id)


async def test_bad_requests_are_422_and_what_the_rep_works_is_409(client, admin_db):
    d = await two(client, admin_db)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"reason": "x", "until": until()}, "customer_id"),
        (
            {"territory_id": d.far["id"], "customer_id": d.far_pool["id"], "reason": "x", "until": until()},
            "customer_id",
        ),
        ({"territory_id": d.far["id"], "reason": "   ", "until": until()}, "reason"),
        ({"territory_id": d.far["id"], "reason": "x", "until": until(-1)}, "until"),
        ({"territory_id": d.far["id"], "reason": "x", "until": until(400)}, "until"),
        ({"territory_id": d.far["id"], "reason": "x" * 1001, "until": until()}, "reason"),
        ({"territory_id": d.far["id"], "reason": "x", "until": "2030-01-01T00:00:00"}, "until"),
        ({"territory_id": "not-a-uuid", "reason": "x", "until": until()}, "territory_id"),
        ({"territory_id": d.far["id"], "reason": "x", "until": until(), "extra": 1}, "extra"),
    ]
    for body, field in cases:
        r = await client.post(BASE, json=body, headers=d.rep.headers)
        assert r.status_code == 422, (body, r.text)
        assert field in r.text, (body, r.text)
    r = await client.post(
        BASE, json={"territory_id": d.home["id"], "reason": "x", "until": until()}, headers=d.rep.headers
    )
    assert r.status_code == 409 and r.json()["rule"] == "already_works"  # their own territory
    r = await client.post(
        BASE, json={"territory_id": d.far["id"], "reason": "x", "until": until()}, headers=d.owner.headers
    )
    assert r.status_code == 409  # an owner works every territory
    for params in ({"status": "maybe"}, {"limit": "0"}, {"cursor": "garbage"}):
        r = await client.get(f"{BASE}/mine", params=params, headers=d.rep.headers)
        assert r.status_code == 422, (params, r.text)
    asked = await ask(client, d.rep, territory_id=d.far["id"])
    r = await client.post(
        f"{BASE}/{asked['id']}/approve", json={"comment": "x" * 2001}, headers=d.manager.headers
    )
    assert r.status_code == 422 and "comment" in r.text
    assert (await client.get(f"{BASE}/{asked['id']}", headers=d.manager.headers)).json()[
        "status"
    ] == "pending"
    assert (
        await db_value(
            admin_db,
            "SELECT count(*) FROM cross_territory_requests WHERE tenant = $1::uuid",
            d.owner.tenant_id,
        )
        == 1
    )


async def test_only_the_target_territorys_managers_decide(client, admin_db):
    d = await two(client, admin_db)
    [home_manager] = await quick_members(client, admin_db, d.owner, 1, role="manager")
    await assign(client, d.owner, d.home["id"], home_manager, "manager")
    asked = await ask(client, d.rep, territory_id=d.far["id"])
    # the rep's own manager (of 苏州) does not manage 无锡: the request is not theirs to see
    assert (await client.get(f"{BASE}/to-decide", headers=home_manager.headers)).json()["items"] == []
    r = await client.post(f"{BASE}/{asked['id']}/approve", json={}, headers=home_manager.headers)
    assert r.status_code == 404
    # a manager asking for a territory: its own manager may not decide their own request
    mine = await ask(client, d.manager, territory_id=d.home["id"])
    r = await client.post(f"{BASE}/{mine['id']}/approve", json={}, headers=d.manager.headers)
    assert r.status_code == 403
    r = await client.post(f"{BASE}/{mine['id']}/approve", json={}, headers=home_manager.headers)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    # an owner decides any
    r = await client.post(f"{BASE}/{asked['id']}/reject", json={}, headers=d.owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "rejected"


async def test_another_tenants_ids_are_not_found(client, admin_db):
    d = await two(client, admin_db)
    asked = await ask(client, d.rep, territory_id=d.far["id"])
    other = await signup(client)
    for path in (f"{BASE}/{asked['id']}",):
        assert (await client.get(path, headers=other.headers)).status_code == 404
    for action in ("approve", "reject"):
        r = await client.post(f"{BASE}/{asked['id']}/{action}", json={}, headers=other.headers)
        assert r.status_code == 404, r.text
    await ask(client, other, 404, territory_id=d.far["id"])
    await ask(client, other, 404, customer_id=d.far_pool["id"])
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": d.far_owned["full_name"], "territory_id": d.home["id"]},
        headers=d.rep.headers,
    )
    await ask(client, other, 404, conflict_id=r.json()["conflict_id"])
    assert (await client.get(f"{BASE}/to-decide", headers=other.headers)).json()["items"] == []
    assert (await client.get(f"{BASE}/{asked['id']}", headers=d.manager.headers)).json()[
        "status"
    ] == "pending"


async def test_a_merge_moves_pending_requests_to_the_territory_merged_into(client, admin_db):
    d = await two(client, admin_db)
    merged = await territory(client, d.owner, "常州市")
    only_merged = await ask(client, d.rep, territory_id=merged["id"])
    both = [await ask(client, d.other_rep, territory_id=t["id"]) for t in (d.far, merged)]
    r = await client.post(
        "/api/v1/realignments",
        json={"operation": "merge", "territory_id": merged["id"], "into_id": d.far["id"], "reason": "合并"},
        headers=d.owner.headers,
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/handovers/{r.json()['id']}/execute", headers=d.owner.headers)
    assert r.status_code == 200, r.text
    moved = (await client.get(f"{BASE}/{only_merged['id']}", headers=d.rep.headers)).json()
    assert moved["territory_id"] == d.far["id"] and moved["status"] == "pending"
    left = (await client.get(f"{BASE}/mine", headers=d.other_rep.headers)).json()["items"]
    assert [i["id"] for i in left] == [both[0]["id"]]  # one pending request for 无锡 is enough
    inbox = (await client.get(f"{BASE}/to-decide", headers=d.manager.headers)).json()["items"]
    assert {i["id"] for i in inbox} == {only_merged["id"], both[0]["id"]}
