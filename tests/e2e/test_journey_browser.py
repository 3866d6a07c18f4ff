"""The whole journey of a new company in real Chromium, chained in one test against the real worker, moto
S3, the SMTP capture and LibreOffice: the owner signs the company up on /signup and lands on the
onboarding checklist → adds a territory from its step → invites a rep on /members with that territory
ticked (the mail read from the capture) → the rep accepts on the invite page → the rep opens a deal from
their customer, builds three quote rounds, the third under the floor, and submits it → the owner
approves it in /approvals → the rep fills in the contract terms, generates the contract (rendered by the
worker), sends it for signature → the customer signs on the signing page (the link read from the mail),
then the rep as Party B (the send form's second signer) → the deal page shows the deal signed, its
collections and the sealed PDF, whose seal validates, and its evidence report every link of which
checks. The rep's parts run on a phone (390×844), the
owner's and the customer's on a desktop (1280×800); ``check_page`` (axe-core) on every page visited.

The company's data the journey does not walk through (its profile for Party B, the price list, the rep's
customer) is set up through the API as the owner; its territory is added from the checklist. It is slow
(a LibreOffice render and a seal): it prints how long it took."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from typing import Any

import httpx
import pytest

from app.signing.seal import check_seal
from tests.e2e.support import VIEWPORTS, check_page
from tests.e2e.test_deals_browser import DEAL_URL, _create_round, _fill_line, _shop
from tests.e2e.test_documents_browser import UUID, first_image_shown
from tests.e2e.test_setup_browser import _sign_up, _watch
from tests.factories import company_profile, customer, db_value
from tests.helpers import PASSWORD, Member, last_link, run_jobs
from tests.integration.signing.support import link_for, signer
from tests.integration.web.test_document_pages import needs_pdf

pytestmark = pytest.mark.e2e


async def _api_session(client: Any, email: str) -> Member:
    """The API session of a member who signed up or joined in the browser."""
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    session = r.json()["session"]
    member = Member(session["token"], session["csrf_token"], email, session["tenant"]["slug"])
    me = (await client.get("/api/v1/me", headers=member.headers)).json()
    member.tenant_id, member.user_id = me["tenant_id"], me["user_id"]
    return member


async def test_a_new_company_from_signup_to_a_signed_contract(
    client, app, admin_db, mailbox, base_url, browser
):
    needs_pdf()
    started = time.monotonic()

    # the owner, on a desktop: sign up → the onboarding checklist
    owner_context = await browser.new_context(viewport=VIEWPORTS["desktop"])
    page = await owner_context.new_page()
    errors = _watch(page)
    await page.goto(f"{base_url}/signup")
    await check_page(page)
    owner_email = f"owner-{secrets.token_hex(4)}@example.com"
    await _sign_up(page, base_url, company="青禾软件有限公司", name="王总", email=owner_email, locale="en")
    await check_page(page)
    assert "0 of 6 steps done" in await page.inner_text("main")

    # the checklist's territory step: its link, the territories page, one added, ticked on return
    await page.click("#step-territories h2 a")
    await page.wait_for_url(f"{base_url}/territories")
    await check_page(page)
    await page.click("#add-territory summary")
    await page.fill("#new-name", "苏州市")
    await page.click("form[hx-post='/territories'] button[type=submit]")
    await page.wait_for_selector("#add-msg .ok")
    await check_page(page)
    await page.goto(f"{base_url}/onboarding")
    assert await page.get_attribute("#step-territories", "data-done") == "yes"

    owner = await _api_session(client, owner_email)
    await company_profile(client, owner)
    area = (await client.get("/api/v1/territories", headers=owner.headers)).json()["items"][0]
    assert area["name"] == "苏州市"
    shop = await _shop(client, owner)

    # invite a rep into the territory; the worker mails the link
    await page.click("nav a:has-text('Members')")
    await page.wait_for_url(f"{base_url}/members")
    await check_page(page)
    rep_email = f"rep-{secrets.token_hex(4)}@example.com"
    await page.fill("#invite-email", rep_email)
    await page.select_option("#invite-role", "rep")
    await page.check(f"#invite-territory-{area['id']}")
    await page.click("button:has-text('Send the invitation')")
    await page.wait_for_selector("#invite-msg .ok")
    assert "苏州市 (Sales rep)" in await page.inner_text("#invitations")
    await check_page(page)
    await run_jobs(app)
    token = last_link(mailbox, to=rep_email)

    # the rep, on a phone: accept the invitation (the session starts there)
    rep_context = await browser.new_context(viewport=VIEWPORTS["phone"])
    rep_page = await rep_context.new_page()
    rep_errors = _watch(rep_page)
    await rep_page.goto(f"{base_url}/invite/{token}")
    assert "苏州市" in await rep_page.inner_text("#invite-territories")
    await check_page(rep_page)
    await rep_page.fill("#name", "李业务")
    await rep_page.fill("#password", PASSWORD)
    await rep_page.click("button[type=submit]")
    await rep_page.wait_for_selector("p.ok")
    await check_page(rep_page)
    rep = await _api_session(client, rep_email)
    members = (await client.get("/api/v1/members", headers=owner.headers)).json()["items"]
    rep_membership = next(m["id"] for m in members if m["user_id"] == rep.user_id)
    joined = "SELECT role FROM territory_members WHERE membership_id = $1::uuid AND territory_id = $2::uuid"
    assert await db_value(admin_db, joined, rep_membership, area["id"]) == "rep"
    party_a = await customer(
        client,
        owner,
        area["id"],
        owner_membership_id=rep_membership,
        full_name="苏州恒泰精密机械有限公司",
        address="苏州工业园区星湖街 218 号",
        phone="0512-62883456",
    )

    # the rep opens a deal from the customer's page and builds three rounds, the third under the floor
    await rep_page.goto(f"{base_url}/customers/{party_a['id']}")
    await check_page(rep_page)
    await rep_page.click("a:has-text('New deal')")
    await rep_page.wait_for_url(f"{base_url}/deals/new?customer_id={party_a['id']}")
    await check_page(rep_page)
    await rep_page.fill("#title", "恒泰财务系统项目")
    await rep_page.fill("#amount", "80000")
    await rep_page.click("button:has-text('Open the deal')")
    await rep_page.wait_for_url(DEAL_URL)
    deal_url = rep_page.url
    await check_page(rep_page)
    await _fill_line(rep_page, 0, shop["erp"]["id"], "10", "6800.00")
    await rep_page.click("#add-line")
    await rep_page.wait_for_selector("#line-1-product_id")
    await _fill_line(rep_page, 1, shop["svc"]["id"], "5", "1200.00")
    await _create_round(rep_page, 1)
    await rep_page.fill("#line-0-unit_price", "6000.00")
    await _create_round(rep_page, 2)
    await rep_page.fill("#line-0-unit_price", "4800.00")
    await rep_page.wait_for_selector("#quote-preview [data-flag='below-floor']")
    await _create_round(rep_page, 3)
    third = rep_page.locator("article:has(#h-round-3)")
    assert "below floor" in await third.inner_text()
    await third.locator("button:has-text('Submit for approval')").click()
    await rep_page.wait_for_selector("article:has(#h-round-3) :text('Waiting for approval')")
    await check_page(rep_page)

    # the owner approves the below-floor round in the inbox
    await page.goto(f"{base_url}/approvals")
    await check_page(page)
    request = page.locator("li.approval", has_text="恒泰财务系统项目")
    assert await request.count() == 1
    assert "Under the floor price" in await request.inner_text()
    await request.locator("button:has-text('Approve')").click()
    await request.locator("[id^=msg-approval-] .ok").wait_for()
    await check_page(page)

    # the rep generates the contract; the worker renders it; the rep sends it for signature
    await rep_page.goto(deal_url)
    assert "Approved" in await rep_page.locator("article:has(#h-round-3)").inner_text()
    await rep_page.fill("#party_a_contact", "张建国")  # the contract terms: Party A's contact
    async with rep_page.expect_navigation():  # saved, the page reloads
        await rep_page.click("button:has-text('Save the terms')")
    assert await rep_page.input_value("#party_a_contact") == "张建国"
    assert await rep_page.locator("text=Still missing for the contract").count() == 0
    await check_page(rep_page)
    await rep_page.click("a:has-text('Generate document') >> nth=0")
    await rep_page.wait_for_url(f"{deal_url}/documents/new")
    await check_page(rep_page)
    await rep_page.select_option("#kind", "contract")
    await rep_page.select_option("#locale", "zh-CN")
    await rep_page.click("#generate-form button[type=submit]")
    await rep_page.wait_for_url(re.compile(rf"{base_url}/documents/{UUID}$"))
    await check_page(rep_page)
    await run_jobs(app)
    await rep_page.wait_for_selector("#doc-status[data-status=ready]", timeout=60_000)
    await first_image_shown(rep_page)
    await check_page(rep_page)
    await rep_page.click("text=Send for signature")
    await rep_page.wait_for_url(re.compile(rf"{base_url}/documents/{UUID}/send$"))
    await check_page(rep_page)
    who = signer("张建国")
    await rep_page.fill("#signer_name_1", who["name"])
    await rep_page.fill("#signer_email_1", who["email"])
    await rep_page.click("form button[type=submit]")
    await rep_page.wait_for_url(re.compile(rf"{base_url}/envelopes/{UUID}$"))
    envelope_url = rep_page.url
    assert "Out for signature" in await rep_page.inner_text("#envelope-status")
    await check_page(rep_page)

    # the customer, on a desktop, signs from the link in the mail
    await run_jobs(app)
    customer_context = await browser.new_context(viewport=VIEWPORTS["desktop"])
    sign_page = await customer_context.new_page()
    sign_errors = _watch(sign_page)
    await sign_page.goto(f"{base_url}/sign/{link_for(mailbox, who['email'])}")
    await sign_page.wait_for_selector(".pages img")
    await check_page(sign_page)
    await sign_page.check("#consent")
    await sign_page.check("#kind-typed")
    await sign_page.fill("#typed_name", who["name"])
    await sign_page.click("#sign-button")
    await sign_page.wait_for_selector("text=谢谢，您已签署")  # a Chinese contract: its signing page is too
    await check_page(sign_page)

    # Party B signs too: the rep (the send form's second signer), from their own mail, on the phone
    await run_jobs(app)
    await rep_page.goto(f"{base_url}/sign/{link_for(mailbox, rep_email)}")
    await rep_page.wait_for_selector(".pages img")
    await check_page(rep_page)
    await rep_page.check("#consent")
    await rep_page.check("#kind-typed")
    await rep_page.fill("#typed_name", "李业务")
    await rep_page.click("#sign-button")
    await rep_page.wait_for_selector("text=谢谢，您已签署")
    await run_jobs(app)  # the seal, the deal moved to signed, the collections started

    # the rep's deal page: signed, its collections, the sealed PDF
    await rep_page.goto(deal_url)
    await rep_page.wait_for_selector(".stepper li.current:has-text('Signed')")
    assert await rep_page.locator("[id^=collection-]").count() >= 1
    signed = rep_page.locator("#signed-contract")
    assert who["name"] in await signed.inner_text()
    await check_page(rep_page)
    href = await rep_page.get_attribute("#sealed-pdf", "href")
    assert href
    async with httpx.AsyncClient() as http:
        sealed = (await http.get(href)).content
    assert sealed.startswith(b"%PDF")
    seal = await asyncio.to_thread(check_seal, sealed)
    assert seal.signed and seal.intact and seal.valid and seal.covers_whole_file

    # its evidence report, from the envelope page: every link from the template to the seal checks
    await rep_page.goto(envelope_url)
    await rep_page.click("text=Evidence report")
    await rep_page.wait_for_url(re.compile(rf"{base_url}/envelopes/{UUID}/evidence$"))
    assert "Every link checks" in await rep_page.inner_text("#report-verdict")
    assert await rep_page.locator("[id^=link-][data-ok=no]").count() == 0
    assert await rep_page.locator("[id^=link-][data-ok=yes]").count() >= 8
    await check_page(rep_page)
    assert errors == [] and rep_errors == [] and sign_errors == []
    for context in (owner_context, rep_context, customer_context):
        await context.close()
    print(f'{{"journey_seconds": {time.monotonic() - started:.1f}}}')
