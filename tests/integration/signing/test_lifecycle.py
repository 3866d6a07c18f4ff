"""Envelope states through the signing link: reuse, void, decline, expiry, reminders; the evidence
chain; another tenant's ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from app import db
from app.signing import evidence
from app.signing.jobs import complete_envelope, expire_envelopes, send_reminders
from tenants.scope import TenantScope
from tests.helpers import connect, run_jobs, signup
from tests.integration.signing.support import (
    count_mails,
    link_for,
    make_envelope,
    nonce_of,
    ready_contract,
    sign_typed,
    signer,
)


@pytest.fixture
async def owner_doc(client: Any, app: Any) -> tuple[Any, str]:
    owner = await signup(client)
    return owner, await ready_contract(client, app, owner)


async def test_a_used_link_shows_a_clear_page_and_cannot_sign_twice(
    client: Any, app: Any, mailbox: Any, owner_doc: tuple[Any, str]
) -> None:
    owner, doc = owner_doc
    a, b = signer("甲"), signer("乙")
    await make_envelope(client, owner, doc, [a, b])
    await run_jobs(app)
    token = link_for(mailbox, a["email"])
    page = await client.get(f"/sign/{token}")
    nonce = nonce_of(page.text)
    r = await client.post(
        f"/sign/{token}/sign", data={"nonce": nonce, "consent": "yes", "kind": "typed", "typed_name": "甲"}
    )
    assert r.status_code == 200
    again = await client.get(f"/sign/{token}")
    assert again.status_code == 200 and "谢谢，您已签署" in again.text and 'name="nonce"' not in again.text
    replay = await client.post(
        f"/sign/{token}/sign", data={"nonce": nonce, "consent": "yes", "kind": "typed", "typed_name": "甲"}
    )
    assert replay.status_code == 200 and "谢谢，您已签署" in replay.text
    bogus = await client.get(f"/sign/{owner.tenant_id.replace('-', '')}.{'x' * 43}")
    assert bogus.status_code == 404 and "This signing link is not valid" in bogus.text


async def test_form_posts_need_the_pages_nonce_and_consent(
    client: Any, app: Any, mailbox: Any, owner_doc: tuple[Any, str]
) -> None:
    owner, doc = owner_doc
    a = signer("Ann", "en")
    env = await make_envelope(client, owner, doc, [a])
    await run_jobs(app)
    token = link_for(mailbox, a["email"])
    page = await client.get(f"/sign/{token}")
    r = await client.post(
        f"/sign/{token}/sign",
        data={"nonce": "forged", "consent": "yes", "kind": "typed", "typed_name": "Ann"},
    )
    assert r.status_code == 400 and "This page has expired" in r.text
    r = await client.post(
        f"/sign/{token}/sign", data={"nonce": nonce_of(r.text), "kind": "typed", "typed_name": "Ann"}
    )
    assert r.status_code == 400 and "agree to sign electronically" in r.text
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert got["signers"][0]["status"] == "viewed" and page.status_code == 200


async def test_void_tells_the_signers_and_the_link_shows_a_clear_page(
    client: Any, app: Any, mailbox: Any, owner_doc: tuple[Any, str]
) -> None:
    owner, doc = owner_doc
    a, b = signer("甲"), signer("乙")
    env = await make_envelope(client, owner, doc, [a, b], signing_order="parallel")
    await run_jobs(app)
    token = link_for(mailbox, a["email"])
    r = await client.post(
        f"/api/v1/envelopes/{env['id']}/void", json={"reason": "价格有误"}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "voided"
    await run_jobs(app)
    for person in (a, b):
        assert count_mails(mailbox, person["email"]) == 2  # the request, then the cancellation
    page = await client.get(f"/sign/{token}")
    assert page.status_code == 410 and "此签署请求已取消" in page.text
    again = await client.post(
        f"/api/v1/envelopes/{env['id']}/void", json={"reason": "x"}, headers=owner.headers
    )
    assert again.status_code == 409


async def test_decline_closes_the_envelope_and_tells_the_sender(
    client: Any, app: Any, mailbox: Any, owner_doc: tuple[Any, str]
) -> None:
    owner, doc = owner_doc
    a = signer("Ann", "en")
    env = await make_envelope(client, owner, doc, [a])
    await run_jobs(app)
    token = link_for(mailbox, a["email"])
    page = await client.get(f"/sign/{token}")
    r = await client.post(
        f"/sign/{token}/decline", data={"nonce": nonce_of(page.text), "reason": "Wrong price"}
    )
    assert r.status_code == 410 and "declined" in r.text
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert got["status"] == "declined" and got["signers"][0]["decline_reason"] == "Wrong price"
    await run_jobs(app)
    assert count_mails(mailbox, owner.email) == 1
    assert (await client.get(f"/sign/{token}")).status_code == 410


async def test_reminders_at_most_three_then_expiry(
    client: Any, app: Any, mailbox: Any, owner_doc: tuple[Any, str]
) -> None:
    owner, doc = owner_doc
    a = signer("Ann", "en")
    env = await make_envelope(client, owner, doc, [a], expiry_days=30)
    scope = await TenantScope.for_job(owner.tenant_id)
    start = datetime.now(UTC)
    assert await send_reminders(scope, start + timedelta(days=1)) == 0  # not due yet
    counts = [await send_reminders(scope, start + timedelta(days=3 * n + 0.1)) for n in range(1, 6)]
    assert counts == [1, 1, 1, 0, 0]
    await run_jobs(app)
    assert count_mails(mailbox, a["email"]) == 4  # the request + three reminders
    token = link_for(mailbox, a["email"])  # a reminder's own link works
    assert (await client.get(f"/sign/{token}")).status_code == 200
    assert await expire_envelopes(scope, start + timedelta(days=29)) == 0
    assert await expire_envelopes(scope, start + timedelta(days=31)) == 1
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert got["status"] == "expired"
    page = await client.get(f"/sign/{token}")
    assert page.status_code == 410 and "expired" in page.text
    events = (await client.get(f"/api/v1/envelopes/{env['id']}/evidence", headers=owner.headers)).json()
    assert [e["event"] for e in events["events"]].count("reminded") == 3 and events["chain_ok"]


async def test_evidence_is_append_only_and_tampering_is_detected(
    client: Any, app: Any, admin_db: str, mailbox: Any, owner_doc: tuple[Any, str]
) -> None:
    owner, doc = owner_doc
    a = signer("Ann", "en")
    env = await make_envelope(client, owner, doc, [a])
    await run_jobs(app)
    await sign_typed(client, link_for(mailbox, a["email"]), "Ann")
    env_id, tenant = UUID(env["id"]), UUID(owner.tenant_id)
    async with db.transaction(tenant) as tx:
        assert (await evidence.verify_chain(tx, env_id)).ok
    with pytest.raises(Exception, match=r"permission denied|append-only"):
        async with db.transaction(tenant) as tx:
            await tx.execute("UPDATE envelope_events SET ip = '10.0.0.1' WHERE envelope_id = $1", env_id)
    with pytest.raises(Exception, match=r"permission denied|append-only"):
        async with db.transaction(tenant) as tx:
            await tx.execute("DELETE FROM envelope_events WHERE envelope_id = $1", env_id)
    async with connect(admin_db) as conn:  # the owner role, bypassing the trigger, edits one entry
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "UPDATE envelope_events SET ip = '10.0.0.1' WHERE envelope_id = $1 AND event = 'signed'", env_id
        )
    got = (await client.get(f"/api/v1/envelopes/{env['id']}/evidence", headers=owner.headers)).json()
    assert got["chain_ok"] is False and got["first_broken_seq"] is not None
    # evidence that does not verify is never certified nor sealed: the envelope stays out
    assert await complete_envelope({}, owner.tenant_id, env["id"]) == "evidence-broken"
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert got["status"] == "sent" and got["sealed_sha256"] is None


async def test_another_tenants_envelope_ids_answer_404(
    client: Any, app: Any, owner_doc: tuple[Any, str]
) -> None:
    owner, doc = owner_doc
    env = await make_envelope(client, owner, doc, [signer()], send=False)
    other = await signup(client)
    base = f"/api/v1/envelopes/{env['id']}"
    assert (await client.get(base, headers=other.headers)).status_code == 404
    assert (await client.get(base + "/evidence", headers=other.headers)).status_code == 404
    assert (await client.post(base + "/send", headers=other.headers)).status_code == 404
    assert (await client.post(base + "/void", json={"reason": "x"}, headers=other.headers)).status_code == 404
    r = await client.post(
        "/api/v1/envelopes", headers=other.headers, json={"document_id": doc, "signers": [signer()]}
    )
    assert r.status_code == 404
    listed = (await client.get("/api/v1/envelopes", headers=other.headers)).json()
    assert listed["items"] == []
    mine = (await client.get("/api/v1/envelopes", headers=owner.headers)).json()
    assert [e["id"] for e in mine["items"]] == [env["id"]]


async def test_expiry_spares_an_envelope_that_only_awaits_its_seal(
    client: Any, app: Any, mailbox: Any, owner_doc: tuple[Any, str]
) -> None:
    owner, doc = owner_doc
    a = signer("Ann", "en")
    env = await make_envelope(client, owner, doc, [a])
    await run_jobs(app)
    await sign_typed(client, link_for(mailbox, a["email"]), "Ann")  # the completion job is queued, not run
    later = datetime.now(UTC) + timedelta(days=31)
    assert await expire_envelopes(await TenantScope.for_job(owner.tenant_id), later) == 0
    await run_jobs(app)
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert got["status"] == "completed"
