from __future__ import annotations

import asyncio
import os
import secrets
from email.utils import parsedate_to_datetime
from typing import Any
from uuid import uuid4

import pytest
from arq import Retry
from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus
from arq.utils import timestamp_ms

from app import mail
from app.dev import free_port
from app.settings import get_settings
from tests.helpers import connect, mails_to, run_jobs, signup


async def _email_row(admin_db: str, address: str) -> dict[str, Any]:
    async with connect(admin_db) as conn:
        row = await conn.fetchrow(
            "SELECT e.*, o.enqueued_at, o.attempts AS relay_attempts, o.last_error AS relay_error, o.job_id"
            " FROM emails e JOIN outbox o ON o.job_id = 'send_email:' || e.id::text WHERE e.to_addr = $1",
            address,
        )
    assert row is not None, f"no email queued for {address}"
    return dict(row)


async def _invite(client: Any, owner: Any) -> str:
    address = f"out-{secrets.token_hex(4)}@example.com"
    r = await client.post("/api/v1/invitations", json={"email": address}, headers=owner.headers)
    assert r.status_code == 201, r.text
    return address


async def test_invitation_mail_survives_a_redis_outage_and_is_sent_once(client, app, mailbox, admin_db):
    owner = await signup(client)
    real_redis = app.state.relay.redis
    app.state.relay.redis = ArqRedis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    try:
        address = await _invite(client, owner)  # the request commits and answers even though Redis is down
        row = await _email_row(admin_db, address)
        for _ in range(600):  # the relay runs in the background after the commit; wait until it has tried
            if row["relay_attempts"] >= 1:
                break
            await asyncio.sleep(0.05)
            row = await _email_row(admin_db, address)
        assert row["relay_attempts"] >= 1, "the relay never tried"
        assert row["enqueued_at"] is None and row["relay_error"]
        assert row["sent_at"] is None
        assert mails_to(mailbox, address) == []
    finally:
        await app.state.relay.redis.aclose()
        app.state.relay.redis = real_redis

    await run_jobs(app)
    sent = mails_to(mailbox, address)
    assert len(sent) == 1
    assert "/invite/" in sent[0].get_body(preferencelist=("plain",)).get_content()
    row = await _email_row(admin_db, address)
    assert row["enqueued_at"] is not None and row["sent_at"] is not None and row["attempts"] == 1

    # ARQ delivers at least once: the same job again (another job id) must not send a second mail
    job = await app.state.arq.enqueue_job(
        "send_email", str(row["tenant"]), str(row["id"]), _job_id=f"send_email:again:{uuid4()}"
    )
    assert job is not None
    await run_jobs(app)
    assert await job.result(timeout=10) == "already-sent"
    assert len(mails_to(mailbox, address)) == 1
    assert (await _email_row(admin_db, address))["attempts"] == 1


async def test_send_email_marks_the_row_sent_with_a_stable_message_id(client, app, mailbox, admin_db):
    owner = await signup(client)
    address = await _invite(client, owner)
    await run_jobs(app)
    row = await _email_row(admin_db, address)
    assert row["sent_at"] is not None and row["last_error"] is None and row["claimed_at"] is not None
    (first,) = mails_to(mailbox, address)
    assert first["Subject"] == row["subject"]
    # RFC 5322: a Date (when queued) and a Message-ID at the sender's domain
    assert first["Message-ID"] == f"<{row['id']}@acre.localhost>"
    assert parsedate_to_datetime(first["Date"]) == row["created_at"].replace(microsecond=0)

    # The worker died after SMTP accepted the mail but before it marked the row: the claim goes stale and
    # the mail goes out again, with the same Message-ID so that the receiving side can drop the copy.
    async with connect(admin_db) as conn:
        await conn.execute(
            "UPDATE emails SET sent_at = NULL, claimed_at = now() - interval '1 hour' WHERE id = $1",
            row["id"],
        )
    assert await mail.send_email({}, str(row["tenant"]), str(row["id"])) == "sent"
    again = mails_to(mailbox, address)
    assert len(again) == 2
    assert again[1]["Message-ID"] == first["Message-ID"] and again[1]["Date"] == first["Date"]

    # While another attempt holds a fresh claim, a second run does not send; nor does it finish (the
    # claim may belong to a worker that died, whose job ARQ reruns well within the claim timeout):
    # it retries after the claim has gone stale.
    async with connect(admin_db) as conn:
        await conn.execute("UPDATE emails SET sent_at = NULL, claimed_at = now() WHERE id = $1", row["id"])
    with pytest.raises(Retry) as retry:
        await mail.send_email({}, str(row["tenant"]), str(row["id"]))
    assert retry.value.defer_score is not None and retry.value.defer_score > mail.TIMEOUT_SECONDS * 1000
    assert len(mails_to(mailbox, address)) == 2
    # an email that does not exist (or belongs to another tenant) is not retried forever
    assert await mail.send_email({}, str(row["tenant"]), str(uuid4())) == "missing"


async def test_failing_smtp_leaves_the_mail_unsent_and_the_job_retries(client, app, mailbox, admin_db):
    owner = await signup(client)
    await run_jobs(app)  # drain jobs other tests left queued: below, one burst job must be ours
    address = await _invite(client, owner)
    row = await _email_row(admin_db, address)
    tenant_id, email_id = str(row["tenant"]), str(row["id"])

    saved = os.environ["ACRE_SMTP_PORT"]
    os.environ["ACRE_SMTP_PORT"] = str(free_port())
    get_settings.cache_clear()
    try:
        with pytest.raises(Retry):
            await mail.send_email({"job_try": 1}, tenant_id, email_id)
        row = await _email_row(admin_db, address)
        assert row["sent_at"] is None and row["claimed_at"] is None
        assert row["last_error"] and row["attempts"] == 1

        # through ARQ: the failed job is scheduled again rather than dropped
        await run_jobs(app, max_burst_jobs=1)
        job = Job(row["job_id"], app.state.arq, _queue_name=get_settings().queue_name)
        assert await job.status() == JobStatus.deferred
        row = await _email_row(admin_db, address)
        assert row["sent_at"] is None and row["attempts"] == 2
    finally:
        os.environ["ACRE_SMTP_PORT"] = saved
        get_settings.cache_clear()
        # SMTP is back: let the deferred retry fall due now rather than in 30 s (a burst worker, here or
        # in a later test, waits for every deferred job)
        await app.state.arq.zadd(get_settings().queue_name, {row["job_id"]: timestamp_ms()}, xx=True)
    assert mails_to(mailbox, address) == []

    await run_jobs(app)
    assert await job.result(timeout=10) == "sent"
    assert len(mails_to(mailbox, address)) == 1
    row = await _email_row(admin_db, address)
    assert row["sent_at"] is not None and row["last_error"] is None and row["attempts"] == 3
    # and a further run changes nothing
    assert await mail.send_email({}, tenant_id, email_id) == "already-sent"
    assert len(mails_to(mailbox, address)) == 1
