"""The verify API and page: a PDF we sealed (intact), the same with one byte changed (modified), a PDF
we never sealed (unknown)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import run_jobs, signup
from tests.integration.signing.support import link_for, make_envelope, ready_contract, sign_typed, signer


async def test_verify_tells_intact_modified_and_unknown(client: Any, app: Any, mailbox: Any) -> None:
    owner = await signup(client)
    doc = await ready_contract(client, app, owner)
    a = signer("王芳")
    env = await make_envelope(client, owner, doc, [a])
    await run_jobs(app)
    await sign_typed(client, link_for(mailbox, a["email"]), "王芳")
    await run_jobs(app)
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert got["status"] == "completed"
    document = (await client.get(f"/api/v1/documents/{doc}", headers=owner.headers)).json()
    async with httpx.AsyncClient() as http:
        sealed = (await http.get(got["signed_pdf_url"])).content
        original = (await http.get(document["pdf"]["url"])).content

    async def verify(pdf: bytes) -> dict[str, Any]:
        r = await client.post("/api/v1/verify", files={"file": ("doc.pdf", pdf, "application/pdf")})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    ok = await verify(sealed)
    assert ok["verdict"] == "intact" and ok["sealed_by_us"] and ok["intact"]
    assert (
        ok["envelope_id"] == env["id"]
        and ok["signers"][0]["name"] == "王芳"
        and ok["signers"][0]["signed_at"]
    )
    changed = bytearray(sealed)
    changed[sealed.index(b"\n%") + 3] ^= 0x01
    bad = await verify(bytes(changed))
    assert bad["verdict"] == "modified" and not bad["intact"] and bad["envelope_id"] == env["id"]
    appended = await verify(sealed + b"\n% an incremental update after sealing\n")
    assert appended["verdict"] == "modified"
    unknown = await verify(original)
    assert unknown["verdict"] == "unknown" and unknown["envelope_id"] is None
    r = await client.post("/api/v1/verify", files={"file": ("x.txt", b"hello", "text/plain")})
    assert r.status_code == 422

    page = await client.get("/verify", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200 and "验证已签署的 PDF" in page.text
    result = await client.post(
        "/verify",
        files={"file": ("doc.pdf", sealed, "application/pdf")},
        headers={"accept-language": "zh-CN"},
    )
    assert result.status_code == 200 and "封签后未被修改" in result.text and env["id"] in result.text
