"""/api/v1/company-profile: the dealer's profile (Party B), saved by owners and admins as immutable
versions; a wrong credit code is a 422 on its field; logo and seal pictures; a document keeps the
version it was requested with; a template printing an empty profile field is refused, naming it."""

from __future__ import annotations

import io
import uuid
from typing import Any

import asyncpg
import pytest
from docx import Document

from tests.factories import PROFILE, company_profile, customer, db_rows, picture, staff, territory
from tests.helpers import run_jobs, signup
from tests.integration.documents.conftest import fetch
from tests.integration.documents.test_documents_api import request_document
from tests.integration.documents.test_templates_api import upload
from tests.unit import docx_cases as cases


async def test_save_read_and_version_the_profile(client: Any, app: Any, mailbox: Any, admin_db: str) -> None:
    owner = await signup(client, locale="zh-CN")
    empty = (await client.get("/api/v1/company-profile", headers=owner.headers)).json()
    assert empty["id"] is None and empty["version"] == 0 and empty["legal_name"] is None
    assert empty["currency"] == "CNY" and empty["logo"] is None

    first = await company_profile(
        client, owner, credit_code="9131 0115-ma1k4a2b3a", address="  上海市  浦东新区 "
    )
    assert first["version"] == 1 and first["credit_code"] == "91310115MA1K4A2B3A"  # normalised
    assert first["address"] == "上海市 浦东新区" and first["onsite_day_rate"] == "800.00"
    assert first["created_by"] == owner.membership_id
    same = await company_profile(client, owner, credit_code="91310115MA1K4A2B3A", address="上海市 浦东新区")
    assert (same["id"], same["version"]) == (first["id"], 1)  # nothing changed: no new version
    second = await company_profile(client, owner, address="上海市浦东新区张江路 88 号", website="")
    assert second["version"] == 2 and second["website"] is None  # blank is empty
    assert (await client.get("/api/v1/company-profile", headers=owner.headers)).json()["id"] == second["id"]

    rep = await staff(client, owner, mailbox, app, role="rep")
    assert (await client.get("/api/v1/company-profile", headers=rep.headers)).json()["version"] == 2
    r = await client.put("/api/v1/company-profile", json=PROFILE, headers=rep.headers)
    assert r.status_code == 403
    admin = await staff(client, owner, mailbox, app, role="admin")
    assert (await company_profile(client, admin, phone="021-1111 2222"))["version"] == 3

    other = await signup(client)
    assert (await client.get("/api/v1/company-profile", headers=other.headers)).json()["version"] == 0
    rows = await db_rows(
        admin_db,
        "SELECT version FROM company_profile_versions WHERE tenant = $1::uuid ORDER BY version",
        owner.tenant_id,
    )
    assert [r["version"] for r in rows] == [1, 2, 3]
    conn = await asyncpg.connect(admin_db)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="never change"):
            await conn.execute(
                "UPDATE company_profile_versions SET legal_name = 'x' WHERE id = $1::uuid", first["id"]
            )
    finally:
        await conn.close()


async def test_wrong_values_are_422_on_their_fields(client: Any) -> None:
    owner = await signup(client, locale="zh-CN")
    r = await client.put(
        "/api/v1/company-profile",
        json={**PROFILE, "credit_code": "91310115MA1K4A2B3C", "email": "sales", "onsite_day_rate": "800.005"},
        headers=owner.headers,
    )
    assert r.status_code == 422, r.text
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(errors) == {"credit_code", "email", "onsite_day_rate"}
    assert "校验码" in errors["credit_code"]  # in the member's language
    for code in ("91310115MA1K4A2B3", "9131A115MA1K4A2B3A", "91310115MA1K4A2B3O"):  # short, region, charset
        r = await client.put(
            "/api/v1/company-profile", json={**PROFILE, "credit_code": code}, headers=owner.headers
        )
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["credit_code"], code
    r = await client.put(
        "/api/v1/company-profile", json={**PROFILE, "response_hours": 0}, headers=owner.headers
    )
    assert r.status_code == 422 and "response_hours" in r.text
    assert (await client.get("/api/v1/company-profile", headers=owner.headers)).json()["version"] == 0


async def test_logo_and_seal_pictures(client: Any, app: Any, mailbox: Any) -> None:
    owner = await signup(client)
    await company_profile(client, owner)
    seal, logo = picture("seal"), picture("logo", fmt="JPEG")
    r = await client.put(
        "/api/v1/company-profile/seal", files={"file": ("seal.png", seal, "image/png")}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["version"] == 2 and got["seal"]["content_type"] == "image/png" and got["logo"] is None
    assert await fetch(got["seal"]["url"]) == seal
    r = await client.put(
        "/api/v1/company-profile/logo",
        files={"file": ("logo.jpg", logo, "image/jpeg")},
        headers=owner.headers,
    )
    assert r.json()["version"] == 3 and r.json()["logo"]["content_type"] == "image/jpeg"
    assert r.json()["seal"]["sha256"] == got["seal"]["sha256"]  # carried over
    kept = await company_profile(client, owner, phone="021-3333 4444")
    assert kept["version"] == 4 and kept["logo"] and kept["seal"]  # saving the fields keeps the pictures

    for bad, message in (
        (b"GIF89a not really", "PNG"),
        (b"BM", "PNG"),  # a BMP's first bytes
        (picture("seal")[:40], "PNG"),  # a truncated PNG
        (picture("seal", size=4100), "4096"),
    ):
        r = await client.put(
            "/api/v1/company-profile/seal", files={"file": ("x.png", bad, "image/png")}, headers=owner.headers
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file", r.text
        assert message in r.json()["errors"][0]["message"]
    rep = await staff(client, owner, mailbox, app, role="rep")
    r = await client.put(
        "/api/v1/company-profile/seal", files={"file": ("seal.png", seal, "image/png")}, headers=rep.headers
    )
    assert r.status_code == 403
    r = await client.delete("/api/v1/company-profile/logo", headers=owner.headers)
    assert r.status_code == 200 and r.json()["logo"] is None and r.json()["seal"] and r.json()["version"] == 5


async def test_a_document_keeps_the_profile_version_it_was_requested_with(client: Any, app: Any) -> None:
    owner = await signup(client, locale="zh-CN")
    place = await territory(client, owner, "苏州", level="city")
    buyer = await customer(
        client, owner, place["id"], address="苏州工业园区星湖街 218 号", phone="0512-6288 3456"
    )
    first = await company_profile(client, owner)
    r = await client.put(
        "/api/v1/company-profile/seal",
        files={"file": ("seal.png", picture(), "image/png")},
        headers=owner.headers,
    )
    with_seal = r.json()
    r = await request_document(
        client, owner, kind="proposal_product", subject_type="customer", subject_id=buyer["id"]
    )
    assert r.status_code == 202, r.text
    renamed = await company_profile(client, owner, legal_name="华东启航软件集团有限公司")  # before the render
    assert renamed["version"] == with_seal["version"] + 1 != first["version"]
    await run_jobs(app)
    doc = (await client.get(r.json()["url"], headers=owner.headers)).json()
    assert doc["status"] == "ready" and doc["profile_version_id"] == with_seal["id"], doc
    text = "\n".join(p.text for p in Document(io.BytesIO(await fetch(doc["docx"]["url"]))).paragraphs)
    assert "华东启航软件有限公司" in text and "集团" not in text


async def test_a_template_printing_an_empty_profile_field_is_refused_naming_it(client: Any, app: Any) -> None:
    owner = await signup(client, locale="en")
    place = await territory(client, owner, "Suzhou", level="city")
    buyer = await customer(client, owner, place["id"])
    await company_profile(client, owner, website=None, service_hotline=None)
    template = cases.docx_with(
        [
            "{{ customer.full_name }} {{ party_b.full_name }}",
            "{{ party_b.website }} · {{ party_b.hotline }}",
            "{% if party_b.email %}{{ party_b.email }}{% endif %}{{ party_b.seal | default('') }}",
        ]
    )
    made = await upload(client, owner, template, kind="proposal_product", locale="en")
    assert made.status_code == 201, made.text
    r = await request_document(
        client,
        owner,
        kind="proposal_product",
        subject_type="customer",
        subject_id=buyer["id"],
        locale="en",
        template_version_id=made.json()["id"],
        idempotency_key=str(uuid.uuid4()),
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert [e["field"] for e in body["errors"]] == ["party_b.hotline", "party_b.website"]
    assert (
        body["detail"] == "Fill in Party B service hotline, Party B website before generating this document"
    )
    await company_profile(client, owner)  # website and hotline filled in
    r = await request_document(
        client,
        owner,
        kind="proposal_product",
        subject_type="customer",
        subject_id=buyer["id"],
        locale="en",
        template_version_id=made.json()["id"],
    )
    assert r.status_code == 202, r.text
    await run_jobs(app)
    doc = (await client.get(r.json()["url"], headers=owner.headers)).json()
    assert doc["status"] == "ready", doc
