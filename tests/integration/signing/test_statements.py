"""Rep statements: a member's ownership changes over a period as a PDF sealed with the tenant's seal
(LibreOffice with the CJK font embedded, then pyHanko), verifiable on /verify, mailed (real SMTP) and
downloadable; monthly by the cron, once per member and month; on request for oneself, or by a manager
for anyone; another tenant's statement is a 404."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from app import db
from app.customers.anchors import anchor_ledger
from app.settings import get_settings
from app.signing.seal import check_seal
from app.signing.statements import monthly_statements_for, previous_month
from tenants.scope import TenantScope
from tests.helpers import mails_to, run_jobs
from tests.integration.customers.pool.support import Team, ledger_rows, pool_customer, set_locale, team
from tests.integration.signing.tsa import timestamp_authority
from tests.integration.web.support import HTMX, htmx, sign_in


def _text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return out.stdout.decode()


def _fonts(pdf: bytes) -> str:
    out = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=False)
    if out.returncode != 0:  # older poppler reads no stdin: through a file
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(pdf)
            f.flush()
            out = subprocess.run(["pdffonts", f.name], capture_output=True, check=True)
    return out.stdout.decode()


async def _history(client: Any, t: Team) -> str:
    """Rep 0 claims and releases a customer, rep 1 claims it: four entries, two of rep 0."""
    c = await pool_customer(client, t.owner, t.territory["id"], full_name="苏州精密机械有限公司")
    url = f"/api/v1/customers/{c['id']}"
    assert (await client.post(url + "/claim", headers=t.reps[0].headers)).status_code == 200
    r = await client.post(
        url + "/release", json={"reason": "other", "note": "轮换"}, headers=t.reps[0].headers
    )
    assert r.status_code == 200, r.text
    assert (await client.post(url + "/claim", headers=t.reps[1].headers)).status_code == 200
    return str(c["full_name"])


def _period() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "period_start": (now - timedelta(days=1)).isoformat(),
        "period_end": (now + timedelta(hours=1)).isoformat(),
    }


async def test_a_rep_gets_a_sealed_statement_of_their_changes_verifiable_and_mailed(
    client: Any, app: Any, admin_db: str, mailbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = await team(client, admin_db, reps=2)
    name = await _history(client, t)
    with timestamp_authority() as tsa:
        monkeypatch.setattr(get_settings(), "timestamp_url", tsa.url)
        anchor = await anchor_ledger(await TenantScope.for_job(t.owner.tenant_id))
        monkeypatch.setattr(get_settings(), "timestamp_url", None)
    assert anchor is not None
    rep = t.reps[0]
    r = await client.post("/api/v1/ownership/statements", json=_period(), headers=rep.headers)
    assert r.status_code == 202, r.text
    made = r.json()
    assert made["status"] == "pending" and made["membership_id"] == rep.membership_id
    await run_jobs(app)
    got = (await client.get(f"/api/v1/ownership/statements/{made['id']}", headers=rep.headers)).json()
    rows = await ledger_rows(admin_db, t.owner.tenant_id)
    mine = [
        r["seq"]
        for r in rows
        if rep.membership_id in (str(r["to_membership_id"]), str(r["from_membership_id"]))
    ]
    assert got["status"] == "ready" and got["entries"] == len(mine) == 2, got
    assert (got["first_seq"], got["last_seq"]) == (mine[0], mine[-1])
    assert got["anchor_seq"] == anchor.head_seq
    pdf = (await client.get(f"/api/v1/ownership/statements/{made['id']}/pdf", headers=rep.headers)).content
    assert pdf.startswith(b"%PDF") and (await asyncio.to_thread(check_seal, pdf)).valid
    text = _text(pdf)
    assert (
        "Ownership statement" in text
        and name in text
        and "Claimed from the pool" in text
        and "Released to the pool" in text
    )
    assert anchor.token_sha256 in text.replace(" ", "").replace("\n", "")
    cjk = [line.split() for line in _fonts(pdf).splitlines() if "CJK" in line]
    assert cjk and all(tokens[-5] == "yes" for tokens in cjk), cjk  # the CJK fonts are embedded
    verdict = (await client.post("/api/v1/verify", files={"file": ("s.pdf", pdf, "application/pdf")})).json()
    assert verdict["verdict"] == "intact" and verdict["statement_id"] == made["id"], verdict
    tampered = pdf.replace(b"Ownership", b"Ownersh1p", 1) if b"Ownership" in pdf else pdf[:-10] + b"0" * 10
    changed = (
        await client.post("/api/v1/verify", files={"file": ("s.pdf", tampered, "application/pdf")})
    ).json()
    assert changed["verdict"] != "intact"
    mail = [m for m in mails_to(mailbox, rep.email) if "ownership statement" in str(m["Subject"]).lower()]
    assert len(mail) == 1
    attached = [p for p in mail[0].iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(attached) == 1 and attached[0].get_content() == pdf
    await run_jobs(app)  # run again: nothing new (one mail, one statement)
    assert len([m for m in mails_to(mailbox, rep.email) if "statement" in str(m["Subject"]).lower()]) == 1


async def test_a_statement_in_chinese(client: Any, app: Any, admin_db: str) -> None:
    t = await team(client, admin_db, reps=2)
    await _history(client, t)
    await set_locale(admin_db, t.reps[0], "zh-CN")
    r = await client.post("/api/v1/ownership/statements", json=_period(), headers=t.reps[0].headers)
    assert r.status_code == 202
    await run_jobs(app)
    pdf = (
        await client.get(f"/api/v1/ownership/statements/{r.json()['id']}/pdf", headers=t.reps[0].headers)
    ).content
    text = _text(pdf)
    assert "归属变更对账单" in text and "认领" in text and "苏州精密机械有限公司" in text, text[:500]


async def test_who_may_ask_and_see_and_bad_periods(client: Any, app: Any, admin_db: str) -> None:
    t = await team(client, admin_db, reps=2)
    other = await team(client, admin_db, reps=1)
    a, b = t.reps
    url = "/api/v1/ownership/statements"
    r = await client.post(url, json={**_period(), "membership_id": b.membership_id}, headers=a.headers)
    assert r.status_code == 403
    r = await client.post(url, json={**_period(), "membership_id": b.membership_id}, headers=t.owner.headers)
    assert r.status_code == 202
    theirs = r.json()["id"]
    r = await client.post(
        url, json={**_period(), "membership_id": other.reps[0].membership_id}, headers=t.owner.headers
    )
    assert r.status_code == 404  # not a member of this tenant
    now = datetime.now(UTC)
    for start, end in ((now, now - timedelta(days=1)), (now - timedelta(days=500), now)):
        r = await client.post(
            url, json={"period_start": start.isoformat(), "period_end": end.isoformat()}, headers=a.headers
        )
        assert r.status_code == 422, r.text
    assert (await client.get(f"{url}/{theirs}", headers=a.headers)).status_code == 404  # b's, not a's
    assert (await client.get(f"{url}/{theirs}", headers=b.headers)).status_code == 200
    assert (await client.get(f"{url}/{theirs}/pdf", headers=b.headers)).status_code == 409  # not made yet
    assert [s["id"] for s in (await client.get(url, headers=a.headers)).json()["items"]] == []
    listed = (
        await client.get(url, params={"membership_id": b.membership_id}, headers=t.owner.headers)
    ).json()
    assert [s["id"] for s in listed["items"]] == [theirs]
    await run_jobs(app)
    for path in (f"{url}/{theirs}", f"{url}/{theirs}/pdf"):
        assert (await client.get(path, headers=other.owner.headers)).status_code == 404
    async with db.transaction(UUID(t.owner.tenant_id)) as tx:
        audited = await tx.fetchval(
            "SELECT count(*) FROM audit_log WHERE tenant = $1 AND action = 'statement.requested'",
            UUID(t.owner.tenant_id),
        )
    assert audited == 1


async def test_the_monthly_statements_come_once_on_the_first(client: Any, app: Any, admin_db: str) -> None:
    t = await team(client, admin_db, reps=2)
    await _history(client, t)
    scope = await TenantScope.for_job(t.owner.tenant_id)
    now = datetime.now(UTC)
    first = (now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=12)  # next month's 1st, noon UTC
    start, end = previous_month(first, scope.time_zone)
    assert start.day == 1 and end.day == 1 and start < now < end
    assert await monthly_statements_for(scope, first + timedelta(days=1)) == 0  # not the 1st
    assert await monthly_statements_for(scope, first) == 2  # the two reps (the owner had no changes)
    assert await monthly_statements_for(scope, first + timedelta(hours=3)) == 0  # once a month
    await run_jobs(app)
    listed = (await client.get("/api/v1/ownership/statements", headers=t.reps[1].headers)).json()["items"]
    assert len(listed) == 1 and listed[0]["kind"] == "monthly" and listed[0]["status"] == "ready"
    assert listed[0]["entries"] == 1  # rep 1's claim


async def test_my_statements_page_asks_lists_and_downloads(client: Any, app: Any, admin_db: str) -> None:
    t = await team(client, admin_db, reps=2)
    await _history(client, t)
    csrf = await sign_in(client, t.reps[0])
    page = await client.get("/statements")
    assert page.status_code == 200 and "My statements" in page.text and 'id="no-statements"' in page.text
    assert 'id="ask-member"' not in page.text  # a rep asks for their own only
    month = datetime.now(UTC).strftime("%Y-%m")
    r = await client.post("/statements", data={"from": "2026-13", "to": month}, headers=htmx(csrf))
    assert r.status_code == 422 and "Choose a month" in r.text
    r = await client.post("/statements", data={"from": month, "to": month}, headers=htmx(csrf))
    assert r.status_code == 200 and r.headers["hx-redirect"] == "/statements"
    await run_jobs(app)
    page = await client.get("/statements")
    assert "Download the sealed PDF" in page.text and "2 changes" in page.text
    sid = page.text.split('id="statement-', 1)[1].split('"', 1)[0]
    pdf = await client.get(f"/statements/{sid}/pdf")
    assert (
        pdf.status_code == 200
        and pdf.headers["content-type"] == "application/pdf"
        and (await asyncio.to_thread(check_seal, pdf.content)).valid
    )
    other = await team(client, admin_db, reps=1)
    await sign_in(client, other.owner)
    assert (await client.get(f"/statements/{sid}/pdf")).status_code == 404
    manager_page = await client.get("/statements", headers=HTMX)
    assert manager_page.status_code == 200
