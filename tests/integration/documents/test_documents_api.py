"""/api/v1/documents through the real worker: 202 then ready with presigned DOCX/PDF links and
sha256s; idempotency (same key → same document; a job run twice → one set of objects); a broken
template fails once with a reason; what the template prints must be filled (422 naming it by its
label, in the member's language); 404 across tenants."""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import Any

import httpx
from arq import Retry
from docx import Document

from app.documents import jobs
from app.documents.rendering import default_template_path
from app.documents.soffice import soffice_binary
from app.settings import get_settings
from tests.factories import company_profile
from tests.helpers import Member, run_jobs, signup
from tests.integration.documents.conftest import fetch, keys_under, pdf_text
from tests.integration.documents.test_templates_api import upload
from tests.unit import docx_cases as cases


async def request_document(client: Any, member: Member, **body: Any) -> httpx.Response:
    payload = {
        "kind": "contract",
        "subject_type": "sample",
        "subject_id": "s-1",
        "idempotency_key": str(uuid.uuid4()),
        **body,
    }
    response: httpx.Response = await client.post("/api/v1/documents", json=payload, headers=member.headers)
    return response


async def test_contract_renders_to_docx_and_pdf(client: Any, app: Any, s3: Any) -> None:
    owner = await signup(client)
    r = await request_document(client, owner, locale="zh-CN")
    assert r.status_code == 202, r.text
    queued = r.json()
    assert queued["status"] == "queued"
    await run_jobs(app)
    doc = (await client.get(queued["url"], headers=owner.headers)).json()
    assert doc["status"] == "ready", doc
    assert doc["template"] == {"id": None, "version": None, "sha256": None}  # the built-in default
    assert doc["generated_by"]["membership_id"] == owner.membership_id and doc["generated_by"]["name"]
    assert len(doc["data_sha256"]) == 64
    docx = await fetch(doc["docx"]["url"])
    assert hashlib.sha256(docx).hexdigest() == doc["docx"]["sha256"] and len(docx) == doc["docx"]["size"]
    text = "\n".join(c.text for t in Document(io.BytesIO(docx)).tables for row in t.rows for c in row.cells)
    assert "苏州恒泰精密机械有限公司" in text and "¥5,984.00" in text
    prefix = f"documents/{owner.tenant_id}/{queued['id']}/"
    if soffice_binary(get_settings()) is None:
        assert doc["pdf"] is None and "LibreOffice" in doc["pdf_note"]
        assert keys_under(s3, prefix) == [prefix + "document.docx"]
        return
    pdf = await fetch(doc["pdf"]["url"])
    assert hashlib.sha256(pdf).hexdigest() == doc["pdf"]["sha256"]
    assert "软件销售合同" in pdf_text(pdf)
    assert keys_under(s3, prefix) == [prefix + "document.docx", prefix + "document.pdf"]


async def test_same_key_same_document_and_a_rerun_job_changes_nothing(client: Any, app: Any, s3: Any) -> None:
    owner = await signup(client)
    key = "quote-2026-0877-v1"
    first = await request_document(client, owner, kind="quote", idempotency_key=key)
    second = await request_document(client, owner, kind="quote", idempotency_key=key)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    clash = await request_document(client, owner, kind="handover", idempotency_key=key)
    assert clash.status_code == 409
    await run_jobs(app)
    doc_id = first.json()["id"]
    before = (await client.get(f"/api/v1/documents/{doc_id}", headers=owner.headers)).json()
    assert before["status"] == "ready"
    prefix = f"documents/{owner.tenant_id}/{doc_id}/"
    objects = keys_under(s3, prefix)
    # ARQ may deliver a job twice: the second run finds the document finished and leaves it alone.
    again = await jobs.render_document({"job_try": 1, "job_id": "another-delivery"}, owner.tenant_id, doc_id)
    assert again == "already-ready"
    after = (await client.get(f"/api/v1/documents/{doc_id}", headers=owner.headers)).json()
    assert keys_under(s3, prefix) == objects and after["docx"]["sha256"] == before["docx"]["sha256"]
    listed = (
        await client.get(
            "/api/v1/documents", params={"subject_type": "sample", "subject_id": "s-1"}, headers=owner.headers
        )
    ).json()["items"]
    assert [d["id"] for d in listed] == [doc_id]


async def test_a_broken_template_fails_once_with_a_reason(client: Any, app: Any) -> None:
    owner = await signup(client)
    # Valid syntax and known variables, so the upload passes; dividing a text by zero fails at render.
    template = (
        await upload(
            client, owner, cases.docx_with(["{{ party_a.full_name }}", "{{ totals.total / 0 }}"]), locale="en"
        )
    ).json()
    r = await request_document(client, owner, locale="en", template_version_id=template["id"])
    assert r.status_code == 202, r.text
    await run_jobs(app)
    doc = (await client.get(r.json()["url"], headers=owner.headers)).json()
    assert doc["status"] == "failed" and "template could not be rendered" in doc["failure_reason"]
    assert "TypeError" in doc["failure_reason"] and doc["docx"] is None
    assert doc["template"]["version"] == 1
    await run_jobs(app)  # nothing left to retry
    assert (await client.get(r.json()["url"], headers=owner.headers)).json()["status"] == "failed"
    from app import db

    async with db.transaction(uuid.UUID(owner.tenant_id)) as tx:
        attempts = await tx.fetchval(
            "SELECT attempts FROM documents WHERE id = $1", uuid.UUID(r.json()["id"])
        )
    assert attempts == 1


async def test_transient_failures_retry_then_give_up(client: Any, app: Any) -> None:
    from app.storage import S3Storage

    owner = await signup(client)
    doc_id = (await request_document(client, owner, kind="handover")).json()["id"]
    broken = S3Storage(get_settings().model_copy(update={"s3_bucket": "no-such-bucket"}))
    try:
        await jobs.render_document({"job_try": 1, "storage": broken}, owner.tenant_id, doc_id)
        raise AssertionError("a storage error must ask ARQ to retry")
    except Retry as retry:
        assert retry.defer_score == 5000
    doc = (await client.get(f"/api/v1/documents/{doc_id}", headers=owner.headers)).json()
    assert doc["status"] == "queued"
    result = await jobs.render_document(
        {"job_try": jobs.MAX_TRIES, "storage": broken}, owner.tenant_id, doc_id
    )
    assert result == "failed"
    doc = (await client.get(f"/api/v1/documents/{doc_id}", headers=owner.headers)).json()
    assert doc["status"] == "failed" and "gave up after 4 tries" in doc["failure_reason"]
    assert "NoSuchBucket" in doc["failure_reason"]


async def test_contract_needs_party_a_complete_and_customer_proposals(client: Any, app: Any) -> None:
    owner = await signup(client, locale="zh-CN")
    territory = (
        await client.post(
            "/api/v1/territories", json={"name": "江苏-苏州", "level": "city"}, headers=owner.headers
        )
    ).json()
    customer = (
        await client.post(
            "/api/v1/customers",
            headers=owner.headers,
            json={
                "full_name": "无锡华立电子科技有限公司",
                "territory_id": territory["id"],
                "grade": "A",
                "phone": "0510-8520 6688",
            },
        )
    ).json()
    r = await request_document(client, owner, subject_type="customer", subject_id=customer["id"])
    assert r.status_code == 422, r.text
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"party_a.address", "party_a.contact", "party_b.full_name", "party_b.bank"} <= fields
    assert "party_a.full_name" not in fields and "party_a.phone" not in fields  # the customer has them
    assert not fields & {"party_a.bank", "party_a.tax_id"}  # the default contract prints them only if known
    detail = r.json()["detail"]
    assert "甲方地址、甲方联系人" in detail and "乙方单位全称" in detail and "乙方开户银行" in detail
    messages = " ".join(e["message"] for e in r.json()["errors"])
    assert "party_" not in detail + messages and "甲方联系人：生成此文档前请先填写" in messages
    r = await request_document(
        client, owner, kind="proposal_product", subject_type="customer", subject_id=customer["id"]
    )
    assert r.status_code == 422 and "乙方单位全称" in r.json()["detail"], r.text  # no company profile yet
    profile = await company_profile(client, owner)
    r = await request_document(client, owner, subject_type="customer", subject_id=customer["id"])
    assert not {e["field"] for e in r.json()["errors"]} & {"party_b.full_name", "party_b.bank"}
    r = await request_document(
        client, owner, kind="proposal_product", subject_type="customer", subject_id=customer["id"]
    )
    assert r.status_code == 202, r.text
    await run_jobs(app)
    doc = (await client.get(r.json()["url"], headers=owner.headers)).json()
    assert doc["status"] == "ready", doc
    assert doc["profile_version_id"] == profile["id"]
    docx = await fetch(doc["docx"]["url"])
    paragraphs = "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)
    assert "无锡华立电子科技有限公司" in paragraphs and "产品方案" in paragraphs
    missing = await request_document(client, owner, subject_type="customer", subject_id=str(uuid.uuid4()))
    assert missing.status_code == 404
    other = await signup(client)
    r = await request_document(
        client, other, kind="proposal_product", subject_type="customer", subject_id=customer["id"]
    )
    assert r.status_code == 404  # another tenant's customer


async def test_every_document_route_answers_404_for_another_tenants_ids(client: Any, app: Any) -> None:
    owner = await signup(client)
    other = await signup(client)
    template = (
        await upload(client, owner, default_template_path("quote", "en").read_bytes(), "quote", "en")
    ).json()
    doc_id = (await request_document(client, owner, kind="quote", locale="en")).json()["id"]
    assert (await client.get(f"/api/v1/documents/{doc_id}", headers=other.headers)).status_code == 404
    r = await request_document(client, other, kind="quote", locale="en", template_version_id=template["id"])
    assert r.status_code == 404
    listed = await client.get("/api/v1/documents", params={"subject_type": "sample"}, headers=other.headers)
    assert listed.json()["items"] == []
    assert (await client.get("/api/v1/documents", headers=owner.headers)).json()["items"][0]["id"] == doc_id
    bad = await request_document(client, owner, subject_type="planet")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "subject_type"


async def test_without_libreoffice_documents_are_docx_only(client: Any, app: Any, s3: Any) -> None:
    from app.documents.convert import Converter

    owner = await signup(client)
    doc_id = (await request_document(client, owner, kind="quote")).json()["id"]
    no_office = Converter(get_settings().model_copy(update={"soffice_path": "no-such-soffice"}))
    result = await jobs.render_document({"job_try": 1, "converter": no_office}, owner.tenant_id, doc_id)
    assert result == "ready"
    doc = (await client.get(f"/api/v1/documents/{doc_id}", headers=owner.headers)).json()
    assert doc["status"] == "ready" and doc["pdf"] is None and "not installed" in doc["pdf_note"]
    prefix = f"documents/{owner.tenant_id}/{doc_id}/"
    assert keys_under(s3, prefix) == [prefix + "document.docx"]
