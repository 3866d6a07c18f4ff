"""The web app's pages over HTTP (httpx against the app): a page without a session goes to the login,
the login form signs in (and chooses the company), the pool claims in place with the CSRF header and a
refused claim shows its rule, another tenant's customer is the 404 page, navigation follows the role."""

from __future__ import annotations

import re

from tests.factories import assign, customer, db_value, territory
from tests.helpers import PASSWORD
from tests.integration.customers.pool.support import age, pool_customer, put_rules, quick_members, team
from tests.integration.web.support import HTMX, sign_in


async def test_a_page_without_a_session_goes_to_the_login(client):
    client.cookies.clear()
    r = await client.get("/pool", params={"grade": "A"})
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fpool%3Fgrade%3DA"
    r = await client.get("/pool", headers=HTMX)
    assert r.status_code == 401 and r.headers["hx-redirect"].startswith("/login?next=")
    r = await client.get("/login", params={"next": "https://evil.example/"})
    assert r.status_code == 200 and 'name="next" value="/"' in r.text  # never another host


async def test_sign_in_claim_from_the_pool_and_find_it_under_my_customers(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    made = await pool_customer(
        client, t.owner, t.territory["id"], grade="B", full_name="苏州青禾软件有限公司"
    )

    r = await client.post("/login", data={"email": rep.email, "password": "wrong"})
    assert r.status_code == 401 and "Wrong email or password" in r.text
    csrf = await sign_in(client, rep, next="/pool")
    page = await client.get("/pool")
    assert page.status_code == 200 and "苏州青禾软件有限公司" in page.text
    assert re.search(r'hx-headers="\{&#34;X-CSRF-Token&#34;: &#34;[\w-]+&#34;\}"', page.text)
    assert re.search(r"0 of \d+ owned · 0 claimed today", page.text)

    # a page post without the CSRF header is refused, as in the API
    r = await client.post(f"/customers/{made['id']}/claim", headers=HTMX)
    assert r.status_code == 403 and "CSRF" in r.text
    r = await client.post(f"/customers/{made['id']}/claim", headers={**HTMX, "X-CSRF-Token": csrf})
    assert r.status_code == 200 and f'href="/customers/{made["id"]}"' in r.text
    assert 'id="claim-counter" hx-swap-oob="true"' in r.text and "1 of" in r.text
    owner = await db_value(
        admin_db, "SELECT owner_membership_id::text FROM customers WHERE id = $1::uuid", made["id"]
    )
    assert owner == rep.membership_id

    mine = await client.get("/customers")
    assert mine.status_code == 200 and "苏州青禾软件有限公司" in mine.text
    detail = await client.get(f"/customers/{made['id']}")
    assert detail.status_code == 200 and "No follow-up yet." in detail.text
    r = await client.post(
        f"/customers/{made['id']}/followups",
        data={
            "kind": "visit",
            "result": "appointment",
            "summary": "上门拜访，约了下周演示",
            "next_date": "2031-05-06",
        },
        headers={**HTMX, "X-CSRF-Token": csrf},
    )
    assert (
        r.status_code == 200
        and "上门拜访，约了下周演示" in r.text
        and 'id="timeline" hx-swap-oob="true"' in r.text
    )
    r = await client.post(
        f"/customers/{made['id']}/followups",
        data={"kind": "visit", "summary": " "},
        headers={**HTMX, "X-CSRF-Token": csrf},
    )
    assert r.status_code == 422 and 'class="error"' in r.text and "<html" not in r.text  # inline


async def test_a_refused_claim_shows_its_rule_and_numbers_inline(client, admin_db):
    t = await team(client, admin_db, reps=2, locale="zh-CN")
    await put_rules(client, t.owner, daily_claim_cap=1)
    first = await pool_customer(client, t.owner, t.territory["id"])
    second = await pool_customer(client, t.owner, t.territory["id"])
    csrf = await sign_in(client, t.reps[0])
    headers = {**HTMX, "X-CSRF-Token": csrf}
    assert (await client.post(f"/customers/{first['id']}/claim", headers=headers)).status_code == 200
    r = await client.post(f"/customers/{second['id']}/claim", headers=headers)
    assert r.status_code == 409 and 'data-rule="daily_cap"' in r.text
    assert "1" in r.text and "今天" in r.text and f'hx-get="/customers/{second["id"]}/pool-status"' in r.text
    why = await client.get(f"/customers/{second['id']}/pool-status", headers=HTMX)
    assert why.status_code == 200 and "今天" in why.text

    csrf = await sign_in(client, t.reps[1])
    r = await client.post(f"/customers/{first['id']}/claim", headers={**HTMX, "X-CSRF-Token": csrf})
    assert r.status_code == 409 and 'data-rule="owned"' in r.text and "业务员0" in r.text


async def test_another_tenants_customer_is_the_404_page(client, admin_db):
    mine, theirs = await team(client, admin_db, reps=1), await team(client, admin_db, reps=1)
    other = await pool_customer(client, theirs.owner, theirs.territory["id"])
    await sign_in(client, mine.owner)
    r = await client.get(f"/customers/{other['id']}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in r.text
    r = await client.get(f"/customers/{other['id']}/pool-status", headers=HTMX)
    assert r.status_code == 404 and "<html" not in r.text


async def test_navigation_follows_the_role(client, admin_db):
    t = await team(client, admin_db, reps=1)
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    await assign(client, t.owner, (await territory(client, t.owner, "无锡市"))["id"], manager, "manager")
    await sign_in(client, t.reps[0])
    rep_page = (await client.get("/")).text
    await sign_in(client, manager)
    manager_page = (await client.get("/")).text
    assert 'href="/pool"' in rep_page and 'href="/customers"' in rep_page
    assert "view=team" not in rep_page and 'href="/customers?view=team"' in manager_page
    # a rep's strip has no sections and no menu; a manager's team pages sit under "Team", in the
    # side navigation and (on a phone) behind the Menu button
    assert "<summary>Menu</summary>" not in rep_page and ">Team</h2>" not in rep_page
    assert manager_page.count(">Team</h2>") == 2 and "<summary>Menu</summary>" in manager_page
    team_section = manager_page.split(">Team</h2>")[1].split("</ul>")[0]
    assert 'href="/customers?view=team"' in team_section and 'href="/pool"' not in team_section
    # a rep asking for the team view gets their own customers (the services decide what they see)
    await sign_in(client, t.reps[0])
    assert "<h1>My customers</h1>" in (await client.get("/customers", params={"view": "team"})).text


async def test_choosing_the_company_and_the_language(client, admin_db):
    t = await team(client, admin_db, reps=1)
    r = await client.post("/login", data={"email": t.owner.email, "password": PASSWORD, "remember": "1"})
    assert r.status_code == 303
    assert "max-age" in r.headers["set-cookie"].lower()
    r = await client.post("/login", data={"email": t.owner.email, "password": PASSWORD})
    assert "max-age" not in r.headers["set-cookie"].lower()  # the browser's session only
    csrf = str(client.cookies.get("acre_csrf"))
    r = await client.post("/language", data={"locale": "zh-CN"}, headers={**HTMX, "X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.headers["hx-refresh"] == "true"
    assert "<h1>今日</h1>" in (await client.get("/")).text
    r = await client.post("/logout", headers={**HTMX, "X-CSRF-Token": csrf})
    assert r.headers["hx-redirect"] == "/login"
    client.cookies.clear()
    assert (await client.get("/")).status_code == 303


async def test_a_page_read_opens_no_transaction_and_a_write_keeps_its_own(client, admin_db, monkeypatch):
    """A GET page's service calls (the list, the territory picker, the counter, the shell's unread
    count) join one scope on the read-scoped connection, which opens no transaction (app/db.py); a
    claim (a write) keeps the services' own."""
    from app import db

    t = await team(client, admin_db, reps=1)
    made = await pool_customer(client, t.owner, t.territory["id"], full_name="常熟一帆软件有限公司")
    csrf = await sign_in(client, t.reps[0])
    opened: list[object] = []

    class Counting(db.ScopedTransaction):  # type: ignore[misc]
        async def __aenter__(self) -> object:
            opened.append(self)
            return await super().__aenter__()

    monkeypatch.setattr(db, "ScopedTransaction", Counting)
    r = await client.get("/pool")
    assert r.status_code == 200 and "常熟一帆软件有限公司" in r.text and "claim-counter" in r.text
    assert opened == []
    opened.clear()
    r = await client.post(f"/customers/{made['id']}/claim", headers={**HTMX, "X-CSRF-Token": csrf})
    assert r.status_code == 200 and len(opened) >= 2  # the claim, then the counter


def test_a_page_image_holds_no_transaction_while_poppler_draws_it(app):
    from app.web.shell import OWN_TRANSACTIONS

    handlers = {
        route.path: handler
        for route in app.routes
        for handler in route.route_handlers
        if route.path.startswith("/documents/{document_id:uuid}") and "GET" in handler.http_methods
    }
    assert handlers["/documents/{document_id:uuid}/pages/{number:int}"].opt.get(OWN_TRANSACTIONS)
    assert not handlers["/documents/{document_id:uuid}"].opt.get(OWN_TRANSACTIONS)


async def test_logging_a_follow_up_resets_the_countdown_in_place(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    mine = await customer(
        client,
        t.owner,
        t.territory["id"],
        owner_membership_id=rep.membership_id,
        full_name="太仓远帆软件有限公司",
    )
    await age(admin_db, mine["id"], 28)
    csrf = await sign_in(client, rep)
    page = await client.get(f"/customers/{mine['id']}")
    before = int(re.search(r'id="reclaim-days" data-days="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    r = await client.post(
        f"/customers/{mine['id']}/followups",
        data={"kind": "call", "summary": "电话沟通，约下周拜访", "result": "appointment"},
        headers={**HTMX, "X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and "电话沟通，约下周拜访" in r.text
    after = int(re.search(r'id="reclaim-days" data-days="(\d+)"', r.text).group(1))  # type: ignore[union-attr]
    assert before <= 2 < after  # the clock started again with the follow-up
