"""PAdES B-T: with ``timestamp_url`` set, the seal carries an RFC 3161 signature timestamp from that
TSA (a real one on loopback); pyHanko validates it and Poppler's ``pdfsig`` still calls the seal valid.
A TSA that cannot be reached never yields a B-B document in its place: the completion job retries."""

from __future__ import annotations

import asyncio
import hashlib
import io
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from arq import Retry
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from app import db
from app.dev import free_port
from app.settings import get_settings
from app.signing.jobs import complete_envelope, requeue_stalled_completions
from tenants.scope import TenantScope
from tests.helpers import run_jobs, signup
from tests.integration.signing.support import link_for, make_envelope, ready_contract, sign_typed, signer
from tests.integration.signing.tsa import timestamp_authority


def _validate(pdf: bytes, tsa_root: Any) -> Any:
    sig = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[-1]
    return sig, validate_pdf_signature(
        sig,
        ValidationContext(trust_roots=[sig.signer_cert]),
        ts_validation_context=ValidationContext(trust_roots=[tsa_root]),
    )


def _pdfsig(pdf: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


async def test_the_seal_is_b_t_with_a_valid_timestamp_from_the_configured_tsa(
    client: Any, app: Any, mailbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await signup(client)
    doc = await ready_contract(client, app, owner)
    a = signer("Ann", "en")
    env = await make_envelope(client, owner, doc, [a])
    await run_jobs(app)
    await sign_typed(client, link_for(mailbox, a["email"]), "Ann")
    with timestamp_authority() as tsa:
        monkeypatch.setattr(get_settings(), "timestamp_url", tsa.url)
        await run_jobs(app)
        monkeypatch.setattr(get_settings(), "timestamp_url", None)
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert got["status"] == "completed", got
    async with httpx.AsyncClient() as http:
        sealed = (await http.get(got["signed_pdf_url"])).content
    assert hashlib.sha256(sealed).hexdigest() == got["sealed_sha256"]
    assert len(tsa.requests) == 1  # one timestamp, over the seal's signature value
    sig, status = await asyncio.to_thread(_validate, sealed, tsa.root)
    assert status.intact and status.valid and status.trusted
    stamp = status.timestamp_validity
    assert stamp is not None and stamp.intact and stamp.valid and stamp.trusted
    assert abs(stamp.timestamp - datetime.now(UTC)) < timedelta(minutes=5)
    # the token sits in the seal's unsigned attributes (signature-time-stamp), its imprint is the hash
    # of this seal's signature value, and it is the answer to the request our TSA received
    tokens = [
        a["values"][0]
        for a in sig.signer_info["unsigned_attrs"]
        if a["type"].native == "signature_time_stamp_token"
    ]
    assert len(tokens) == 1
    token_info = tokens[0]["content"]["encap_content_info"]["content"].parsed
    imprint = tsa.requests[0]["message_imprint"]
    assert token_info["message_imprint"]["hashed_message"].native == imprint["hashed_message"].native
    signature_value = sig.signer_info["signature"].native
    assert imprint["hashed_message"].native == hashlib.sha256(signature_value).digest()
    verdict = (
        await client.post("/api/v1/verify", files={"file": ("doc.pdf", sealed, "application/pdf")})
    ).json()
    assert verdict["verdict"] == "intact" and verdict["envelope_id"] == env["id"]
    if shutil.which("pdfsig") is None:
        pytest.skip("Poppler's pdfsig is not installed")
    report = await asyncio.to_thread(_pdfsig, sealed)
    assert "Signature is Valid." in report and "Total document signed" in report, report


async def test_an_unreachable_tsa_makes_completion_retry_never_a_b_b_seal(
    client: Any, app: Any, mailbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await signup(client)
    doc = await ready_contract(client, app, owner)
    a = signer("Ann", "en")
    env = await make_envelope(client, owner, doc, [a])
    await run_jobs(app)
    await sign_typed(client, link_for(mailbox, a["email"]), "Ann")
    tenant, env_id = UUID(owner.tenant_id), UUID(env["id"])
    monkeypatch.setattr(get_settings(), "timestamp_url", f"http://127.0.0.1:{free_port()}/tsa")  # closed
    ctx = {"storage": app.state.storage, "job_try": 2}
    with pytest.raises(Retry) as raised:
        await complete_envelope(ctx, str(tenant), str(env_id))
    assert raised.value.defer_score == 60_000  # backs off: 30 s doubled per try
    async with db.transaction(tenant) as tx:
        row = await tx.fetchrow("SELECT status, sealed_key FROM envelopes WHERE id = $1", env_id)
        completed = await tx.fetchval(
            "SELECT count(*) FROM envelope_events WHERE envelope_id = $1 AND event = 'completed'", env_id
        )
    assert row["status"] == "sent" and row["sealed_key"] is None and completed == 0
    with pytest.raises(Exception):  # noqa: B017 - nothing was stored under the sealed key
        await app.state.storage.get(f"signing/{tenant}/{env_id}/signed.pdf")
    # once the TSA is back (here: none configured, B-B) the queued completion job finishes the work
    monkeypatch.setattr(get_settings(), "timestamp_url", None)
    await run_jobs(app)
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert got["status"] == "completed"


async def test_a_completion_that_gave_up_is_queued_again_by_the_hourly_sweep(
    client: Any, app: Any, mailbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await signup(client)
    doc = await ready_contract(client, app, owner)
    a = signer("Ann", "en")
    env = await make_envelope(client, owner, doc, [a])
    await run_jobs(app)
    await sign_typed(client, link_for(mailbox, a["email"]), "Ann")
    scope, env_id = await TenantScope.for_job(owner.tenant_id), UUID(env["id"])
    # the completion job exhausted its tries: drop it from the queue as ARQ would after the last one
    async with db.transaction(None) as tx:
        await tx.execute("DELETE FROM outbox WHERE job = 'complete_envelope' AND args->>1 = $1", str(env_id))
    now = datetime.now(UTC)
    assert await requeue_stalled_completions(scope, now) == 0  # signed just now: not stalled yet
    assert await requeue_stalled_completions(scope, now + timedelta(hours=1)) == 1
    await run_jobs(app)
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert got["status"] == "completed"
    assert await requeue_stalled_completions(scope, now + timedelta(hours=2)) == 0  # nothing left
