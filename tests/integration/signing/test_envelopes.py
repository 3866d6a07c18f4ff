"""Envelopes end to end through the API and the signing page (typed signatures; the drawn one is the
e2e test's): sequential order, completion with a PAdES seal, tokens, states, tenancy."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from app.signing.seal import check_seal
from tests.helpers import run_jobs, signup
from tests.integration.signing.support import (
    count_mails,
    link_for,
    make_envelope,
    nonce_of,
    ready_contract,
    sign_typed,
    signer,
)


async def test_sequential_signing_completes_with_a_valid_seal(client: Any, app: Any, mailbox: Any) -> None:
    owner = await signup(client)
    doc = await ready_contract(client, app, owner)
    first, second = signer("李雷"), signer("Han Meimei", "en")
    env = await make_envelope(
        client, owner, doc, [first, second], cc=[{"name": "CC", "email": "cc@example.com"}]
    )
    assert env["status"] == "sent" and [s["status"] for s in env["signers"]] == ["sent", "pending"]
    await run_jobs(app)
    assert count_mails(mailbox, first["email"]) == 1 and count_mails(mailbox, second["email"]) == 0
    token = link_for(mailbox, first["email"])
    page = await client.get(f"/sign/{token}")
    assert page.status_code == 200 and "软件销售合同" in page.text and "纸质" in page.text
    assert "Content-Security-Policy" in page.headers and 'src="/sign-assets/signature.js"' in page.text
    image = await client.get(f"/sign/{token}/pages/1")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    r = await client.post(
        f"/sign/{token}/sign",
        data={"nonce": nonce_of(page.text), "consent": "yes", "kind": "typed", "typed_name": "李雷"},
    )
    assert r.status_code == 200 and "您已签署" in r.text, r.text
    await run_jobs(app)
    assert count_mails(mailbox, second["email"]) == 1  # only now: the second signer's turn
    r = await sign_typed(client, link_for(mailbox, second["email"]), "Han Meimei")
    assert r.status_code == 200 and "you have signed" in r.text
    await run_jobs(app)
    env = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert env["status"] == "completed" and env["sealed_sha256"], env
    async with __import__("httpx").AsyncClient() as http:
        sealed = (await http.get(env["signed_pdf_url"])).content
    assert hashlib.sha256(sealed).hexdigest() == env["sealed_sha256"]
    check = await asyncio.to_thread(check_seal, sealed)  # pyHanko's sync API runs its own event loop
    assert check.signed and check.intact and check.covers_whole_file
    # everybody gets the signed PDF: both signers (a download link on the signing page) and the sender
    assert count_mails(mailbox, owner.email) == 1 and count_mails(mailbox, "cc@example.com") == 1
    done = link_for(mailbox, first["email"])
    page = await client.get(f"/sign/{done}")
    assert page.status_code == 200 and "/signed.pdf" in page.text
    pdf = await client.get(f"/sign/{done}/signed.pdf")
    assert pdf.status_code == 200 and pdf.content == sealed
    evidence = (await client.get(f"/api/v1/envelopes/{env['id']}/evidence", headers=owner.headers)).json()
    assert evidence["chain_ok"] is True
    events = [e["event"] for e in evidence["events"]]
    for name in ("created", "sent", "viewed", "consented", "signed", "completed"):
        assert name in events
