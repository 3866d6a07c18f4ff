"""pool-status explains (in words, zh-CN and en, and in data) why a claim would be refused and when
and why a customer returns to the pool; pool rules are admin-only and validated field by field."""

from __future__ import annotations

from tests.factories import customer
from tests.integration.customers.pool.support import age, pool_customer, put_rules, set_locale, team


async def _status(client, who, customer_id):
    r = await client.get(f"/api/v1/customers/{customer_id}/pool-status", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_explains_claimable_owned_and_capped(client, admin_db):
    t = await team(client, admin_db, reps=2)
    a, b = t.reps
    await put_rules(client, t.owner, owned_cap=1)
    free = await pool_customer(client, t.owner, t.territory["id"])
    other = await pool_customer(client, t.owner, t.territory["id"])

    s = await _status(client, a, free["id"])
    assert s["in_pool"] and s["can_claim"] and s["claim"]["rule"] == "ok" and s["reclaim"] is None
    assert s["summary"][0] == "In the pool of 苏州市"

    assert (await client.post(f"/api/v1/customers/{free['id']}/claim", headers=a.headers)).status_code == 200
    await set_locale(admin_db, a, "zh-CN")
    s = await _status(client, a, other["id"])
    assert not s["can_claim"] and s["claim"]["rule"] == "owned_cap"
    assert s["claim"]["params"] == {"count": 1, "cap": 1}
    assert s["claim"]["message"] == "你已拥有 1 个客户，上限为 1 个"

    s = await _status(
        client, b, free["id"]
    )  # (English: the tenant's language) b works this pool: told who owns it
    assert (
        s["claim"]["rule"] == "owned" and s["owner_name"] == "业务员0" and "Owned by 业务员0" in s["summary"]
    )


async def test_explains_the_cooldown_with_its_date(client, admin_db):
    t = await team(client, admin_db, reps=1, locale="zh-CN")
    rep = t.reps[0]
    c = await pool_customer(client, t.owner, t.territory["id"])
    assert (await client.post(f"/api/v1/customers/{c['id']}/claim", headers=rep.headers)).status_code == 200
    r = await client.post(
        f"/api/v1/customers/{c['id']}/release",
        json={"reason": "other", "note": "暂无需求"},
        headers=rep.headers,
    )
    assert r.status_code == 200
    s = await _status(client, rep, c["id"])
    assert s["claim"]["rule"] == "cooldown" and s["claim"]["params"]["days"] == 7
    until = s["claim"]["params"]["until"]
    assert s["claim"]["message"] == f"你曾放弃该客户，{until} 起才能再次领取（冷却期 7 天）"


async def test_explains_when_and_why_it_returns_to_the_pool(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    c = await customer(client, t.owner, t.territory["id"], grade="B", owner_membership_id=rep.membership_id)
    await age(admin_db, c["id"], 20)
    s = await _status(client, rep, c["id"])
    rec = s["reclaim"]
    assert rec["rule"] == "no_followup" and rec["limit_days"] == 30 and rec["days_left"] == 10
    assert rec["exempt"] is False and rec["message"].startswith("Returns to the pool on ")
    assert "(10 days left): grade B allows 30 days without a follow-up" in rec["message"]
    await set_locale(admin_db, rep, "zh-CN")
    zh = (await _status(client, rep, c["id"]))["reclaim"]["message"]
    await set_locale(admin_db, rep, None)
    assert "剩余 10 天" in zh and "B 级客户最多允许 30 天无跟进" in zh

    await age(admin_db, c["id"], 31)
    rec = (await _status(client, rep, c["id"]))["reclaim"]
    assert rec["days_left"] == 0 and rec["message"].startswith("Due to return to the pool now")

    await put_rules(client, t.owner, grades={"B": {"no_followup_days": None}})
    rec = (await _status(client, rep, c["id"]))["reclaim"]
    assert rec["rule"] is None and rec["due_at"] is None
    assert rec["message"] == "Grade B customers are not returned to the pool automatically"


async def test_pool_rules_admin_only_and_validated(client, admin_db):
    t = await team(client, admin_db, reps=1)
    r = await client.get("/api/v1/pool-rules", headers=t.owner.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["owned_cap"] == 100 and body["warning_days"] == 3 and body["cooldown_days"] == 7
    assert {g: v["no_followup_days"] for g, v in body["grades"].items()} == {
        "A": 15,
        "B": 30,
        "C": 60,
        "D": 90,
    }
    assert body["customized"] is False

    for method in ("get", "put"):
        kwargs = {"json": {}} if method == "put" else {}
        r = await getattr(client, method)("/api/v1/pool-rules", headers=t.reps[0].headers, **kwargs)
        assert r.status_code == 403

    bad = [
        ({"owned_cap": 0}, "owned_cap"),
        ({"daily_claim_cap": -1}, "daily_claim_cap"),
        ({"cooldown_days": 400}, "cooldown_days"),
        ({"grades": {"E": {"no_followup_days": 10}}}, "grades"),
        ({"grades": {"A": {"no_followup_days": 0}}}, "grades.A.no_followup_days"),
        ({"warning_days": 20, "grades": {"A": {"no_followup_days": 15}}}, "grades.A.no_followup_days"),
        ({"grades": {"C": {"no_followup_days": 60, "owned_cap": 500}}}, "grades.C.owned_cap"),
        ({"grades": {"D": {"no_deal_days": 99999}}}, "grades.D.no_deal_days"),
    ]
    for rules, field in bad:
        r = await client.put("/api/v1/pool-rules", json=rules, headers=t.owner.headers)
        assert r.status_code == 422, (rules, r.text)
        assert r.json()["errors"][0]["field"] == field, (rules, r.json())
    assert (await client.get("/api/v1/pool-rules", headers=t.owner.headers)).json()["customized"] is False

    saved = await put_rules(
        client,
        t.owner,
        owned_cap=80,
        daily_claim_cap=5,
        grades={"A": {"no_followup_days": 10, "no_deal_days": 45}},
    )
    assert saved["customized"] and saved["owned_cap"] == 80 and saved["daily_claim_cap"] == 5
    assert saved["grades"]["A"] == {"no_followup_days": 10, "no_deal_days": 45, "owned_cap": None}
    assert saved["grades"]["D"]["no_followup_days"] == 90  # grades left out keep the defaults
    saved = await put_rules(client, t.owner, grades={"C": {"owned_cap": 20}})
    assert saved["grades"]["C"] == {"no_followup_days": 60, "no_deal_days": None, "owned_cap": 20}
    assert saved["grades"]["A"]["no_followup_days"] == 15 and saved["owned_cap"] == 100  # PUT replaces
