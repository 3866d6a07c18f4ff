"""/api/v1/templates: versioned uploads in S3 with their sha256, one active version per kind and
locale, 422 findings for hostile files, previews through the worker, admins only, 404 across tenants."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx

from app import db
from app.documents.rendering import default_template_path
from app.documents.templates import template_key
from tests.helpers import Member, add_member, run_jobs, signup
from tests.integration.documents.conftest import keys_under
from tests.unit import docx_cases as cases

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def upload(
    client: Any,
    member: Member,
    data: bytes,
    kind: str = "contract",
    locale: str = "zh-CN",
    filename: str = "我的合同.docx",
) -> httpx.Response:
    response: httpx.Response = await client.post(
        "/api/v1/templates",
        headers=member.headers,
        data={"kind": kind, "locale": locale},
        files={"file": (filename, data, DOCX)},
    )
    return response


async def test_upload_versions_activate_list_get(client: Any, s3: Any) -> None:
    owner = await signup(client)
    data = default_template_path("contract", "zh-CN").read_bytes()
    first = await upload(client, owner, data)
    assert first.status_code == 201, first.text
    second = await upload(client, owner, data.replace(b"", b"") + b"")
    assert second.status_code == 201
    v1, v2 = first.json(), second.json()
    assert (v1["version"], v2["version"]) == (1, 2) and not v1["active"] and v1["filename"] == "我的合同.docx"
    assert v1["sha256"] == hashlib.sha256(data).hexdigest()
    key = f"templates/{owner.tenant_id}/contract/zh-CN/1.docx"
    assert keys_under(s3, f"templates/{owner.tenant_id}/") == [key, key.replace("/1.docx", "/2.docx")]
    stored = s3.get_object(Bucket="acre-test", Key=key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == v1["sha256"]

    r = await client.post(f"/api/v1/templates/{v1['id']}/activate", headers=owner.headers)
    assert r.status_code == 200 and r.json()["active"]
    r = await client.post(f"/api/v1/templates/{v2['id']}/activate", headers=owner.headers)
    assert r.json()["active"]
    listed = (
        await client.get("/api/v1/templates", params={"kind": "contract"}, headers=owner.headers)
    ).json()
    assert [(t["version"], t["active"]) for t in listed["items"]] == [(2, True), (1, False)]
    page = (await client.get("/api/v1/templates", params={"limit": 1}, headers=owner.headers)).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = (
        await client.get(
            "/api/v1/templates", params={"limit": 1, "cursor": page["next_cursor"]}, headers=owner.headers
        )
    ).json()
    assert rest["items"][0]["version"] == 1
    got = await client.get(f"/api/v1/templates/{v2['id']}", headers=owner.headers)
    assert got.json()["version"] == 2
    r = await client.post(f"/api/v1/templates/{v2['id']}/deactivate", headers=owner.headers)
    assert r.json()["active"] is False


async def test_hostile_uploads_are_refused_with_findings(client: Any, s3: Any) -> None:
    owner = await signup(client, locale="zh-CN")
    good = ["{{ party_a.full_name }}"]
    cases_and_codes = [
        (cases.with_macro(cases.docx_with(good)), "macro"),
        (cases.with_remote_image(cases.docx_with(good)), "external-reference"),
        (cases.zip_bomb(cases.docx_with(good)), "compression-ratio"),
        (cases.docx_with(["{% for x in lines %}"]), "jinja-syntax"),
        (cases.docx_with(["{{ party_a.fax }}"]), "unknown-variable"),
        (cases.docx_with([["{{ party_a.", "full_name }}"]]), "split-tag"),
        (cases.docx_with(["{{ ''.__class__.__mro__ }}"]), "unsafe-attribute"),
        (b"not a zip at all", "not-docx"),
    ]
    for data, code in cases_and_codes:
        r = await upload(client, owner, data)
        assert r.status_code == 422, (code, r.text)
        body = r.json()
        assert body["type"] == "/problems/validation"
        assert code in {f["code"] for f in body["findings"]}, (code, body)
        assert all(e["field"] == "file" for e in body["errors"])
    r = await upload(client, owner, cases.docx_with(["{{ party_a.fax }}"]))
    finding = r.json()["findings"][0]
    assert (finding["part"], finding["paragraph"], finding["params"]["name"]) == (
        "word/document.xml",
        0,
        "party_a.fax",
    )
    assert "未知变量" in r.json()["errors"][0]["message"]  # translated for a zh-CN user
    r = await upload(client, owner, cases.docx_with(good), kind="invoice")
    assert r.status_code == 422
    assert keys_under(s3, f"templates/{owner.tenant_id}/") == []  # nothing stored for a refused file


async def test_preview_renders_sample_data_through_the_worker(client: Any, app: Any) -> None:
    owner = await signup(client)
    template = (
        await upload(client, owner, default_template_path("quote", "en").read_bytes(), "quote", "en")
    ).json()
    r = await client.post(f"/api/v1/templates/{template['id']}/preview", headers=owner.headers)
    assert r.status_code == 202, r.text
    again = await client.post(f"/api/v1/templates/{template['id']}/preview", headers=owner.headers)
    assert again.json()["id"] == r.json()["id"]
    await run_jobs(app)
    doc = (await client.get(r.json()["url"], headers=owner.headers)).json()
    assert doc["status"] == "ready", doc
    assert doc["subject_type"] == "sample" and doc["template"] == {
        "id": template["id"],
        "version": 1,
        "sha256": template["sha256"],
    }
    assert doc["docx"]["url"].startswith("http://127.0.0.1:")


async def test_template_bombs_are_refused_at_upload_and_fail_for_good_if_stored(
    client: Any, app: Any
) -> None:
    owner = await signup(client, locale="zh-CN")
    tenant = uuid.UUID(owner.tenant_id)
    nested = cases.docx_with(
        ["{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"]
    )
    huge = cases.docx_with(["{{ 'x' * 200000000 }}"])
    for data, code in [(nested, "too-many-iterations"), (huge, "value-too-large")]:
        r = await upload(client, owner, data)
        assert r.status_code == 422 and [f["code"] for f in r.json()["findings"]] == [code], r.text
    assert "最多" in r.json()["errors"][0]["message"]  # translated for a zh-CN user
    # A bomb stored before these checks existed: its preview fails with the budget it broke, and the
    # worker goes on with another tenant's document in the same run.
    async with db.transaction(tenant) as tx:
        template_id = await tx.fetchval(
            "INSERT INTO document_templates (tenant, kind, locale, version, filename, storage_key, sha256,"
            " size_bytes, uploaded_by) VALUES ($1, 'contract', 'zh-CN', 1, 'old.docx', $2, $3, $4, $5)"
            " RETURNING id",
            tenant,
            template_key(tenant, "contract", "zh-CN", 1),
            hashlib.sha256(nested).hexdigest(),
            len(nested),
            uuid.UUID(owner.membership_id),
        )
    await app.state.storage.put(template_key(tenant, "contract", "zh-CN", 1), nested, DOCX)
    bomb = await client.post(f"/api/v1/templates/{template_id}/preview", headers=owner.headers)
    other = await signup(client)
    fine = (
        await upload(client, other, default_template_path("quote", "en").read_bytes(), "quote", "en")
    ).json()
    normal = await client.post(f"/api/v1/templates/{fine['id']}/preview", headers=other.headers)
    await run_jobs(app)
    failed = (await client.get(bomb.json()["url"], headers=owner.headers)).json()
    assert failed["status"] == "failed" and "loops ran more than 100,000 times" in failed["failure_reason"]
    assert (await client.get(normal.json()["url"], headers=other.headers)).json()["status"] == "ready"


async def test_templates_are_for_admins_and_404_across_tenants(client: Any, app: Any, mailbox: Any) -> None:
    owner = await signup(client)
    other = await signup(client)
    rep = await add_member(client, owner, mailbox, app, role="rep")
    data = default_template_path("handover", "zh-CN").read_bytes()
    assert (await upload(client, rep, data, "handover")).status_code == 403
    assert (await client.get("/api/v1/templates", headers=rep.headers)).status_code == 403
    template = (await upload(client, owner, data, "handover")).json()
    for method, path in [("GET", ""), ("POST", "/activate"), ("POST", "/deactivate"), ("POST", "/preview")]:
        r = await client.request(method, f"/api/v1/templates/{template['id']}{path}", headers=other.headers)
        assert r.status_code == 404, (path, r.text)
    assert (await client.get("/api/v1/templates", headers=other.headers)).json()["items"] == []
    kinds = (await client.get("/api/v1/templates/kinds", headers=rep.headers)).json()
    contract = next(k for k in kinds if k["name"] == "contract")
    assert "party_a.full_name" in contract["variables"] and "party_a.phone" in contract["required"]
