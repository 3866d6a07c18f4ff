"""The receivers sign the handover sheet (交接单) through the signing flow: on execute, once the sheet
is rendered, each receiver (and, by the plan's option, each previous owner) gets the flow's email
link; the plan and its page show who has signed; the previous owner gets a warm-handoff task per
customer with an open deal, skipped by an undo."""

from __future__ import annotations

from typing import Any

import pytest

from app.documents.soffice import soffice_binary
from app.settings import get_settings
from tests.helpers import mails_to, run_jobs
from tests.integration.handover.support import db_rows, deal, owned, plan, team
from tests.integration.signing.support import link_for, sign_typed
from tests.integration.web.support import HTMX, sign_in


@pytest.fixture(autouse=True)
def _libreoffice() -> None:
    if soffice_binary(get_settings()) is None:
        pytest.skip("LibreOffice (soffice) is not installed: no sheet PDF to sign")


async def _signers(client: Any, t: Any, plan_id: str) -> dict[str, tuple[str, bool]]:
    r = await client.get(f"/api/v1/handovers/{plan_id}", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    return {s["email"]: (s["side"], s["signed"]) for s in r.json()["sheet_signers"]}


async def test_receivers_and_the_previous_owner_sign_the_sheet(client, admin_db, app, mailbox):
    t = await team(client, admin_db, reps=3)
    leaving, a, b = t.reps
    made = await owned(client, t, leaving, "AB")
    await deal(admin_db, t, made[0]["id"], leaving, "800.00")
    body = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": a.membership_id}, {"membership_id": b.membership_id}],
        options={"previous_owner_signs": True},
    )
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["sheet_signers"] == []  # the sheet is not rendered yet

    await run_jobs(app)
    assert await _signers(client, t, body["id"]) == {
        a.email: ("receiver", False),
        b.email: ("receiver", False),
        leaving.email: ("previous_owner", False),
    }
    envelopes = await db_rows(
        admin_db,
        "SELECT e.status, e.created_by::text, e.signing_order, d.kind FROM envelopes e JOIN documents d"
        " ON d.id = e.document_id WHERE e.subject_type = 'handover' AND e.subject_id = $1",
        body["id"],
    )
    assert [(e["status"], e["created_by"], e["signing_order"], e["kind"]) for e in envelopes] == [
        ("sent", t.owner.membership_id, "parallel", "handover")
    ]

    r = await sign_typed(client, link_for(mailbox, a.email), "王芳")
    assert r.status_code == 200, r.text
    await run_jobs(app)
    got = await _signers(client, t, body["id"])
    assert got[a.email] == ("receiver", True) and got[b.email] == ("receiver", False)

    await sign_in(client, t.owner)
    page = await client.get(f"/handovers/{body['id']}", params={"part": "sheet"}, headers=HTMX)
    assert page.status_code == 200
    assert f'<tr class="signed" data-email="{a.email}">' in page.text
    assert f'<tr class="unsigned" data-email="{b.email}">' in page.text
    assert "Not signed yet" in page.text and "Previous owner" in page.text

    for person in (b, leaving):
        r = await sign_typed(client, link_for(mailbox, person.email), "张伟")
        assert r.status_code == 200, r.text
    await run_jobs(app)
    assert set((await _signers(client, t, body["id"])).values()) == {
        ("receiver", True),
        ("previous_owner", True),
    }
    sealed = await db_rows(
        admin_db,
        "SELECT status, sealed_sha256 FROM envelopes WHERE subject_type = 'handover' AND subject_id = $1",
        body["id"],
    )
    assert sealed[0]["status"] == "completed" and sealed[0]["sealed_sha256"]
    done = mails_to(mailbox, a.email)[-1]
    assert any(p.get_content_type() == "application/pdf" for p in done.iter_attachments())

    # a second run of the jobs sends nothing again
    before = len(mails_to(mailbox, b.email))
    await run_jobs(app)
    assert len(mails_to(mailbox, b.email)) == before


async def test_warm_handoff_task_per_customer_with_an_open_deal_and_undo_skips_it(client, admin_db, app):
    t = await team(client, admin_db, reps=2)
    leaving, receiver = t.reps
    with_deal, without = await owned(client, t, leaving, "AC")
    await deal(admin_db, t, with_deal["id"], leaving, "300.00")
    body = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": receiver.membership_id}],
        mode="single",
    )
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    await run_jobs(app)  # the sheet's job makes them after the execution commits; twice, once
    await run_jobs(app)
    r = await client.get("/api/v1/tasks", params={"status": "open"}, headers=leaving.headers)
    assert r.status_code == 200, r.text
    tasks = [x for x in r.json()["items"] if x["source"] == "handover"]
    assert [(x["customer_id"], x["kind"]) for x in tasks] == [(with_deal["id"], "call")]
    name = await db_rows(admin_db, "SELECT name FROM users WHERE id = $1::uuid", receiver.user_id)
    assert name[0]["name"] in tasks[0]["note"] and tasks[0]["note"].startswith("Warm handoff")

    # only the receiver signs by default
    assert await _signers(client, t, body["id"]) == {receiver.email: ("receiver", False)}

    r = await client.post(f"/api/v1/handovers/{body['id']}/undo", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    left = await db_rows(
        admin_db, "SELECT status, close_reason FROM sales_tasks WHERE handover_plan_id = $1::uuid", body["id"]
    )
    assert [(x["status"], x["close_reason"]) for x in left] == [("skipped", "handover_undone")]
    assert without["id"] not in {x["customer_id"] for x in tasks}


async def test_a_handover_to_the_pool_asks_nobody_to_sign(client, admin_db, app):
    t = await team(client, admin_db, reps=1)
    (leaving,) = t.reps
    await owned(client, t, leaving, "B")
    body = await plan(client, t.owner, selection={"owner_ids": [leaving.membership_id]}, mode="pool")
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    await run_jobs(app)
    assert await _signers(client, t, body["id"]) == {}
    assert not await db_rows(admin_db, "SELECT 1 FROM envelopes WHERE subject_id = $1", body["id"])
