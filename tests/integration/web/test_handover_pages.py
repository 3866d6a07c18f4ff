"""The territory manager's handover pages over HTTP: the team customers table (filters, the count of
"all matching", bulk release, export), the handover wizard (from the table's selection, preview
figures equal to the API's, execute, undo, a stale preview answered with the fresh one), the list of
handovers, offboarding a member who still owns customers, and duplicate claims (keep, hand over,
merge). A rep is refused; another tenant's handover, conflict and member are the 404 page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.factories import assign, customer, db_value
from tests.helpers import Member, signup
from tests.integration.customers.pool.support import pool_customer, quick_members, team
from tests.integration.handover.support import deal, owners
from tests.integration.web.support import HTMX, htmx, sign_in


@dataclass
class Desk:
    owner: Member
    manager: Member
    a: Member
    b: Member
    territory: dict[str, Any]
    mine: list[dict[str, Any]]  # owned by a
    theirs: list[dict[str, Any]]  # owned by b
    pool: list[dict[str, Any]]


async def desk(client: Any, admin_db: str) -> Desk:
    t = await team(client, admin_db, reps=2)
    a, b = t.reps
    (manager,) = await quick_members(client, admin_db, t.owner, 1, role="manager")
    await assign(client, t.owner, t.territory["id"], manager, "manager")
    mine = [
        await customer(
            client,
            t.owner,
            t.territory["id"],
            grade=g,
            owner_membership_id=a.membership_id,
            source="referral",
        )
        for g in "ABCDA"
    ]
    theirs = [
        await customer(client, t.owner, t.territory["id"], grade="B", owner_membership_id=b.membership_id)
        for _ in range(3)
    ]
    pool = [await pool_customer(client, t.owner, t.territory["id"], grade="C") for _ in range(2)]
    return Desk(t.owner, manager, a, b, t.territory, mine, theirs, pool)


async def count_of(client: Any, **filters: str) -> str:
    r = await client.get("/customers/team/count", params=filters, headers=HTMX)
    assert r.status_code == 200, r.text
    return str(r.text)


def plan_id_of(r: Any) -> str:
    assert r.status_code == 200, r.text
    found = re.match(r"^/handovers/([0-9a-f-]{36})", r.headers["hx-redirect"])
    assert found, r.headers
    return found.group(1)


async def test_team_table_filters_count_and_bulk_release(client, admin_db):
    d = await desk(client, admin_db)
    csrf = await sign_in(client, d.manager)
    r = await client.get("/customers", params={"view": "team"})
    assert r.status_code == 200 and 'class="team-table"' in r.text
    assert 'hx-get="/customers/team/count"' in r.text  # counted after the table
    count = await client.get("/customers/team/count", headers=HTMX)
    assert "10 customers match" in count.text and "Select all 10 matching" in count.text
    for c in d.mine + d.theirs + d.pool:
        assert c["full_name"] in r.text

    r = await client.get("/customers", params={"view": "team", "owner": d.a.membership_id})
    assert "5 customers match" in (await count_of(client, owner=d.a.membership_id))
    assert d.mine[0]["full_name"] in r.text and d.theirs[0]["full_name"] not in r.text
    assert "2 customers match" in (await count_of(client, owner=d.a.membership_id, grade="A"))
    r = await client.get("/customers", params={"view": "team", "owner": "none"})
    assert "2 customers match" in (await count_of(client, owner="none")) and d.pool[0]["full_name"] in r.text
    r = await client.get("/customers", params={"view": "team", "source": "referral"})
    assert "5 customers match" in (await count_of(client, source="referral"))
    assert d.theirs[0]["full_name"] not in r.text and d.mine[0]["full_name"] in r.text
    # a's C and the two pool leads: none followed up yet
    assert "3 customers match" in (await count_of(client, followup="never", grade="C"))
    r = await client.get("/customers", params={"view": "team", "followup": "13"})
    assert r.status_code == 422 and "Unknown period" in r.text
    r = await client.get("/handovers/new", params={"all": "1", "source": "referral"})
    assert "5 customers selected in the table" in r.text  # a source is resolved to the ids
    assert r.text.count('name="customer_id"') == 5
    r = await client.get("/customers", params={"view": "team", "grade": "Z"})
    assert r.status_code == 422 and "Use A, B, C or D" in r.text

    # release two ticked customers to the pool, with a reason; without one nothing changes
    ticked = [d.theirs[0]["id"], d.theirs[1]["id"]]
    body = urlencode([("customer_id", i) for i in ticked] + [("reason", "")])
    form = {**htmx(csrf), "Content-Type": "application/x-www-form-urlencoded"}
    r = await client.post("/customers/team/release", content=body, headers=form)
    assert r.status_code == 422 and 'class="error"' in r.text and "<html" not in r.text
    assert set((await owners(admin_db, ticked)).values()) == {d.b.membership_id}
    body = urlencode([("customer_id", i) for i in ticked] + [("reason", "no_need"), ("note", "长期未跟进")])
    r = await client.post("/customers/team/release", content=body, headers=form)
    assert r.status_code == 200 and "2 released to the pool." in r.text
    assert set((await owners(admin_db, ticked)).values()) == {None}

    # export of the current filter: the owner's rows only
    r = await client.get("/customers/team/export", params={"format": "csv", "owner": d.a.membership_id})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + 5 and d.mine[0]["full_name"] in r.text


async def test_team_table_rows_are_the_apis_in_either_order_with_their_words(client, admin_db):
    d = await desk(client, admin_db)
    soon, later = d.theirs[1]["id"], d.pool[0]["id"]  # the next follow-up order differs from the newest
    await db_value(
        admin_db,
        "UPDATE customers SET next_followup_at = now() + CASE WHEN id = $1::uuid THEN interval '1 day'"
        " ELSE interval '9 days' END WHERE id = ANY($2::uuid[]) RETURNING 1",
        soon,
        [soon, later],
    )
    await sign_in(client, d.manager)
    for sort in ("newest", "next_followup"):
        page = await client.get("/customers", params={"view": "team", "sort": sort})
        assert page.status_code == 200, page.text
        api = await client.get("/api/v1/customers", params={"sort": sort}, headers=d.manager.headers)
        expected = [c["id"] for c in api.json()["items"]]
        assert re.findall(r'<tr id="row-([0-9a-f-]{36})"', page.text) == expected, sort
        assert f'<option value="{sort}" selected>' in page.text
    assert expected[:2] == [soon, later]
    unknown = await client.get("/customers", params={"view": "team", "sort": "oldest"})
    assert unknown.status_code == 200 and '<option value="newest" selected>' in unknown.text
    page = await client.get("/customers", params={"view": "team"})
    rows = {i: r for i, r in re.findall(r'<tr id="row-([0-9a-f-]{36})">(.*?)</tr>', page.text, re.S)}
    referral = rows[d.mine[0]["id"]]  # the words of a row: its status and source, the cells' labels
    assert '<td data-label="Status">Prospect</td>' in referral, referral
    assert '<td data-label="Source">Referral</td>' in referral
    assert f'aria-label="Select {d.mine[0]["full_name"]}"' in referral
    assert '<td data-label="Owner">In the pool</td>' in rows[d.pool[0]["id"]]
    assert '<td data-label="Last follow-up">Never</td>' in rows[d.pool[0]["id"]]
    assert '<td data-label="Source">—</td>' in rows[d.theirs[0]["id"]]
    # the pickers keep the chosen owner and territory
    picked = await client.get(
        "/customers", params={"view": "team", "owner": d.a.membership_id, "territory_id": d.territory["id"]}
    )
    assert f'<option value="{d.a.membership_id}" selected>' in picked.text
    assert f'<option value="{d.territory["id"]}" selected>' in picked.text
    assert f'<option value="{d.b.membership_id}">' in picked.text


async def test_wizard_preview_equals_the_api_execute_and_undo(client, admin_db):
    d = await desk(client, admin_db)
    await deal(admin_db, d, d.mine[0]["id"], d.a, "1200.50")  # type: ignore[arg-type]
    csrf = await sign_in(client, d.manager)
    # the table's "all matching" for the owner a: a selection by the filter
    r = await client.get("/handovers/new", params={"all": "1", "owner": d.a.membership_id, "view": "team"})
    assert r.status_code == 200 and "All 5 customers matching the table&#39;s filter" in r.text
    assert f'name="owner_ids" value="{d.a.membership_id}"' in r.text
    form = {**htmx(csrf), "Content-Type": "application/x-www-form-urlencoded"}
    fields = [
        ("owner_ids", d.a.membership_id),
        ("mode", "single"),
        ("targets", d.b.membership_id),
        ("carry_deals", "1"),
        ("carry_envelopes", "1"),
        ("keep_read_days", "7"),
        ("reason", "业务员调岗"),
    ]
    r = await client.post("/handovers", content=urlencode([*fields[:-1], ("reason", " ")]), headers=form)
    assert r.status_code == 422 and "Give a reason for the handover" in r.text
    r = await client.post("/handovers", content=urlencode([*fields[:2], *fields[3:]]), headers=form)
    assert r.status_code == 422 and "Give exactly one receiver" in r.text
    assert (
        await db_value(
            admin_db, "SELECT count(*) FROM handover_plans WHERE tenant = $1::uuid", d.owner.tenant_id
        )
        == 0
    )
    plan_id = plan_id_of(await client.post("/handovers", content=urlencode(fields), headers=form))

    page = await client.get(f"/handovers/{plan_id}")
    api = (await client.get(f"/api/v1/handovers/{plan_id}", headers=d.manager.headers)).json()
    preview = api["preview"]
    assert preview["customers"] == 5 and preview["deals"] == 1
    (receiver,) = preview["receivers"]
    row = re.search(rf'<tr id="receiver-{receiver["membership_id"]}".*?</tr>', page.text, re.S)
    assert row, page.text
    assert f'class="n-customers">{receiver["customers"]}<' in row.group(0)
    assert f'class="n-deals">{receiver["deals"]}<' in row.group(0)
    assert 'class="amount">1,200.50<' in row.group(0) and receiver["pipeline_amount"] == "1200.50"
    assert "5 customers (0 to the pool) · 1 open deals · pipeline 1,200.50" in page.text
    assert 'id="execute"' in page.text

    r = await client.post(f"/handovers/{plan_id}/execute", headers=htmx(csrf))
    assert r.status_code == 200 and r.headers["hx-retarget"] == "#plan-body"
    assert 'id="undo"' in r.text and "You can undo this until" in r.text
    ids = [c["id"] for c in d.mine]
    assert set((await owners(admin_db, ids)).values()) == {d.b.membership_id}
    r = await client.post(f"/handovers/{plan_id}/execute", headers=htmx(csrf))
    assert r.status_code == 409 and "already executed" in r.text and "<html" not in r.text

    listed = await client.get("/handovers")
    assert listed.status_code == 200 and f'href="/handovers/{plan_id}"' in listed.text

    r = await client.post(f"/handovers/{plan_id}/undo", headers=htmx(csrf))
    assert r.status_code == 200 and 'id="undone"' in r.text
    assert set((await owners(admin_db, ids)).values()) == {d.a.membership_id}
    r = await client.post(f"/handovers/{plan_id}/undo", headers=htmx(csrf))
    assert r.status_code == 409 and "Only an executed handover can be undone" in r.text


async def test_ticked_rows_go_to_the_wizard_and_a_stale_preview_shows_the_fresh_one(client, admin_db):
    d = await desk(client, admin_db)
    csrf = await sign_in(client, d.manager)
    ticked = [c["id"] for c in d.pool]
    r = await client.get("/handovers/new", params=[("customer_id", i) for i in ticked])
    assert r.status_code == 200 and "2 customers selected in the table" in r.text
    form = {**htmx(csrf), "Content-Type": "application/x-www-form-urlencoded"}
    fields = [("customer_id", i) for i in ticked] + [
        ("mode", "single"),
        ("targets", d.b.membership_id),
        ("reason", "今日来电名单分配"),
    ]
    plan_id = plan_id_of(await client.post("/handovers", content=urlencode(fields), headers=form))
    r = await client.post(f"/api/v1/customers/{ticked[0]}/claim", headers=d.b.headers)
    assert r.status_code == 200, r.text  # the receiver claims one between preview and execute

    r = await client.post(f"/handovers/{plan_id}/execute", headers=htmx(csrf))
    assert r.status_code == 409 and r.headers["hx-retarget"] == "#plan-body"
    assert "Customers changed since the preview" in r.text and "This is the fresh preview" in r.text
    assert d.pool[0]["full_name"] in r.text  # the changed one is named
    api = (await client.get(f"/api/v1/handovers/{plan_id}", headers=d.manager.headers)).json()
    assert api["status"] == "draft" and api["preview"]["customers"] == 1
    assert f"{api['preview']['customers']} customers (0 to the pool)" in r.text
    assert "1 customers cannot move" in r.text and "the receiver already owns it" in r.text
    assert 'id="execute"' in r.text  # asked again
    r = await client.post(f"/handovers/{plan_id}/execute", headers=htmx(csrf))
    assert r.status_code == 200 and "You can undo this until" in r.text


async def test_a_rep_is_refused_and_another_tenants_ids_are_not_found(client, admin_db):
    d = await desk(client, admin_db)
    plan = await client.post(
        "/api/v1/handovers",
        json={
            "reason": "调岗",
            "selection": {"owner_ids": [d.a.membership_id]},
            "targets": [{"membership_id": d.b.membership_id}],
            "mode": "single",
        },
        headers=d.owner.headers,
    )
    assert plan.status_code == 201, plan.text
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": d.mine[0]["full_name"], "territory_id": d.territory["id"]},
        headers=d.b.headers,
    )
    assert r.status_code == 409, r.text
    conflict_id = r.json()["conflict_id"]

    csrf = await sign_in(client, d.a)
    r = await client.get("/customers", params={"view": "team"})
    assert r.status_code == 200 and 'class="team-table"' not in r.text  # their own list instead
    for path in (
        "/handovers",
        "/handovers/new",
        "/customer-conflicts",
        f"/members/{d.b.membership_id}/offboard",
    ):
        assert (await client.get(path)).status_code == 403, path
    assert (await client.get(f"/handovers/{plan.json()['id']}")).status_code in (403, 404)
    r = await client.post(f"/handovers/{plan.json()['id']}/execute", headers=htmx(csrf))
    assert r.status_code in (403, 404)
    assert 'href="/handovers"' not in (await client.get("/")).text  # not in their navigation

    other = await signup(client)
    await sign_in(client, other)
    for path in (
        f"/handovers/{plan.json()['id']}",
        f"/members/{d.a.membership_id}/offboard",
    ):
        r = await client.get(path)
        assert r.status_code == 404 and "<html" in r.text, path
    csrf = await sign_in(client, other)
    r = await client.post(f"/customer-conflicts/{conflict_id}/keep", headers=htmx(csrf))
    assert r.status_code == 404
    r = await client.post(f"/members/{d.a.membership_id}/offboard", headers=htmx(csrf))
    assert r.status_code == 404
    r = await client.post(f"/handovers/{plan.json()['id']}/execute", headers=htmx(csrf))
    assert r.status_code == 404
    assert set((await owners(admin_db, [c["id"] for c in d.mine])).values()) == {d.a.membership_id}


async def test_offboarding_opens_the_prefilled_draft_then_deactivates(client, admin_db):
    d = await desk(client, admin_db)
    csrf = await sign_in(client, d.owner)
    page = await client.get(f"/members/{d.a.membership_id}/offboard")
    assert page.status_code == 200 and 'id="deactivate"' in page.text
    r = await client.post(f"/members/{d.a.membership_id}/offboard", headers=htmx(csrf))
    assert r.status_code == 200, r.text
    target = r.headers["hx-redirect"]
    assert target.endswith(f"?offboard={d.a.membership_id}")
    plan_id = target.split("/")[2].split("?")[0]
    draft = await client.get(target)
    assert draft.status_code == 200 and "Offboarding" in draft.text and "5 customers" in draft.text
    other = f"/handovers/new?owner_ids={d.a.membership_id}&offboard={d.a.membership_id}"
    assert other in draft.text  # other receivers: a new plan for the same customers
    wizard = await client.get(other)
    assert f'name="offboard" value="{d.a.membership_id}"' in wizard.text
    assert f'name="owner_ids" value="{d.a.membership_id}" checked' in wizard.text
    fields = {
        "owner_ids": d.a.membership_id,
        "mode": "single",
        "targets": d.b.membership_id,
        "reason": "离职交接",
        "offboard": d.a.membership_id,
    }
    form = {**htmx(csrf), "Content-Type": "application/x-www-form-urlencoded"}
    r = await client.post("/handovers", content=urlencode(fields), headers=form)
    assert r.headers["hx-redirect"].endswith(f"?offboard={d.a.membership_id}")
    plan_id = plan_id_of(r)
    r = await client.post(
        f"/handovers/{plan_id}/execute",
        content=urlencode({"offboard": d.a.membership_id, "conflict": ""}),
        headers={**htmx(csrf), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and 'id="complete-deactivation"' in r.text
    assert set((await owners(admin_db, [c["id"] for c in d.mine])).values()) == {d.b.membership_id}
    r = await client.post(f"/members/{d.a.membership_id}/offboard", headers=htmx(csrf))
    assert r.status_code == 200 and 'id="offboarded"' in r.text
    active = await db_value(admin_db, "SELECT active FROM memberships WHERE id = $1::uuid", d.a.membership_id)
    assert active is False


async def test_conflicts_keep_hand_over_and_merge(client, admin_db):
    d = await desk(client, admin_db)
    conflicts = []
    for c, extra in ((d.mine[0], {}), (d.mine[1], {}), (d.mine[2], {"address": "苏州工业园区星湖街328号"})):
        r = await client.post(
            "/api/v1/customers",
            json={"full_name": c["full_name"], "territory_id": d.territory["id"], **extra},
            headers=d.b.headers,
        )
        assert r.status_code == 409, r.text
        conflicts.append(r.json()["conflict_id"])
    csrf = await sign_in(client, d.manager)
    page = await client.get("/customer-conflicts")
    assert page.status_code == 200
    for cid in conflicts:
        assert f'id="conflict-{cid}"' in page.text
    assert "苏州工业园区星湖街328号" in page.text and "Merge (1 fields)" in page.text

    r = await client.post(f"/customer-conflicts/{conflicts[0]}/keep", headers=htmx(csrf))
    assert r.status_code == 200 and "Kept with its owner" in r.text

    r = await client.post(f"/customer-conflicts/{conflicts[1]}/hand-over", headers=htmx(csrf))
    target = r.headers["hx-redirect"]
    assert target.endswith(f"?conflict={conflicts[1]}")
    plan_id = target.split("/")[2].split("?")[0]
    r = await client.post(
        f"/handovers/{plan_id}/execute",
        content=urlencode({"offboard": "", "conflict": conflicts[1]}),
        headers={**htmx(csrf), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    assert (await owners(admin_db, [d.mine[1]["id"]]))[d.mine[1]["id"]] == d.b.membership_id

    r = await client.post(f"/customer-conflicts/{conflicts[2]}/merge", headers=htmx(csrf))
    assert r.status_code == 200 and "Merged" in r.text
    address = await db_value(admin_db, "SELECT address FROM customers WHERE id = $1::uuid", d.mine[2]["id"])
    assert address == "苏州工业园区星湖街328号"

    statuses = await db_value(
        admin_db,
        "SELECT array_agg(status ORDER BY status) FROM customer_conflicts WHERE id = ANY($1::uuid[])",
        conflicts,
    )
    assert statuses == ["resolved"] * 3
    resolved = await client.get("/customer-conflicts", params={"status": "resolved"})
    assert "Handed over" in resolved.text and "Kept with its owner" in resolved.text
    assert "No open duplicate claim." in (await client.get("/customer-conflicts")).text
    r = await client.get("/customers", params={"view": "team"}, headers=HTMX)
    assert r.status_code == 200
