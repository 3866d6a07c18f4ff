"""The completion mail carries the sealed PDF as an attachment (read from storage when the mail is
sent, never copied into the outbox or the email row) besides a link; above the size limit, a link only."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

import httpx
import pytest
from arq import Retry

from app import db, mail
from app.settings import get_settings
from tests.helpers import mails_to, run_jobs, signup
from tests.integration.signing.support import link_for, make_envelope, ready_contract, sign_typed, signer

CC = "cc-attach@example.com"


async def _complete(client: Any, app: Any, mailbox: Any) -> tuple[Any, dict[str, Any], list[dict[str, str]]]:
    owner = await signup(client)
    doc = await ready_contract(client, app, owner)
    people = [signer("李雷"), signer("Han Meimei", "en")]
    env = await make_envelope(
        client, owner, doc, people, signing_order="parallel", cc=[{"name": "CC", "email": CC}]
    )
    await run_jobs(app)
    for person in people:
        r = await sign_typed(client, link_for(mailbox, person["email"]), person["name"])
        assert r.status_code == 200, r.text
    await run_jobs(app)
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert got["status"] == "completed", got
    return owner, got, people


def _pdfs(message: Any) -> list[Any]:
    return [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]


async def test_everyone_gets_the_sealed_pdf_attached_and_a_link(client: Any, app: Any, mailbox: Any) -> None:
    owner, env, people = await _complete(client, app, mailbox)
    async with httpx.AsyncClient() as http:
        sealed = (await http.get(env["signed_pdf_url"])).content
    assert hashlib.sha256(sealed).hexdigest() == env["sealed_sha256"]
    for address, zh in [
        (people[0]["email"], True),
        (people[1]["email"], False),
        (owner.email, False),
        (CC, True),
    ]:
        done = mails_to(mailbox, address)[-1]
        pdfs = _pdfs(done)
        assert len(pdfs) == 1, (address, [p.get_content_type() for p in done.iter_attachments()])
        assert pdfs[0].get_filename() == "软件销售合同.signed.pdf"
        assert pdfs[0].get_content() == sealed  # byte for byte the stored sealed PDF
        text = done.get_body(preferencelist=("plain",)).get_content()
        assert ("已作为附件" in text) if zh else ("attached to this email" in text), text
        assert "http://" in text  # and a link as well
    for person in people:  # the signers' link opens their signing page, which offers the download
        token = link_for(mailbox, person["email"])
        assert (await client.get(f"/sign/{token}/signed.pdf")).content == sealed
    async with db.transaction(UUID(owner.tenant_id)) as tx:
        keys = await tx.fetch(
            "SELECT attachment_key, attachment_type FROM emails WHERE idempotency_key LIKE $1",
            f"envelope:{env['id']}:completed:%",
        )
    assert len(keys) == 4
    assert {(r["attachment_key"], r["attachment_type"]) for r in keys} == {
        (f"signing/{owner.tenant_id}/{env['id']}/signed.pdf", "application/pdf")
    }
    async with db.transaction(None) as tx:  # the outbox holds ids, not the file
        biggest = await tx.fetchval(
            "SELECT max(octet_length(args::text)) FROM outbox WHERE job = 'send_email'"
        )
    assert biggest < 200


async def test_a_pdf_above_the_limit_is_sent_as_a_link_only(
    client: Any, app: Any, mailbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "mail_attachment_max_bytes", 1024)
    owner, env, people = await _complete(client, app, mailbox)
    for address in (people[1]["email"], owner.email):
        done = mails_to(mailbox, address)[-1]
        assert _pdfs(done) == []
        text = done.get_body(preferencelist=("plain",)).get_content()
        assert "attached" not in text and "Download the signed PDF" in text and "http://" in text, text
    async with db.transaction(UUID(owner.tenant_id)) as tx:
        attached = await tx.fetchval(
            "SELECT count(*) FROM emails WHERE idempotency_key LIKE $1 AND attachment_key IS NOT NULL",
            f"envelope:{env['id']}:completed:%",
        )
    assert attached == 0


async def test_the_send_job_reads_the_attachment_at_send_time(
    client: Any, app: Any, mailbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await signup(client)
    tenant = UUID(owner.tenant_id)
    key = f"tests/{tenant}/attachment.pdf"
    data = b"%PDF-1.7\n" + bytes(range(256)) * 8
    await app.state.storage.put(key, data, "application/pdf")
    context = {"template": "signing_completed", "locale": "en", "title": "T", "link": "http://x/y"}
    async with db.transaction(tenant) as tx:
        small = await mail.queue_email(
            tx, mail.Attachment(key, "合同.pdf"), to="small@example.com", key="att:small", **context
        )
        big = await mail.queue_email(
            tx, mail.Attachment(key, "b.pdf"), to="big@example.com", key="att:big", **context
        )
        gone = await mail.queue_email(
            tx, mail.Attachment(key + ".missing", "c.pdf"), to="gone@example.com", key="att:gone", **context
        )
    ctx = {"job_try": 1, "storage": app.state.storage}
    assert await mail.send_email(ctx, str(tenant), str(small)) == "sent"
    (part,) = _pdfs(mails_to(mailbox, "small@example.com")[-1])
    assert part.get_content() == data and part.get_filename() == "合同.pdf"
    # the limit was lowered after queueing: the mail still goes, without the file (its text has the link)
    monkeypatch.setattr(get_settings(), "mail_attachment_max_bytes", len(data) - 1)
    assert await mail.send_email(ctx, str(tenant), str(big)) == "sent"
    assert _pdfs(mails_to(mailbox, "big@example.com")[-1]) == []
    # the object cannot be read: a retry, nothing sent, the claim released for the next try
    with pytest.raises(Retry):
        await mail.send_email(ctx, str(tenant), str(gone))
    assert mails_to(mailbox, "gone@example.com") == []
    async with db.transaction(tenant) as tx:
        row = await tx.fetchrow("SELECT sent_at, claimed_at, last_error FROM emails WHERE id = $1", gone)
    assert row["sent_at"] is None and row["claimed_at"] is None and row["last_error"]
    # once the object is there, the queued job (the outbox's delivery of it) sends it; the other two
    # queued deliveries find their mail sent and send nothing twice
    await app.state.storage.put(key + ".missing", data, "application/pdf")
    monkeypatch.setattr(get_settings(), "mail_attachment_max_bytes", len(data))
    await run_jobs(app)
    assert len(_pdfs(mails_to(mailbox, "gone@example.com")[-1])) == 1
    assert len(mails_to(mailbox, "small@example.com")) == len(mails_to(mailbox, "big@example.com")) == 1
