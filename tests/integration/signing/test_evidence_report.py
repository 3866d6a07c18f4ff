"""The evidence report of a signed contract: every link checks on a fresh envelope; tampering with
each link in turn (a stored object rewritten, a recorded hash changed, an evidence event edited, the
seal replaced) breaks that link and the report names it; the page says the same; another tenant's
envelope is 404."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from app.documents.rendering import default_template_path
from app.signing.report import LINKS
from tests.helpers import connect, run_jobs, signup
from tests.integration.signing.support import link_for, make_envelope, ready_contract, sign_typed, signer


async def test_each_tampered_link_is_named(client: Any, app: Any, mailbox: Any, admin_db: str) -> None:
    owner = await signup(client, locale="zh-CN")
    doc_id = await ready_contract(client, app, owner)
    a = signer("王芳")
    env = await make_envelope(client, owner, doc_id, [a])
    await run_jobs(app)
    await sign_typed(client, link_for(mailbox, a["email"]), "王芳")
    await run_jobs(app)
    url = f"/api/v1/envelopes/{env['id']}/evidence-report"

    async def report() -> dict[str, Any]:
        r = await client.get(url, headers=owner.headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    clean = await report()
    assert clean["ok"] is True and clean["broken"] is None, clean
    assert [link["name"] for link in clean["links"]] == list(LINKS)
    links = {link["name"]: link for link in clean["links"]}
    shipped = hashlib.sha256(default_template_path("contract", "zh-CN").read_bytes()).hexdigest()
    assert links["template"]["recorded"]["sha256"] == links["template"]["recomputed"]["sha256"] == shipped
    assert links["seal"]["recomputed"]["cert_sha256"] == links["seal"]["recorded"]["cert_sha256"]
    assert links["evidence"]["recomputed"]["events"] >= 4

    store = app.state.storage
    async with connect(admin_db) as conn:
        keys = await conn.fetchrow(
            "SELECT d.docx_key, d.pdf_key, e.sealed_key, e.original_key FROM envelopes e"
            " JOIN documents d ON d.tenant = e.tenant AND d.id = e.document_id WHERE e.id = $1",
            UUID(env["id"]),
        )

    async def sql(statement: str, *args: Any) -> None:
        async with connect(admin_db) as conn:
            await conn.execute("SET session_replication_role = replica")  # past the append-only trigger
            await conn.execute(statement, *args)

    async def rewrite(key: str) -> Callable[[], Awaitable[None]]:
        kept = await store.get(key)
        await store.put(key, kept[:-1] + bytes([kept[-1] ^ 1]), "application/octet-stream")

        async def restore() -> None:
            await store.put(key, kept, "application/octet-stream")

        return restore

    async def db_change(table: str, column: str, value: str) -> Callable[[], Awaitable[None]]:
        where = {"documents": ("id", UUID(doc_id)), "envelopes": ("id", UUID(env["id"]))}
        id_column, row_id = where.get(table, ("envelope_id", UUID(env["id"])))
        async with connect(admin_db) as conn:
            old = await conn.fetchval(f"SELECT {column} FROM {table} WHERE {id_column} = $1", row_id)
        await sql(f"UPDATE {table} SET {column} = $2 WHERE {id_column} = $1", row_id, value)

        async def restore() -> None:
            await sql(f"UPDATE {table} SET {column} = $2 WHERE {id_column} = $1", row_id, old)

        return restore

    async def replace_seal() -> Callable[[], Awaitable[None]]:
        kept = await store.get(keys["sealed_key"])
        await store.put(keys["sealed_key"], await store.get(keys["original_key"]), "application/pdf")

        async def restore() -> None:  # the unsealed original in its place
            await store.put(keys["sealed_key"], kept, "application/pdf")

        return restore

    tamperings: list[tuple[str, Callable[[], Awaitable[Callable[[], Awaitable[None]]]]]] = [
        ("template", lambda: db_change("documents", "rendered_template_sha256", "0" * 64)),
        ("data", lambda: db_change("documents", "data_sha256", "1" * 64)),
        ("docx", lambda: rewrite(keys["docx_key"])),
        ("pdf", lambda: rewrite(keys["pdf_key"])),
        ("original", lambda: db_change("envelopes", "original_sha256", "2" * 64)),
        ("sealed_pdf", lambda: rewrite(keys["sealed_key"])),
        ("sealed_pdf", replace_seal),
        ("seal", lambda: db_change("seal_index", "cert_sha256", "3" * 64)),  # another certificate
    ]
    for name, tamper in tamperings:
        restore = await tamper()
        broken = await report()
        assert broken["ok"] is False and broken["broken"] == name, (name, broken)
        assert next(link["name"] for link in broken["links"] if not link["ok"]) == name
        if name == "seal":
            assert next(link for link in broken["links"] if link["name"] == "seal")["problem"]
            page = await client.get(f"/envelopes/{env['id']}/evidence", headers=owner.headers)
            assert page.status_code == 200 and "断开的一环：电子印章、证书与时间戳" in page.text
        await restore()
        assert (await report())["ok"] is True, name
    # the evidence chain, last: an edited event breaks it for good
    await sql(
        "UPDATE envelope_events SET ip = '10.0.0.1' WHERE envelope_id = $1 AND event = 'signed'",
        UUID(env["id"]),
    )
    broken = await report()
    assert broken["broken"] == "evidence", broken
    evidence_link = next(link for link in broken["links"] if link["name"] == "evidence")
    assert evidence_link["recomputed"]["first_broken_seq"] is not None


async def test_the_page_shows_every_link_and_another_tenant_gets_404(
    client: Any, app: Any, mailbox: Any
) -> None:
    owner = await signup(client)
    doc_id = await ready_contract(client, app, owner)
    a = signer("李雷")
    env = await make_envelope(client, owner, doc_id, [a])
    await run_jobs(app)
    await sign_typed(client, link_for(mailbox, a["email"]), "李雷")
    await run_jobs(app)
    envelope_page = await client.get(f"/envelopes/{env['id']}", headers=owner.headers)
    assert (
        f"/envelopes/{env['id']}/evidence" in envelope_page.text and "Evidence report" in envelope_page.text
    )
    page = await client.get(f"/envelopes/{env['id']}/evidence", headers=owner.headers)
    assert page.status_code == 200 and "Every link checks" in page.text
    for name in LINKS:
        assert f'id="link-{name}" data-ok="yes"' in page.text, name
    other = await signup(client)
    r = await client.get(f"/api/v1/envelopes/{env['id']}/evidence-report", headers=other.headers)
    assert r.status_code == 404
    r = await client.get(f"/envelopes/{env['id']}/evidence", headers=other.headers)
    assert r.status_code == 404
