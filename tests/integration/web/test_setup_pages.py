"""The owner's setup pages over HTTP: signing up on /signup lands on the onboarding checklist (a refused
signup shows its field's message and creates nothing), each tick of the checklist follows the data,
the members page invites (a mail goes out), resends, revokes and changes roles, the pool rules save
and a wrong value is shown inline with nothing saved, billing says plainly when it is off, the other
settings pages save through their services; a rep is refused every admin page and another tenant's
member or invitation is the 404."""

from __future__ import annotations

import re
import secrets

from tests.factories import company_profile, db_value, picture, territory
from tests.helpers import PASSWORD, mails_to, run_jobs, signup
from tests.integration.billing.support import subscribe
from tests.integration.customers.pool.support import quick_members, team
from tests.integration.web.support import HTMX, htmx, sign_in


def _form(**over: str) -> dict[str, str]:
    tag = secrets.token_hex(4)
    return {
        "company_name": "青禾软件有限公司",
        "slug": f"qh-{tag}",
        "name": "王总",
        "email": f"boss-{tag}@example.com",
        "password": PASSWORD,
        "locale": "en",
        "time_zone": "Asia/Shanghai",
        "currency": "CNY",
        **over,
    }


async def test_signup_lands_on_the_onboarding_checklist(client, admin_db):
    client.cookies.clear()
    page = await client.get("/login")
    assert 'href="/signup"' in page.text
    page = await client.get("/signup")
    assert page.status_code == 200 and 'name="slug"' in page.text and 'name="currency"' in page.text
    form = _form()
    r = await client.post("/signup", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/onboarding", r.text
    assert client.cookies.get("acre_session") and client.cookies.get("acre_csrf")
    board = await client.get("/onboarding")
    assert board.status_code == 200 and "<h1>Get started</h1>" in board.text
    assert "0 of 6 steps done" in board.text and 'href="/settings/company"' in board.text
    assert 'href="/onboarding"' in board.text  # in the owner's navigation
    role = await db_value(
        admin_db,
        "SELECT m.role FROM memberships m JOIN tenants t ON t.id = m.tenant WHERE t.slug = $1",
        form["slug"],
    )
    assert role == "owner"
    trial = await db_value(admin_db, "SELECT billing_status FROM tenants WHERE slug = $1", form["slug"])
    assert trial == "trialing"


async def test_a_refused_signup_shows_the_field_and_creates_nothing(client, admin_db):
    taken = await signup(client)
    cases = [
        ({"slug": taken.tenant_slug}, "slug", "is taken"),
        ({"password": "password"}, "password", "Use at least 10 characters"),
        ({"password": "aaaaaaaaaaaa"}, "password", "too easy to guess"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address"),
        ({"slug": "-Bad Slug-"}, "slug", "lowercase letters"),
        ({"company_name": " "}, "company_name", "Required"),
    ]
    for over, field, text in cases:
        client.cookies.clear()
        form = _form(**over)
        r = await client.post("/signup", data=form)
        assert r.status_code in (409, 422), (over, r.status_code)
        assert f'id="{field}-error"' in r.text and text in r.text, (over, r.text)
        assert f'id="{field}"' in r.text and 'aria-invalid="true"' in r.text
        assert f'value="{form["password"]}"' not in r.text  # the password is never sent back
        assert "acre_session" not in r.cookies
        assert await db_value(admin_db, "SELECT count(*) FROM users WHERE email = $1", form["email"]) == 0
        tenants = await db_value(admin_db, "SELECT count(*) FROM tenants WHERE slug = $1", form["slug"])
        assert tenants == (1 if form["slug"] == taken.tenant_slug else 0)


async def test_each_checklist_tick_follows_the_data(client, admin_db, app):
    t = await team(client, admin_db, reps=0)
    owner = t.owner  # team() made a territory already
    await sign_in(client, owner)

    async def ticks() -> dict[str, str]:
        text = (await client.get("/onboarding")).text
        return dict(re.findall(r'id="step-(\w+)" data-done="(yes|no)"', text))

    assert await ticks() == {
        "company": "no",
        "territories": "yes",
        "team": "no",
        "pool": "no",
        "prices": "no",
        "templates": "no",
    }
    await company_profile(client, owner)
    r = await client.post(
        "/api/v1/invitations", json={"email": "newrep@example.com", "role": "rep"}, headers=owner.headers
    )
    assert r.status_code == 201
    r = await client.put("/api/v1/pool-rules", json={"owned_cap": 50}, headers=owner.headers)
    assert r.status_code == 200
    r = await client.post(
        "/api/v1/products",
        json={"sku": "ERP-1", "name": "ERP", "unit": "seat", "list_price": "100", "floor_price": "80"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    await sign_in(client, owner)
    after = await ticks()
    assert after == {**after, "company": "yes", "team": "yes", "pool": "yes", "prices": "yes"}
    assert after["templates"] == "no"
    assert "5 of 6 steps done" in (await client.get("/onboarding")).text


async def test_invite_resend_revoke_and_change_a_role(client, admin_db, app, mailbox):
    t = await team(client, admin_db, reps=1)
    csrf = await sign_in(client, t.owner)
    page = await client.get("/members")
    assert page.status_code == 200 and "<h1>Members</h1>" in page.text
    assert "2 of 10 seats in use" in page.text or "2 seats in use" in page.text
    assert f'href="/members/{t.reps[0].membership_id}/offboard"' in page.text

    addr = f"invitee-{secrets.token_hex(3)}@example.com"
    r = await client.post("/members/invite", data={"email": addr, "role": "manager"}, headers=htmx(csrf))
    assert r.status_code == 200 and f"Invitation sent to {addr}" in r.text, r.text
    assert 'id="invitations" hx-swap-oob="true"' in r.text and addr in r.text
    await run_jobs(app)
    [mail] = mails_to(mailbox, addr)
    assert "/invite/" in mail.get_body(preferencelist=("plain",)).get_content()

    bad = await client.post("/members/invite", data={"email": "nope", "role": "rep"}, headers=htmx(csrf))
    assert bad.status_code == 422 and "Enter a valid email address" in bad.text and "<html" not in bad.text
    assert await db_value(admin_db, "SELECT count(*) FROM invitations WHERE email = 'nope'") == 0

    again = await client.post("/members/invite", data={"email": addr, "role": "manager"}, headers=htmx(csrf))
    assert again.status_code == 200  # resend: the pending one is replaced
    await run_jobs(app)
    assert len(mails_to(mailbox, addr)) == 2
    pending = await db_value(
        admin_db,
        "SELECT id::text FROM invitations WHERE email = $1 AND revoked_at IS NULL",
        addr,
    )
    r = await client.post(f"/invitations/{pending}/revoke", headers=htmx(csrf))
    assert r.status_code == 200 and "Revoked." in r.text and f'id="invite-{pending}-status"' in r.text
    assert await db_value(
        admin_db, "SELECT revoked_at IS NOT NULL FROM invitations WHERE id = $1::uuid", pending
    )

    rep = t.reps[0]
    r = await client.post(f"/members/{rep.membership_id}/role", data={"role": "manager"}, headers=htmx(csrf))
    assert r.status_code == 200 and "Role changed." in r.text and "Territory manager" in r.text
    role = await db_value(admin_db, "SELECT role FROM memberships WHERE id = $1::uuid", rep.membership_id)
    assert role == "manager"
    r = await client.post(f"/members/{t.owner.membership_id}/role", data={"role": "rep"}, headers=htmx(csrf))
    assert r.status_code == 409 and "last owner" in r.text and "<html" not in r.text

    other = await territory(client, t.owner, "无锡市")
    r = await client.post(
        f"/members/{rep.membership_id}/territories",
        data={"territory_id": other["id"], "role": "manager"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and "Added to 无锡市" in r.text, r.text


async def test_pool_rules_save_and_a_wrong_value_is_inline(client, admin_db):
    t = await team(client, admin_db, reps=0)
    csrf = await sign_in(client, t.owner)
    page = await client.get("/settings/pool-rules")
    assert page.status_code == 200 and 'name="B_no_followup_days"' in page.text and 'value="30"' in page.text
    form = {"owned_cap": "80", "daily_claim_cap": "5", "warning_days": "3", "cooldown_days": "7"}
    for g, days in zip("ABCD", ("10", "20", "40", ""), strict=True):
        form |= {f"{g}_no_followup_days": days, f"{g}_no_deal_days": "", f"{g}_owned_cap": ""}
    form["A_owned_cap"] = "20"
    r = await client.post("/settings/pool-rules", data=form, headers=htmx(csrf))
    assert r.status_code == 200 and "Saved." in r.text
    rules = (await client.get("/api/v1/pool-rules", headers=t.owner.headers)).json()
    assert rules["owned_cap"] == 80 and rules["daily_claim_cap"] == 5
    assert rules["grades"]["A"] == {"no_followup_days": 10, "no_deal_days": None, "owned_cap": 20}
    assert rules["grades"]["D"]["no_followup_days"] is None  # blank: never reclaimed

    for bad, field, text in (
        ({"B_no_followup_days": "2"}, "Days without a follow-up", "more than the warning days"),
        ({"owned_cap": "0"}, "Customers a member may hold", "from 1 to 100000"),
        ({"C_owned_cap": "lots"}, "Cap for the grade", "Use a number"),
    ):
        r = await client.post("/settings/pool-rules", data={**form, **bad}, headers=htmx(csrf))
        assert r.status_code == 422 and field in r.text and text in r.text and "<html" not in r.text, r.text
    again = (await client.get("/api/v1/pool-rules", headers=t.owner.headers)).json()
    assert again == rules  # nothing saved


async def test_the_other_settings_pages_save(client, admin_db):
    t = await team(client, admin_db, reps=0)
    csrf = await sign_in(client, t.owner)
    h = htmx(csrf)
    index = await client.get("/settings")
    assert index.status_code == 200 and 'href="/settings/stages"' in index.text

    r = await client.post(
        "/settings/company", data={"legal_name": "青禾软件有限公司", "credit_code": "123"}, headers=h
    )
    assert r.status_code == 422 and "Unified social credit code" in r.text
    r = await client.post(
        "/settings/company",
        data={
            "legal_name": "青禾软件有限公司",
            "credit_code": "91310115MA1K4A2B3A",
            "onsite_day_rate": "800",
        },
        headers=h,
    )
    assert r.status_code == 200 and "version 1" in r.text
    assert 'value="青禾软件有限公司"' in (await client.get("/settings/company")).text

    r = await client.post(
        "/settings/price-list",
        data={
            "sku": "CRM-STD",
            "name": "CRM 标准版",
            "unit": "seat",
            "list_price": "1000",
            "floor_price": "1200",
        },
        headers=h,
    )
    assert r.status_code == 422 and "floor price cannot be above" in r.text
    r = await client.post(
        "/settings/price-list",
        data={
            "sku": "CRM-STD",
            "name": "CRM 标准版",
            "unit": "seat",
            "list_price": "1000",
            "floor_price": "800",
        },
        headers=h,
    )
    assert (
        r.status_code == 200
        and "Added CRM-STD" in r.text
        and 'hx-swap-oob="afterbegin:#product-list"' in r.text
    )
    product = (await client.get("/api/v1/products", headers=t.owner.headers)).json()["items"][0]
    r = await client.post(
        f"/settings/price-list/{product['id']}",
        data={"name": "CRM 标准版", "unit": "seat", "list_price": "1100", "floor_price": "900"},
        headers=h,
    )
    assert r.status_code == 200
    product = (await client.get(f"/api/v1/products/{product['id']}", headers=t.owner.headers)).json()
    assert float(product["floor_price"]) == 900 and not product["active"]  # unticked: no longer offered
    assert "CRM 标准版" in (await client.get("/settings/price-list")).text

    cells = {"prospect_list__demo": "forbidden", "require_approved_quote": "1"}
    r = await client.post("/settings/stages", data=cells, headers=h)
    assert r.status_code == 200
    rules = (await client.get("/api/v1/deals/stage-rules", headers=t.owner.headers)).json()
    assert rules["matrix"]["prospect_list"]["demo"] == "forbidden" and rules["require_approved_quote"]
    assert 'class="rule-forbidden"' in (await client.get("/settings/stages")).text

    tiers = {
        f"{tier}_{k}_days": "30"
        for tier in ("active", "priority", "normal", "last")
        for k in ("call", "visit")
    }
    grades = {f"grade_{g}": "normal" for g in "ABCD"}
    r = await client.post(
        "/settings/cadences", data={**tiers, **grades, "return_visit_days": "7, 30"}, headers=h
    )
    assert r.status_code == 200, r.text
    cad = (await client.get("/api/v1/cadences", headers=t.owner.headers)).json()
    assert cad["grade_tiers"]["A"] == "normal" and cad["return_visit_days"] == [7, 30]
    r = await client.post(
        "/settings/cadences", data={**tiers, **grades, "return_visit_days": "7, 7"}, headers=h
    )
    assert r.status_code == 422 and "only once" in r.text

    r = await client.post("/settings/referral-rewards", data={"kind": "amount", "amount": "200"}, headers=h)
    assert r.status_code == 200
    rew = (await client.get("/api/v1/referral-reward-settings", headers=t.owner.headers)).json()
    assert rew["kind"] == "amount" and rew["currency"] == "CNY"
    r = await client.post("/settings/referral-rewards", data={"kind": "points", "points": "0"}, headers=h)
    assert r.status_code == 422 and "from 1 to" in r.text

    assert (await client.get("/settings/ledger")).status_code == 200
    r = await client.get("/settings/ledger/verify", headers=HTMX)
    assert r.status_code == 200 and 'id="ledger-ok"' in r.text


async def test_billing_off_says_so_plainly(client, admin_db):
    t = await team(client, admin_db, reps=0)
    csrf = await sign_in(client, t.owner)
    page = await client.get("/billing")
    assert page.status_code == 200 and 'id="billing-off"' in page.text and "Billing is off" in page.text
    r = await client.post("/billing/checkout", data={"plan": "team"}, headers=htmx(csrf))
    assert r.status_code == 409 and "Billing is off" in r.text and "hx-redirect" not in r.headers


async def test_a_rep_is_refused_every_admin_page(client, admin_db):
    t = await team(client, admin_db, reps=1)
    csrf = await sign_in(client, t.reps[0])
    home = (await client.get("/")).text
    assert 'href="/settings"' not in home and 'href="/members"' not in home
    for path in (
        "/onboarding",
        "/members",
        "/billing",
        "/settings",
        "/settings/company",
        "/settings/pool-rules",
        "/settings/cadences",
        "/settings/stages",
        "/settings/price-list",
        "/settings/referral-rewards",
        "/settings/ledger",
    ):
        r = await client.get(path)
        assert r.status_code == 403 and "<html" in r.text, path
    r = await client.post(
        "/members/invite", data={"email": "x@example.com", "role": "rep"}, headers=htmx(csrf)
    )
    assert r.status_code == 403
    rules = {"owned_cap": "5", "warning_days": "3", "cooldown_days": "7"}
    r = await client.post("/settings/pool-rules", data=rules, headers=htmx(csrf))
    assert r.status_code == 403


async def test_another_tenants_member_or_invitation_is_404(client, admin_db):
    mine, theirs = await team(client, admin_db, reps=0), await team(client, admin_db, reps=1)
    r = await client.post(
        "/api/v1/invitations", json={"email": "their-invitee@example.com"}, headers=theirs.owner.headers
    )
    their_invitation = r.json()["id"]
    csrf = await sign_in(client, mine.owner)
    h = htmx(csrf)
    other = theirs.reps[0].membership_id
    assert (await client.post(f"/members/{other}/role", data={"role": "admin"}, headers=h)).status_code == 404
    assert (await client.post(f"/members/{other}/reactivate", headers=h)).status_code == 404
    r = await client.post(
        f"/members/{other}/territories", data={"territory_id": mine.territory["id"]}, headers=h
    )
    assert r.status_code == 404
    assert (await client.post(f"/invitations/{their_invitation}/revoke", headers=h)).status_code == 404
    role = await db_value(admin_db, "SELECT role FROM memberships WHERE id = $1::uuid", other)
    assert role == "rep"


async def test_a_manager_reads_the_team_without_actions(client, admin_db):
    t = await team(client, admin_db, reps=1)
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    await sign_in(client, manager)
    page = await client.get("/members")
    assert page.status_code == 200 and t.reps[0].email in page.text
    assert 'hx-post="/members/invite"' not in page.text and "/offboard" not in page.text


async def test_billing_shows_the_trial_and_goes_to_stripe(client, admin_db, app, billing_on):
    owner = await signup(client)
    csrf = await sign_in(client, owner)
    page = await client.get("/billing")
    assert page.status_code == 200 and 'id="billing-state"' in page.text, page.text
    assert re.search(r"1[34] days left", page.text) and "1 of 10 seats in use" in page.text
    assert 'name="plan" value="team"' in page.text and "customer portal" not in page.text
    r = await client.post("/billing/checkout", data={"plan": "team"}, headers=htmx(csrf))
    assert r.status_code == 200 and r.headers["hx-redirect"].startswith(billing_on.url + "/pay/cs_test_")
    r = await client.post("/billing/checkout", data={"plan": "gold"}, headers=htmx(csrf))
    assert r.status_code == 422 and "Unknown plan" in r.text and "hx-redirect" not in r.headers

    await subscribe(client, owner, billing_on, app)
    page = await client.get("/billing")
    assert "Open the customer portal" in page.text and "days left" not in page.text
    r = await client.post("/billing/portal", headers=htmx(csrf))
    assert r.status_code == 200 and r.headers["hx-redirect"].startswith(billing_on.url)

    await db_value(
        admin_db,
        "UPDATE tenants SET billing_status = 'unpaid' WHERE id = $1::uuid RETURNING 1",
        owner.tenant_id,
    )
    page = await client.get("/billing")
    assert "Read-only" in page.text and "Unpaid" in page.text


async def test_the_seal_uploads_and_a_bad_file_is_refused_in_place(client, admin_db):
    t = await team(client, admin_db, reps=0)
    csrf = await sign_in(client, t.owner)
    page = await client.get("/settings/company")
    assert (
        'hx-post="/settings/company/seal"' in page.text and 'hx-encoding="multipart/form-data"' in page.text
    )
    files = {"file": ("seal.txt", b"not an image", "text/plain")}
    r = await client.post("/settings/company/seal", files=files, headers=htmx(csrf))
    assert r.status_code == 422 and "Upload a PNG or JPEG image" in r.text and 'id="image-seal"' in r.text
    assert (await client.get("/api/v1/company-profile", headers=t.owner.headers)).json()["seal"] is None
    files = {"file": ("seal.png", picture("seal"), "image/png")}
    r = await client.post("/settings/company/seal", files=files, headers=htmx(csrf))
    assert r.status_code == 200 and "Saved." in r.text and "/settings/company/seal/remove" in r.text
    seal = (await client.get("/api/v1/company-profile", headers=t.owner.headers)).json()["seal"]
    assert seal and seal["content_type"] == "image/png"
    r = await client.post("/settings/company/seal/remove", headers=htmx(csrf))
    assert r.status_code == 200 and "Removed." in r.text
    assert (await client.get("/api/v1/company-profile", headers=t.owner.headers)).json()["seal"] is None
