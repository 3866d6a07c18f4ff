"""Commission splits: the suggestion for a known ownership and stage history, the tenant's weights, the
manager's confirmation (validated, audited, shown), the export (CSV and XLSX), and who may do what."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import openpyxl

from app.deals.commission import round_to_hundred, suggest
from tests.factories import db_rows, db_value
from tests.integration.customers.pool.support import Team, pool_customer, team
from tests.integration.deals.support import deal
from tests.integration.web.support import HTMX, htmx, sign_in


async def _won_deal(client: Any, admin_db: str, t: Team) -> dict[str, Any]:
    """A deal opened 20 days ago and won 10 days ago; its customer owned by rep A from before it
    opened, handed to rep B 4 days after (A: 4 days, B: 6); A moved its stage once, B three times."""
    a, b = t.reps
    c = await pool_customer(client, t.owner, t.territory["id"])
    d = await deal(client, t.owner, c["id"])
    now = datetime.now(UTC)
    opened, won = now - timedelta(days=20), now - timedelta(days=10)
    tenant = t.owner.tenant_id
    await db_rows(
        admin_db,
        "UPDATE deals SET stage = 'won', created_at = $3, closed_at = $4"
        " WHERE tenant = $1::uuid AND id = $2::uuid",
        tenant,
        d["id"],
        opened,
        won,
    )
    top = await db_value(
        admin_db,
        "SELECT coalesce(max(seq), 0) FROM customer_ownership_history WHERE tenant = $1::uuid",
        tenant,
    )
    for n, (frm, to, at) in enumerate(
        (
            (None, a.membership_id, opened - timedelta(days=1)),
            (a.membership_id, b.membership_id, opened + timedelta(days=4)),
        )
    ):
        await db_rows(
            admin_db,
            "INSERT INTO customer_ownership_history (tenant, seq, customer_id, from_membership_id,"
            " to_membership_id, cause, at, prev_hash, hash)"
            " VALUES ($1::uuid, $2, $3::uuid, $4::uuid, $5::uuid, 'handover', $6,"
            " '\\x00', '\\x00')",
            tenant,
            top + 1 + n,
            c["id"],
            frm,
            to,
            at,
        )
    for who, k in ((a, 1), (b, 3)):
        for i in range(k):
            await db_rows(
                admin_db,
                "INSERT INTO deal_stage_changes (tenant, deal_id, from_stage, to_stage, actor, at)"
                " VALUES ($1::uuid, $2::uuid, 'demo', 'formal_quote', $3::uuid, $4)",
                tenant,
                d["id"],
                who.membership_id,
                opened + timedelta(days=1 + i),
            )
    return d


def _shares(body: dict[str, Any]) -> dict[str, str]:
    return {s["membership_id"]: s["percent"] for s in body["suggestion"]}


def test_rounding_keeps_the_sum_at_100() -> None:
    one, two, three = UUID(int=1), UUID(int=2), UUID(int=3)
    third = Decimal(100) / 3
    assert round_to_hundred({one: third, two: third, three: third}) == {
        one: Decimal("33.34"),
        two: Decimal("33.33"),
        three: Decimal("33.33"),
    }
    assert suggest({}, {}, (50, 50)) == {}
    assert suggest({one: 10.0}, {}, (50, 50)) == {one: Decimal("100.00")}  # no moves: ownership takes all


async def test_the_suggestion_for_a_known_history_and_the_tenants_weights(client: Any, admin_db: str) -> None:
    t = await team(client, admin_db, reps=2)
    a, b = t.reps
    d = await _won_deal(client, admin_db, t)
    r = await client.get(f"/api/v1/deals/{d['id']}/commission", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["ownership_weight"], body["stages_weight"]) == (50, 50) and body["confirmed"] is None
    # A: 50 × 4/10 + 50 × 1/4 = 32.5; B: 50 × 6/10 + 50 × 3/4 = 67.5
    assert _shares(body) == {a.membership_id: "32.50", b.membership_id: "67.50"}
    figures = {s["membership_id"]: (s["owned_days"], s["stage_moves"]) for s in body["suggestion"]}
    assert figures == {a.membership_id: (4.0, 1), b.membership_id: (6.0, 3)}
    r = await client.put(
        "/api/v1/commission/rules",
        json={"ownership_weight": 70, "stages_weight": 40},
        headers=t.owner.headers,
    )
    assert r.status_code == 422
    r = await client.put(
        "/api/v1/commission/rules", json={"ownership_weight": 70, "stages_weight": 30}, headers=a.headers
    )
    assert r.status_code == 403
    r = await client.put(
        "/api/v1/commission/rules",
        json={"ownership_weight": 70, "stages_weight": 30},
        headers=t.owner.headers,
    )
    assert r.status_code == 200
    body = (await client.get(f"/api/v1/deals/{d['id']}/commission", headers=t.owner.headers)).json()
    # A: 70 × 0.4 + 30 × 0.25 = 35.5; B: 70 × 0.6 + 30 × 0.75 = 64.5
    assert _shares(body) == {a.membership_id: "35.50", b.membership_id: "64.50"}


async def test_confirming_validates_records_audits_and_exports(client: Any, admin_db: str) -> None:
    t = await team(client, admin_db, reps=2)
    other = await team(client, admin_db, reps=1)
    a, b = t.reps
    d = await _won_deal(client, admin_db, t)
    url = f"/api/v1/deals/{d['id']}/commission"

    def body(*shares: tuple[str, str]) -> dict[str, Any]:
        return {"shares": [{"membership_id": m, "percent": p} for m, p in shares]}

    for bad in (
        body((a.membership_id, "40"), (b.membership_id, "50")),  # 90
        body((a.membership_id, "50"), (a.membership_id, "50")),  # twice
        body((a.membership_id, "100.5"), (b.membership_id, "-0.5")),
        body((a.membership_id, "50"), (other.reps[0].membership_id, "50")),  # another company's member
        body((a.membership_id, "33.333"), (b.membership_id, "66.667")),  # finer than 0.01
        body(),
    ):
        r = await client.put(url, json=bad, headers=t.owner.headers)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.put(url, json=body((a.membership_id, "100")), headers=a.headers)).status_code == 403
    r = await client.put(
        url, json=body((a.membership_id, "40"), (b.membership_id, "60")), headers=t.owner.headers
    )
    assert r.status_code == 200, r.text
    confirmed = r.json()["confirmed"]
    assert {s["membership_id"]: s["percent"] for s in confirmed["shares"]} == {
        a.membership_id: "40.00",
        b.membership_id: "60.00",
    }
    assert confirmed["confirmed_by"] == t.owner.membership_id
    audited = await db_value(
        admin_db,
        "SELECT data->'shares' FROM audit_log WHERE tenant = $1::uuid AND action = 'commission.confirmed'",
        t.owner.tenant_id,
    )
    assert '"40.00"' in audited or '"40"' in audited
    # another tenant's deal is a 404, read or confirmed
    assert (await client.get(url, headers=other.owner.headers)).status_code == 404
    r = await client.put(url, json=body((other.reps[0].membership_id, "100")), headers=other.owner.headers)
    assert r.status_code == 404
    # a deal not won has no split
    c = await pool_customer(client, t.owner, t.territory["id"])
    open_deal = await deal(client, t.owner, c["id"])
    assert (
        await client.get(f"/api/v1/deals/{open_deal['id']}/commission", headers=t.owner.headers)
    ).status_code == 409

    r = await client.get(
        "/api/v1/commission/splits/export", params={"format": "csv"}, headers=t.owner.headers
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Deal" and len(rows) == 3
    assert sorted((row[7], row[8]) for row in rows[1:]) == [("40.00", "20000.00"), ("60.00", "30000.00")]
    r = await client.get(
        "/api/v1/commission/splits/export", params={"format": "xlsx"}, headers=t.owner.headers
    )
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None and sheet.max_row == 3
    assert (await client.get("/api/v1/commission/splits/export", headers=a.headers)).status_code == 403
    other_export = await client.get("/api/v1/commission/splits/export", headers=other.owner.headers)
    assert len(list(csv.reader(io.StringIO(other_export.content.decode("utf-8-sig"))))) == 1  # header only


async def test_the_deal_page_shows_and_the_manager_confirms_there(client: Any, admin_db: str) -> None:
    t = await team(client, admin_db, reps=2)
    a, b = t.reps
    d = await _won_deal(client, admin_db, t)
    csrf = await sign_in(client, t.owner)
    page = await client.get(f"/deals/{d['id']}/commission", headers=HTMX)
    assert page.status_code == 200 and "32.50" in page.text and "67.50" in page.text
    assert "50% by time owning the customer" in page.text
    form = {"membership_id": [a.membership_id, b.membership_id], "percent": ["30", "60"]}
    r = await client.post(f"/deals/{d['id']}/commission", data=form, headers=htmx(csrf))
    assert r.status_code == 422 and "sum to 100" in r.text
    assert 'id="commission-form"' in r.text and 'value="60"' in r.text  # the form stays, as typed
    form["percent"] = ["30", "70"]
    r = await client.post(f"/deals/{d['id']}/commission", data=form, headers=htmx(csrf))
    assert r.status_code == 200 and 'id="commission-confirmed"' in r.text and "70.00" in r.text
    settings = await client.get("/settings/commission")
    assert settings.status_code == 200 and 'name="ownership_weight"' in settings.text
    r = await client.post(
        "/settings/commission", data={"ownership_weight": "60", "stages_weight": "40"}, headers=htmx(csrf)
    )
    assert r.status_code == 200
    assert (
        await db_value(
            admin_db,
            "SELECT ownership_weight FROM commission_rules WHERE tenant = $1::uuid",
            t.owner.tenant_id,
        )
        == 60
    )
    rep_csrf = await sign_in(client, a)
    r = await client.post(f"/deals/{d['id']}/commission", data=form, headers=htmx(rep_csrf))
    assert r.status_code == 403
