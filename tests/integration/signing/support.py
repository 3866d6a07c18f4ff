"""Helpers for the signing tests: a ready contract PDF through the real documents pipeline, envelopes,
signing links from captured mail, form posts with the page's nonce."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from app.documents.soffice import soffice_binary
from app.settings import get_settings
from tests.helpers import Member, last_link, mails_to, run_jobs
from tests.integration.documents.test_documents_api import request_document

LINK = r"http://testserver\.local/sign/(\S+)"


async def ready_contract(client: Any, app: Any, member: Member, locale: str = "zh-CN") -> str:
    """A contract rendered to PDF by the documents pipeline (LibreOffice); skips without it."""
    if soffice_binary(get_settings()) is None:
        pytest.skip("LibreOffice (soffice) is not installed: no contract PDF to sign")
    r = await request_document(client, member, locale=locale)
    assert r.status_code == 202, r.text
    await run_jobs(app)
    doc = (await client.get(r.json()["url"], headers=member.headers)).json()
    assert doc["status"] == "ready" and doc["pdf"], doc
    return str(r.json()["id"])


def signer(name: str = "李雷", locale: str = "zh-CN") -> dict[str, str]:
    return {"name": name, "email": f"signer-{secrets.token_hex(4)}@example.com", "locale": locale}


async def make_envelope(
    client: Any,
    member: Member,
    document_id: str,
    signers: list[dict[str, str]],
    send: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/envelopes",
        headers=member.headers,
        json={"document_id": document_id, "signers": signers, "title": "软件销售合同", **extra},
    )
    assert r.status_code == 201, r.text
    env: dict[str, Any] = r.json()
    if send:
        r = await client.post(f"/api/v1/envelopes/{env['id']}/send", headers=member.headers)
        assert r.status_code == 200, r.text
        env = r.json()
    return env


def link_for(mailbox: Any, address: str) -> str:
    return last_link(mailbox, LINK, to=address)


def nonce_of(html: str) -> str:
    match = re.search(r'name="nonce" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


async def sign_typed(client: Any, token: str, name: str = "李雷") -> Any:
    page = await client.get(f"/sign/{token}")
    assert page.status_code == 200, page.text
    return await client.post(
        f"/sign/{token}/sign",
        data={"nonce": nonce_of(page.text), "consent": "yes", "kind": "typed", "typed_name": name},
    )


def count_mails(mailbox: Any, address: str) -> int:
    return len(mails_to(mailbox, address))
