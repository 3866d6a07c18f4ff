"""The certificate of completion, read back from the sealed PDF as its reader would: the text by
pdftotext, the QR code by a scanner (zbarimg) on the rendered page."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from tests.helpers import connect, run_jobs, signup
from tests.integration.documents.conftest import fetch
from tests.integration.signing.support import link_for, make_envelope, nonce_of, ready_contract, signer

DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
)
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/18.1 Mobile/15E148 Safari/604.1"
)
TITLE = "签署完成证明"


def _drawing() -> str:
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 80), (80, 20), (150, 70), (290, 30)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _local(value: datetime) -> str:
    """The tenant's local time (Asia/Shanghai, from ``signup``) with the offset, whitespace removed."""
    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d%H:%M:%SUTC+08:00")


def _pages_text(pdf: bytes) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout
    return out.decode("utf-8").split("\f")


def _qr_codes(pdf: bytes, first: int, last: int) -> list[str]:
    """What a scanner reads on pages ``first``..``last`` (1-based) printed at 150 dpi."""
    if shutil.which("zbarimg") is None:
        pytest.skip("zbarimg (Debian zbar-tools) is not installed: the certificate's QR code is not read")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "150", "-f", str(first), "-l", str(last), str(path), f"{tmp}/p"],
            check=True,
        )
        found = subprocess.run(
            ["zbarimg", "--quiet", "--raw", *sorted(str(p) for p in Path(tmp).glob("p*.png"))],
            capture_output=True,
            check=False,
        )
    return found.stdout.decode().split()


async def _sign(client: Any, token: str, agent: str, **form: str) -> None:
    page = await client.get(f"/sign/{token}", headers={"user-agent": agent})
    assert page.status_code == 200, page.text
    r = await client.post(
        f"/sign/{token}/sign",
        headers={"user-agent": agent},
        data={"nonce": nonce_of(page.text), "consent": "yes", **form},
    )
    assert r.status_code == 200 and 'name="nonce"' not in r.text, r.text


async def test_the_certificate_states_every_fact_of_the_signing(
    client: Any, app: Any, mailbox: Any, admin_db: str
) -> None:
    owner = await signup(client, locale="zh-CN")
    doc = await ready_contract(client, app, owner)
    first, second = signer("李雷"), signer("Han Meimei", "en")
    env = await make_envelope(client, owner, doc, [first, second])
    await run_jobs(app)
    await _sign(client, link_for(mailbox, first["email"]), DESKTOP, kind="typed", typed_name="李雷")
    await run_jobs(app)
    await _sign(client, link_for(mailbox, second["email"]), PHONE, kind="drawn", drawing=_drawing())
    await run_jobs(app)
    env = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    assert env["status"] == "completed", env
    sealed = await fetch(env["signed_pdf_url"])

    async with connect(admin_db) as conn:
        rows = await conn.fetch(
            "SELECT * FROM envelope_signers WHERE envelope_id = $1 ORDER BY position", env["id"]
        )
        done = json.loads(
            await conn.fetchval(
                "SELECT data FROM envelope_events WHERE envelope_id = $1 AND event = 'completed'", env["id"]
            )
        )
        company = await conn.fetchval("SELECT name FROM tenants WHERE id = $1", owner.tenant_id)
    events = (await client.get(f"/api/v1/envelopes/{env['id']}/evidence", headers=owner.headers)).json()
    head = events["events"][-2]  # the head when sealing: the event just before "completed"
    assert events["events"][-1]["event"] == "completed" and events["chain_ok"]

    pages = _pages_text(sealed)
    start = next(n for n, text in enumerate(pages) if TITLE in text)
    assert start > 0  # the certificate follows the document's own pages
    # whitespace removed: pdftotext's spacing and line breaks are not the certificate's (with -layout, a
    # table row's label and value stay together, a wrapped value continues on the next line)
    text = "".join("".join(pages[start:]).split())
    for fact in (
        env["title"],
        env["id"],
        company,
        "Owner王",
        f"<{owner.email}>",
        "Asia/Shanghai",
        _local(datetime.fromisoformat(env["sent_at"])),
        f"原始文件SHA-256{env['original_sha256']}",
        f"签署后文件SHA-256{done['signed_sha256']}",
        "签署后文件即加上签名后的以上页面，不含本证明",
        f"证据记录{head['seq']}条，整条证据链已重新计算并验证",
        f"证据链末条哈希(SHA-256){head['hash']}",
        # the consent texts, each in the language it was shown in
        "电子签署同意条款，版本v1（zh-CN）我同意以电子方式签署本文件并以电子记录形式接收。",
        f"我可以向{company}免费索取纸质副本",
        "电子签署同意条款，版本v1（en）Iagreetosignthisdocumentelectronicallyandtoreceiveitasanelectronicrecord.",
        "http://testserver.local/verify",
    ):
        assert "".join(fact.split()) in text, fact
    assert done["signed_sha256"] != env["original_sha256"]

    one, two = text.split("签署人2")  # each signer's facts in their own table
    for part, row, method, agent, language in (
        (one.split("签署人1")[1], rows[0], "输入姓名:李雷", DESKTOP, "zh-CN"),
        (two, rows[1], "手写签名", PHONE, "en"),
    ):
        assert f"姓名{row['name']}".replace(" ", "") in part and f"邮箱{row['email']}" in part
        assert f"签名方式{method}" in part
        assert f"链接发送时间{_local(row['notified_at'])}" in part
        assert f"查看时间{_local(row['viewed_at'])}" in part
        assert f"同意电子签署{_local(row['consented_at'])}" in part
        assert f"签署时间{_local(row['signed_at'])}" in part
        assert f"IP地址{row['ip']}" in part and row["ip"]
        assert "浏览器(User-Agent)" + "".join(agent.split()) in part
        assert f"同意条款版本v1({language})" in part
    assert rows[0]["notified_at"] < rows[1]["notified_at"]  # sequential: the second asked after the first

    # the QR code under "验证本文件" is the verification address
    assert _qr_codes(sealed, start + 1, len(pages) - 1) == ["http://testserver.local/verify"]
