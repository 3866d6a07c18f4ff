"""The signing page in real Chromium against a real HTTP server on loopback: two sequential signers
(the first draws with the mouse, the second types), the sealed PDF checked by pyHanko and by Poppler's
``pdfsig`` — and one changed byte makes both say it is invalid."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from app import db
from app.signing.seal import check_seal
from tests.e2e.conftest import CHROMIUM
from tests.helpers import run_jobs, signup
from tests.integration.signing.support import count_mails, link_for, make_envelope, ready_contract, signer

pytestmark = pytest.mark.e2e


def pdfsig(pdf: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


async def test_two_signers_in_chromium_and_the_seal_validates(
    client: Any, app: Any, mailbox: Any, base_url: str
) -> None:
    if not Path(CHROMIUM).exists():  # noqa: ASYNC240 - one stat before the test starts
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.async_api import async_playwright

    owner = await signup(client)
    doc = await ready_contract(client, app, owner)
    first, second = signer("李雷"), signer("Han Meimei", "en")
    env = await make_envelope(client, owner, doc, [first, second])
    await run_jobs(app)
    assert count_mails(mailbox, first["email"]) == 1 and count_mails(mailbox, second["email"]) == 0
    link = link_for(mailbox, first["email"])

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            await page.goto(f"{base_url}/sign/{link}")
            await page.wait_for_selector("img[alt]")
            assert await page.locator(".pages img").count() >= 1
            await page.check("#consent")
            # Let every page image load first (they push the pad down on a phone; they are lazy, so
            # the load event does not wait for them), then bring the pad into view: mouse strokes
            # outside the pad would leave it empty.
            await page.evaluate(
                "Promise.all([...document.images].map(i => { i.loading = 'eager';"
                " return i.complete ? null : new Promise(r => { i.onload = i.onerror = r; }); }))"
            )
            await page.locator("#pad").scroll_into_view_if_needed()
            pad = await page.locator("#pad").bounding_box()
            assert pad is not None
            await page.mouse.move(pad["x"] + 20, pad["y"] + pad["height"] * 0.6)
            await page.mouse.down()
            for i in range(1, 25):
                await page.mouse.move(
                    pad["x"] + 20 + i * 10, pad["y"] + pad["height"] * (0.6 - 0.3 * (i % 2))
                )
            await page.mouse.up()
            await page.click("#sign-button")
            await page.wait_for_selector("text=谢谢，您已签署")

            await run_jobs(app)
            assert count_mails(mailbox, second["email"]) == 1  # only after the first signed
            second_link = link_for(mailbox, second["email"])
            page2 = await browser.new_page()
            await page2.goto(f"{base_url}/sign/{second_link}")
            await page2.check("#consent")
            await page2.check("#kind-typed")
            await page2.fill("#typed_name", "Han Meimei")
            await page2.click("#sign-button")
            await page2.wait_for_selector("text=Thank you, you have signed")
        finally:
            await browser.close()

    await run_jobs(app)
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert got["status"] == "completed", got
    drawn = next(s for s in got["signers"] if s["email"] == first["email"])
    assert drawn["status"] == "signed"
    async with db.transaction(UUID(owner.tenant_id)) as tx:
        kinds = await tx.fetch(
            "SELECT signature_kind FROM envelope_signers WHERE envelope_id = $1 ORDER BY position",
            UUID(env["id"]),
        )
    assert [k["signature_kind"] for k in kinds] == ["drawn", "typed"]  # the canvas drawing was submitted
    async with httpx.AsyncClient() as http:
        sealed = (await http.get(got["signed_pdf_url"])).content

    check = await asyncio.to_thread(check_seal, sealed)
    assert check.signed and check.intact and check.valid and check.covers_whole_file
    report = pdfsig(sealed)
    assert "Signature is Valid." in report and "Total document signed" in report, report

    tampered = bytearray(sealed)
    position = sealed.index(b"\n%") + 3  # a byte of the binary comment line: inside the signed range
    tampered[position] ^= 0x01
    bad = bytes(tampered)
    check = await asyncio.to_thread(check_seal, bad)
    assert check.signed and not check.intact and not check.valid
    report = pdfsig(bad)
    assert "Signature is Valid." not in report and ("Digest Mismatch" in report or "Invalid" in report), (
        report
    )
