"""The documents, signatures and templates pages over HTTP: generate a contract from a deal → the render
job runs → the page shows the downloads, the page preview and the evidence; a failed render shows its
reason; send for signature, remind, void; the envelope list's filters; another tenant's document or
envelope is the 404 page; a rep on the templates page is refused (403), a hostile template shows its
findings at their place and nothing is stored."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from app.documents.soffice import soffice_binary
from app.settings import get_settings
from app.signing.pdfwork import page_count
from tests.factories import company_profile, customer, db_value, territory
from tests.helpers import Member, add_member, run_jobs, signup
from tests.integration.documents.conftest import fetch, pdf_text
from tests.integration.documents.test_templates_api import upload
from tests.integration.signing.support import (
    count_mails,
    link_for,
    make_envelope,
    ready_contract,
    sign_typed,
    signer,
)
from tests.integration.web.support import HTMX, htmx, sign_in
from tests.unit import docx_cases as cases

TERMS = {
    "party_a_address": "苏州工业园区星湖街 218 号",
    "party_a_contact": "张建国",
    "party_a_phone": "0512-62883456",
}


@dataclass
class Sales:
    owner: Member
    customer: dict[str, Any]
    deal: dict[str, Any]


async def sales(client: Any, locale: str = "en") -> Sales:
    """A company with its profile, a customer and a deal with contract terms (enough for a contract)."""
    owner = await signup(client, locale=locale)
    await company_profile(client, owner)
    area = await territory(client, owner, "苏州市")
    made = await customer(
        client,
        owner,
        area["id"],
        full_name="苏州恒泰精密机械有限公司",
        address="苏州工业园区星湖街 218 号",
        phone="0512-62883456",
    )
    r = await client.post(
        "/api/v1/deals",
        json={
            "customer_id": made["id"],
            "title": "恒泰财务系统项目",
            "amount": "8000.00",
            "stage": "negotiation",
        },
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    deal = r.json()
    terms = {"party_a_full_name": made["full_name"], **TERMS}
    r = await client.put(f"/api/v1/deals/{deal['id']}/contract-terms", json=terms, headers=owner.headers)
    assert r.status_code == 200, r.text
    return Sales(owner, made, deal)


async def generate(client: Any, csrf: str, path: str, **form: str) -> str:
    """Post the generate form (htmx) and answer the document's id from the redirect."""
    page = await client.get(f"{path}/documents/new")
    assert page.status_code == 200, page.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key
    body = {"kind": "contract", "locale": "zh-CN", "template_version_id": "", "idempotency_key": key.group(1)}
    r = await client.post(f"{path}/documents", data={**body, **form}, headers=htmx(csrf))
    assert r.status_code == 200, r.text
    match = re.fullmatch(r"/documents/([0-9a-f-]{36})", r.headers.get("hx-redirect", ""))
    assert match, r.headers
    return match.group(1)


def needs_pdf() -> None:
    if soffice_binary(get_settings()) is None:
        pytest.skip("LibreOffice (soffice) is not installed: no contract PDF")


async def test_generate_a_contract_from_a_deal_then_the_downloads_preview_and_evidence(client, app):
    needs_pdf()
    s = await sales(client)
    csrf = await sign_in(client, s.owner)
    form = await client.get(f"/deals/{s.deal['id']}/documents/new")
    assert "恒泰财务系统项目" in form.text and 'hx-post="/deals/' in form.text
    assert re.search(r'<option value="contract" selected>', form.text)

    doc_id = await generate(client, csrf, f"/deals/{s.deal['id']}")
    # the same form sent twice (same key) is the same document
    page = await client.get(f"/documents/{doc_id}")
    assert page.status_code == 200 and 'data-status="queued"' in page.text
    assert f'hx-get="/documents/{doc_id}/status"' in page.text and 'hx-trigger="every 2s"' in page.text
    assert 'href="/deals/' in page.text and "恒泰财务系统项目" in page.text

    await run_jobs(app)
    status = await client.get(f"/documents/{doc_id}/status", headers=HTMX)
    assert status.status_code == 200 and 'data-status="ready"' in status.text
    assert "hx-trigger" not in status.text  # polling stops
    assert "Download PDF" in status.text and "Download Word" in status.text
    assert f'href="/documents/{doc_id}/send"' in status.text
    assert f'src="/documents/{doc_id}/pages/1"' in status.text
    image = await client.get(f"/documents/{doc_id}/pages/1")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    again = await client.get(f"/documents/{doc_id}/pages/1")  # kept in storage: the same bytes
    assert again.content == image.content
    assert (await client.get(f"/documents/{doc_id}/pages/99")).status_code == 404

    page = await client.get(f"/documents/{doc_id}")
    api = (await client.get(f"/api/v1/documents/{doc_id}", headers=s.owner.headers)).json()
    for digest in (api["data_sha256"], api["docx"]["sha256"], api["pdf"]["sha256"]):
        assert digest in page.text
    assert "Built-in template" in page.text

    listed = await client.get("/documents", params={"kind": "contract"})
    assert f'href="/documents/{doc_id}"' in listed.text
    other = await client.get("/documents", params={"kind": "quote"})
    assert f'href="/documents/{doc_id}"' not in other.text and "No document matches." in other.text


async def test_a_failed_render_shows_its_reason(client, app):
    owner = await signup(client)
    template = await upload(
        client,
        owner,
        cases.docx_with(["{{ party_a.full_name }}", "{{ party_a.full_name / 0 }}"]),
        locale="en",
    )
    assert template.status_code == 201, template.text
    s_area = await territory(client, owner, "无锡市")
    made = await customer(client, owner, s_area["id"])
    csrf = await sign_in(client, owner)
    form = await client.get(
        f"/customers/{made['id']}/documents/new", params={"kind": "contract", "locale": "en"}
    )
    assert template.json()["id"] in form.text  # an admin chooses among the uploaded versions
    doc_id = await generate(
        client, csrf, f"/customers/{made['id']}", locale="en", template_version_id=template.json()["id"]
    )
    await run_jobs(app)
    page = await client.get(f"/documents/{doc_id}")
    assert 'data-status="failed"' in page.text and "The document could not be made." in page.text
    assert "template could not be rendered" in page.text and "Download PDF" not in page.text
    assert "Version 1" in page.text


async def test_a_bad_generate_form_shows_the_error_in_place_and_makes_nothing(client, admin_db):
    s = await sales(client)
    csrf = await sign_in(client, s.owner)
    r = await client.post(
        f"/deals/{s.deal['id']}/documents",
        data={"kind": "handover", "locale": "zh-CN", "idempotency_key": str(uuid.uuid4())},
        headers=htmx(csrf),
    )
    assert r.status_code == 422 and 'class="error"' in r.text and "<html" not in r.text
    r = await client.post(
        f"/deals/{s.deal['id']}/documents",
        data={"kind": "contract", "locale": "fr", "idempotency_key": str(uuid.uuid4())},
        headers=htmx(csrf),
    )
    assert r.status_code == 422 and "Use zh-CN or en" in r.text
    count = await db_value(
        admin_db, "SELECT count(*) FROM documents WHERE tenant = $1::uuid", s.owner.tenant_id
    )
    assert count == 0


async def test_another_tenants_document_and_deal_are_the_404_page(client, app):
    mine, theirs = await signup(client), await sales(client)
    r = await client.post(
        "/api/v1/documents",
        json={"kind": "quote", "subject_type": "sample", "subject_id": "s", "idempotency_key": "k1"},
        headers=theirs.owner.headers,
    )
    assert r.status_code == 202
    other_doc = r.json()["id"]
    await sign_in(client, mine)
    for path in (
        f"/documents/{other_doc}",
        f"/documents/{other_doc}/pages/1",
        f"/deals/{theirs.deal['id']}/documents/new",
        f"/customers/{theirs.customer['id']}/documents/new",
    ):
        r = await client.get(path)
        assert r.status_code == 404 and "<h1>Not found</h1>" in r.text, path
    r = await client.get(f"/documents/{other_doc}/status", headers=HTMX)
    assert r.status_code == 404 and "<html" not in r.text


def send_form(**fields: Any) -> list[tuple[str, str]]:
    """The send form's fields, repeated groups as repeated names (as the browser sends them)."""
    a = signer("李雷")
    body: list[tuple[str, str]] = [
        ("title", "软件销售合同"),
        ("signing_order", "sequential"),
        ("signer_name", a["name"]),
        ("signer_email", a["email"]),
        ("signer_locale", "zh-CN"),
        ("message", "请审阅并签署"),
        ("expiry_days", "10"),
        ("reminder_interval_days", "2"),
        ("reminder_max", "1"),
    ]
    for key, value in fields.items():
        body = [(k, v) for k, v in body if k != key]
        if isinstance(value, list):
            body += [(key, v) for v in value]
        elif value is not None:
            body.append((key, value))
    return body


async def post_send(client: Any, csrf: str, doc_id: str, body: list[tuple[str, str]]) -> Any:
    from urllib.parse import urlencode

    return await client.post(
        f"/documents/{doc_id}/send",
        content=urlencode(body),
        headers={**htmx(csrf), "Content-Type": "application/x-www-form-urlencoded"},
    )


async def test_send_for_signature_remind_and_void(client, app, mailbox, admin_db):
    owner = await signup(client)
    doc_id = await ready_contract(client, app, owner)
    csrf = await sign_in(client, owner)
    form = await client.get(f"/documents/{doc_id}/send")
    assert form.status_code == 200 and f'value="{owner.email}"' in form.text  # Party B: me
    assert 'hx-get="/documents/' in form.text and "group=signer&n=3" in form.text
    row = await client.get(
        f"/documents/{doc_id}/send/row", params={"group": "signer", "n": "3"}, headers=HTMX
    )
    assert 'id="signer_name_3"' in row.text and "n=4" in row.text

    envelopes_before = "SELECT count(*) FROM envelopes WHERE tenant = $1::uuid"
    r = await post_send(client, csrf, doc_id, send_form(signer_name=[], signer_email=[], signer_locale=[]))
    assert r.status_code == 422 and "Add at least one signer" in r.text and "<html" not in r.text
    r = await post_send(client, csrf, doc_id, send_form(signer_email="not-an-email"))
    assert r.status_code == 422 and "valid email address" in r.text
    r = await post_send(client, csrf, doc_id, send_form(expiry_days="400"))
    assert r.status_code == 422 and "1 to 365 days" in r.text
    assert await db_value(admin_db, envelopes_before, owner.tenant_id) == 0

    body = send_form()
    first_email = dict(body)["signer_email"]
    body += [("signer_name", "Owner 王"), ("signer_email", owner.email), ("signer_locale", "en")]
    body += [("cc_name", "财务部"), ("cc_email", "finance@example.com"), ("cc_locale", "zh-CN")]
    r = await post_send(client, csrf, doc_id, body)
    assert r.status_code == 200, r.text
    match = re.fullmatch(r"/envelopes/([0-9a-f-]{36})", r.headers.get("hx-redirect", ""))
    assert match, r.headers
    env_id = match.group(1)
    env = (await client.get(f"/api/v1/envelopes/{env_id}", headers=owner.headers)).json()
    assert env["status"] == "sent" and [s["email"] for s in env["signers"]] == [first_email, owner.email]
    assert env["cc"][0]["email"] == "finance@example.com" and env["expiry_days"] == 10
    assert env["signing_order"] == "sequential" and env["reminder_max"] == 1
    await run_jobs(app)
    assert count_mails(mailbox, first_email) == 1

    page = await client.get(f"/envelopes/{env_id}")
    assert page.status_code == 200 and "Out for signature" in page.text and "李雷" in page.text
    assert 'data-event="created"' in page.text and 'data-event="sent"' in page.text
    assert "hash chain verifies" in page.text and "Waiting for their turn" in page.text  # Party B waits
    doc_page = await client.get(f"/documents/{doc_id}")
    assert f'href="/envelopes/{env_id}"' in doc_page.text

    r = await client.post(f"/envelopes/{env_id}/remind", headers=htmx(csrf))
    assert r.status_code == 200 and "Reminder sent." in r.text and 'data-event="reminded"' in r.text
    assert 'id="trail" hx-swap-oob="true"' in r.text
    await run_jobs(app)
    assert count_mails(mailbox, first_email) == 2 and count_mails(mailbox, owner.email) == 0
    r = await client.post(f"/envelopes/{env_id}/remind", headers=htmx(csrf))
    assert r.status_code == 409 and "less than an hour ago" in r.text

    r = await client.post(f"/envelopes/{env_id}/void", data={"reason": " "}, headers=htmx(csrf))
    assert r.status_code == 422 and "Say why" in r.text
    r = await client.post(
        f"/envelopes/{env_id}/void", data={"reason": "金额有误，重新发起"}, headers=htmx(csrf)
    )
    assert r.status_code == 200 and r.headers["hx-redirect"] == f"/envelopes/{env_id}"
    page = await client.get(f"/envelopes/{env_id}")
    assert "金额有误，重新发起" in page.text and 'data-event="voided"' in page.text
    assert "Remind now" not in page.text
    r = await client.post(f"/envelopes/{env_id}/remind", headers=htmx(csrf))
    assert r.status_code == 409 and "Only an envelope out for signature" in r.text


async def test_the_envelope_list_filters_mine_team_and_status_and_pages(client, app, mailbox, monkeypatch):
    from app.web import envelopes

    owner = await signup(client)
    rep = await add_member(client, owner, mailbox, app)
    doc_id = await ready_contract(client, app, owner)
    mine = await make_envelope(client, owner, doc_id, [signer("李雷")], title="我的合同")
    draft = await make_envelope(client, owner, doc_id, [signer("韩梅梅")], send=False, title="草稿合同")
    their_doc = await ready_contract(client, app, rep)  # a rep sends only what they see: their own
    theirs = await make_envelope(client, rep, their_doc, [signer("王芳")], title="同事的合同")
    await sign_in(client, owner)
    listed = (await client.get("/envelopes")).text
    assert f'href="/envelopes/{mine["id"]}"' in listed and f'href="/envelopes/{draft["id"]}"' in listed
    assert f'href="/envelopes/{theirs["id"]}"' not in listed
    team = (await client.get("/envelopes", params={"view": "team"})).text
    assert all(f'href="/envelopes/{e["id"]}"' in team for e in (mine, draft, theirs))
    sent = (await client.get("/envelopes", params={"view": "team", "status": "sent"})).text
    assert f'href="/envelopes/{draft["id"]}"' not in sent and f'href="/envelopes/{theirs["id"]}"' in sent
    none = (await client.get("/envelopes", params={"status": "completed"})).text
    assert "No envelope matches." in none

    monkeypatch.setattr(envelopes, "PAGE_SIZE", 2)
    first = (await client.get("/envelopes", params={"view": "team"})).text
    more = re.search(r'hx-get="(/envelopes\?view=team&(?:amp;)?cursor=[^"]+)"', first)
    assert more, first
    rest = await client.get(more.group(1).replace("&amp;", "&"), headers=HTMX)
    assert rest.status_code == 200 and "<html" not in rest.text and 'href="/envelopes/' in rest.text
    shown = set(re.findall(r'href="/envelopes/([0-9a-f-]{36})"', first + rest.text))
    assert shown == {mine["id"], draft["id"], theirs["id"]}


async def test_a_completed_envelope_offers_the_sealed_pdf_and_its_certificate(client, app, mailbox):
    owner = await signup(client)
    doc_id = await ready_contract(client, app, owner)
    a = signer("李雷")
    env = await make_envelope(client, owner, doc_id, [a])
    await run_jobs(app)
    assert (await sign_typed(client, link_for(mailbox, a["email"]), "李雷")).status_code == 200
    await run_jobs(app)
    await sign_in(client, owner)
    page = await client.get(f"/envelopes/{env['id']}")
    assert "Completed" in page.text and "Download the sealed PDF" in page.text
    assert 'data-event="signed"' in page.text and 'data-event="completed"' in page.text
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=owner.headers)).json()
    sealed = await fetch(got["signed_pdf_url"])
    cert = await client.get(f"/envelopes/{env['id']}/certificate.pdf")
    assert cert.status_code == 200 and cert.headers["content-type"] == "application/pdf"
    assert 0 < page_count(cert.content) < page_count(sealed)
    assert got["id"] in pdf_text(cert.content)  # the certificate names its envelope


async def test_another_tenants_envelope_is_the_404_page(client, app):
    theirs = await signup(client)
    doc_id = await ready_contract(client, app, theirs)
    env = await make_envelope(client, theirs, doc_id, [signer("李雷")])
    mine = await signup(client)
    csrf = await sign_in(client, mine)
    for path in (
        f"/envelopes/{env['id']}",
        f"/envelopes/{env['id']}/certificate.pdf",
        f"/documents/{doc_id}/send",
    ):
        r = await client.get(path)
        assert r.status_code == 404 and "<h1>Not found</h1>" in r.text, path
    for action in ("remind", "void"):
        r = await client.post(f"/envelopes/{env['id']}/{action}", data={"reason": "x"}, headers=htmx(csrf))
        assert r.status_code == 404 and "<html" not in r.text, action
    r = await post_send(client, csrf, doc_id, send_form())
    assert r.status_code == 404


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def upload_page(
    client: Any, csrf: str, data: bytes, kind: str = "contract", locale: str = "zh-CN"
) -> Any:
    return await client.post(
        "/settings/templates",
        data={"kind": kind, "locale": locale},
        files={"file": ("我的合同.docx", data, DOCX)},
        headers=htmx(csrf),
    )


async def test_a_hostile_template_shows_its_findings_in_place_and_nothing_is_stored(client, admin_db):
    owner = await signup(client)
    csrf = await sign_in(client, owner)
    page = await client.get("/settings/templates")
    assert page.status_code == 200 and 'hx-encoding="multipart/form-data"' in page.text
    assert "No template uploaded yet" in page.text
    split = cases.docx_with(["合同编号：{{ contract.number }}", ["乙方：{{ party_", "b.name }}"]])
    r = await upload_page(client, csrf, split)
    assert r.status_code == 422 and "<html" not in r.text and "was not stored: 1 problem(s)" in r.text
    # where it is: the part and paragraph in words, and that paragraph with the tag marked
    assert "Body, paragraph 2" in r.text and "split across Word runs" in r.text
    assert "<blockquote>乙方：<mark>{{ party_b.name }}</mark></blockquote>" in r.text
    hostile = cases.docx_with(
        ["合同编号：{{ contract.number }}", "甲方：{{ party_a.__class__ }}", "{{ secret_sauce }}"]
    )
    r = await upload_page(client, csrf, hostile)
    assert r.status_code == 422 and "problem(s) to fix" in r.text
    assert "Unsafe attribute __class__ in Body, paragraph 2" in r.text
    assert "Unknown variable secret_sauce in Body, paragraph 3" in r.text
    assert "<mark>secret_sauce</mark>" in r.text
    macro = await upload_page(client, csrf, cases.with_macro(cases.docx_with(["{{ party_a.full_name }}"])))
    assert macro.status_code == 422 and 'data-code="macro"' in macro.text and "macros" in macro.text
    stored = "SELECT count(*) FROM document_templates WHERE tenant = $1::uuid"
    assert await db_value(admin_db, stored, owner.tenant_id) == 0


async def test_upload_activate_deactivate_and_preview_a_template(client, app, admin_db):
    owner = await signup(client)
    csrf = await sign_in(client, owner)
    good = cases.docx_with(["合同编号：{{ contract.number }}", "甲方：{{ party_a.full_name }}"])
    r = await upload_page(client, csrf, good)
    assert (
        r.status_code == 200
        and "Version 1 is stored" in r.text
        and 'hx-swap-oob="afterbegin:#template-list"' in r.text
    )
    v1 = await db_value(
        admin_db, "SELECT id::text FROM document_templates WHERE tenant = $1::uuid", owner.tenant_id
    )
    r = await upload_page(client, csrf, good)
    assert "Version 2 is stored" in r.text
    v2 = re.search(r'id="template-([0-9a-f-]{36})"', r.text)
    assert v2 and v2.group(1) != v1

    r = await client.post(f"/settings/templates/{v1}/activate", headers=htmx(csrf))
    assert r.status_code == 200 and "Version 1 is active" in r.text
    r = await client.post(f"/settings/templates/{v2.group(1)}/activate", headers=htmx(csrf))
    assert "Version 2 is active" in r.text
    # both versions are swapped in place: the first is no longer active
    first = re.search(rf'<li class="item" id="template-{v1}" hx-swap-oob="true">(.*?)</li>', r.text, re.S)
    assert first and "Deactivate" not in first.group(1) and "Activate" in first.group(1)
    active = await db_value(
        admin_db, "SELECT version FROM document_templates WHERE tenant = $1::uuid AND active", owner.tenant_id
    )
    assert active == 2
    r = await client.post(f"/settings/templates/{v2.group(1)}/deactivate", headers=htmx(csrf))
    assert "no longer used" in r.text
    listed = await client.get("/settings/templates", params={"kind": "contract", "locale": "zh-CN"})
    assert listed.text.count('class="item" id="template-') == 2
    assert (await client.get("/settings/templates", params={"kind": "quote"})).text.count(
        'class="item" id="template-'
    ) == 0

    r = await client.post(f"/settings/templates/{v1}/preview", headers=htmx(csrf))
    doc = re.fullmatch(r"/documents/([0-9a-f-]{36})", r.headers.get("hx-redirect", ""))
    assert doc, r.headers
    await run_jobs(app)
    page = await client.get(f"/documents/{doc.group(1)}")
    assert "Sample data" in page.text and "Version 1" in page.text
    assert 'data-status="ready"' in page.text


async def test_a_rep_on_the_templates_page_is_refused(client, app, mailbox):
    owner = await signup(client)
    rep = await add_member(client, owner, mailbox, app)
    csrf = await sign_in(client, rep)
    r = await client.get("/settings/templates")
    assert r.status_code == 403 and "<h1>" in r.text and "admin" in r.text
    r = await upload_page(client, csrf, cases.docx_with(["{{ party_a.full_name }}"]))
    assert r.status_code == 403 and "<html" not in r.text
    assert 'href="/settings/templates"' not in (await client.get("/documents")).text
