"""My customers, a customer's page and a new customer over HTTP: filters, the next-follow-up order
and the pool badge; release with a reason (and refused without one, inline); contacts with
tap-to-call; grade change with its reason and history; referral; deals, documents and envelopes
listed; the live 撞单 check naming the owner, a duplicate refused inline; bad inputs change nothing;
another tenant's customer id is the 404 page at every address that takes one."""

from __future__ import annotations

import re
import uuid

from tests.factories import customer, db_value, territory
from tests.integration.customers.pool.support import age, ledger_rows, pool_customer, team
from tests.integration.deals.support import deal
from tests.integration.web.support import HTMX, htmx, sign_in


async def test_my_customers_filter_sort_by_next_follow_up_and_show_the_pool_badge(client, admin_db):
    t = await team(client, admin_db, reps=2)
    rep = t.reps[0]
    wuxi = await territory(client, t.owner, "无锡市")
    mine = {"owner_membership_id": rep.membership_id}
    later = await customer(
        client, t.owner, t.territory["id"], full_name="苏州晚些软件有限公司", grade="B",
        next_followup_at="2031-06-02T09:00:00+08:00", **mine,
    )  # fmt: skip
    soon = await customer(
        client, t.owner, t.territory["id"], full_name="苏州早些科技有限公司", grade="A",
        next_followup_at="2031-05-06T09:00:00+08:00", **mine,
    )  # fmt: skip
    await customer(client, t.owner, wuxi["id"], full_name="无锡未定网络有限公司", grade="C", **mine)
    won = await customer(
        client, t.owner, t.territory["id"], full_name="苏州成交有限公司", status="won", **mine
    )
    await customer(  # someone else's: never under my customers
        client, t.owner, t.territory["id"], full_name="苏州别人的有限公司",
        owner_membership_id=t.reps[1].membership_id,
    )  # fmt: skip
    await age(admin_db, later["id"], 28)  # grade B allows 30 days: 2 left, within the warning
    await sign_in(client, rep)

    page = await client.get("/customers")
    assert page.status_code == 200 and 'href="/customers/new"' in page.text
    assert "苏州别人的有限公司" not in page.text
    names = ("苏州早些科技有限公司", "苏州晚些软件有限公司", "无锡未定网络有限公司", "苏州成交有限公司")
    at = page.text.index
    assert at(names[0]) < at(names[1]) < min(at(names[2]), at(names[3]))  # soonest first, none last
    badge = re.search(
        rf'id="customer-{later["id"]}".*?<span class="badge soon" data-days="(\d+)">', page.text, re.S
    )
    assert badge and badge.group(1) == "2" and "Returns to the pool in 2 days" in page.text
    assert re.search(rf'id="customer-{soon["id"]}".*?data-days="15"', page.text, re.S)  # grade A: 15 days
    won_row = page.text[page.text.index(f'id="customer-{won["id"]}"') :]
    assert "data-days" not in won_row.split("</li>")[0]  # a won customer is not reclaimed

    newest = await client.get("/customers", params={"sort": "newest"})
    assert newest.text.index("苏州成交有限公司") < newest.text.index("苏州晚些软件有限公司")

    async def listed(**params: str) -> set[str]:
        r = await client.get("/customers", params=params)
        assert r.status_code == 200, r.text
        return {n for n in names if n in r.text}

    assert await listed(grade="A") == {"苏州早些科技有限公司"}
    assert await listed(status="won") == {"苏州成交有限公司"}
    assert await listed(territory_id=wuxi["id"]) == {"无锡未定网络有限公司"}
    picked = (await client.get("/customers", params={"territory_id": wuxi["id"]})).text
    assert f'<option value="{wuxi["id"]}" selected>' in picked  # the picker keeps the choice
    assert picked.count(" selected>") == 2  # the territory and the order
    assert await listed(grade="B", q="晚些") == {"苏州晚些软件有限公司"}
    empty = await client.get("/customers", params={"grade": "D"})
    assert "No customer found." in empty.text and '<option value="D" selected>' in empty.text
    # a made-up filter value is ignored, not a 500
    assert await listed(grade="Z", status="nope", territory_id="x") == set(names)


async def test_my_customers_pages_with_the_filters_kept(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    for i in range(23):
        await customer(
            client, t.owner, t.territory["id"], full_name=f"苏州分页{i:02d}有限公司", grade="C",
            owner_membership_id=rep.membership_id,
        )  # fmt: skip
    await sign_in(client, rep)
    page = await client.get("/customers", params={"grade": "C"})
    assert page.text.count('class="badge') == 20  # one badge per row, from one query for the page
    more = re.search(r'hx-get="(/customers\?[^"]+)"', page.text)
    assert more and "grade=C&amp;" in more.group(1)
    rest = await client.get(more.group(1).replace("&amp;", "&"), headers=HTMX)
    assert rest.status_code == 200 and "<html" not in rest.text and rest.text.count('class="item"') == 3


async def test_release_needs_a_reason_and_shows_a_refusal_inline(client, admin_db):
    t = await team(client, admin_db, reps=2)
    rep = t.reps[0]
    made = await customer(
        client,
        t.owner,
        t.territory["id"],
        full_name="苏州释放软件有限公司",
        owner_membership_id=rep.membership_id,
    )
    csrf = await sign_in(client, rep)
    page = await client.get("/customers")
    assert f'hx-post="/customers/{made["id"]}/release"' in page.text and "<details" in page.text
    assert '<option value="competitor">Chose a competitor</option>' in page.text  # the list to pick from

    r = await client.post(f"/customers/{made['id']}/release", data={"reason": "  "}, headers=htmx(csrf))
    assert (
        r.status_code == 422 and 'class="error"' in r.text and "Required" in r.text and "<html" not in r.text
    )
    owner = "SELECT owner_membership_id::text FROM customers WHERE id = $1::uuid"
    assert await db_value(admin_db, owner, made["id"]) == rep.membership_id  # nothing changed

    r = await client.post(
        f"/customers/{made['id']}/release", data={"reason": "客户已选其他厂商"}, headers=htmx(csrf)
    )
    assert r.status_code == 422 and "Pick a reason from the list" in r.text  # not on the list
    r = await client.post(
        f"/customers/{made['id']}/release",
        data={"reason": "competitor", "note": "客户已选其他厂商"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and f'id="customer-{made["id"]}" hx-swap-oob="true"' in r.text
    assert "back in the pool of 苏州市" in r.text
    assert await db_value(admin_db, owner, made["id"]) is None
    last = (await ledger_rows(admin_db, t.owner.tenant_id, made["id"]))[-1]
    assert last["cause"] == "release" and last["reason"] == "Chose a competitor: 客户已选其他厂商"
    again = await client.post(
        f"/customers/{made['id']}/release", data={"reason": "other", "place": "page"}, headers=htmx(csrf)
    )
    assert again.status_code == 409 and "already in the pool" in again.text and "<html" not in again.text

    # someone else's customer: the service refuses (it is not theirs), inline
    theirs = await customer(client, t.owner, t.territory["id"], owner_membership_id=t.reps[1].membership_id)
    r = await client.post(f"/customers/{theirs['id']}/release", data={"reason": "other"}, headers=htmx(csrf))
    assert r.status_code in (403, 404) and "<html" not in r.text
    assert await db_value(admin_db, owner, theirs["id"]) == t.reps[1].membership_id


async def test_the_customer_page_contacts_grade_referral_deals_and_history(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    made = await customer(
        client, t.owner, t.territory["id"], full_name="苏州详情软件有限公司", grade="C",
        phone="0512 6123 4567", owner_membership_id=rep.membership_id,
    )  # fmt: skip
    friend = await customer(
        client,
        t.owner,
        t.territory["id"],
        full_name="苏州老客户有限公司",
        owner_membership_id=rep.membership_id,
    )
    opened = await deal(client, rep, made["id"], title="详情 ERP 项目")
    csrf = await sign_in(client, rep)
    url = f"/customers/{made['id']}"

    page = await client.get(url)
    assert page.status_code == 200 and 'href="tel:051261234567"' in page.text
    assert f'href="/deals/{opened["id"]}"' in page.text and "详情 ERP 项目" in page.text
    for empty in ("No contact yet.", "No document yet.", "No envelope yet.", "No referrer recorded."):
        assert empty in page.text
    assert "Ownership history" in page.text and "Assigned" in page.text  # the owner gave it to the rep
    assert re.search(r'id="reclaim-days" data-days="60"', page.text)  # grade C: 60 days

    # contacts: add (tap-to-call), a bad one refused inline, edit
    r = await client.post(f"{url}/contacts", data={"name": " ", "phone": "1"}, headers=htmx(csrf))
    assert r.status_code == 422 and 'class="error"' in r.text
    r = await client.post(
        f"{url}/contacts",
        data={
            "name": "王经理",
            "title": "财务总监",
            "phone": "139 1234 5678",
            "decision_role": "decision_maker",
        },
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and 'id="contacts" hx-swap-oob="true"' in r.text
    assert 'href="tel:13912345678"' in r.text and "Decision maker" in r.text
    contact_id = await db_value(  # this customer's: other tests name their contacts 王经理 too
        admin_db,
        "SELECT id::text FROM customer_contacts WHERE customer_id = $1 AND name = '王经理'",
        uuid.UUID(made["id"]),
    )
    r = await client.post(
        f"{url}/contacts/{contact_id}",
        data={"name": "王总", "title": "总经理", "phone": "139 1234 5678", "decision_role": "approver"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and "王总" in r.text and "Approver" in r.text
    r = await client.post(
        f"{url}/contacts/{contact_id}", data={"name": "王总", "decision_role": "boss"}, headers=htmx(csrf)
    )
    assert r.status_code == 422 and "Role in the decision" in r.text
    r = await client.post(f"{url}/contacts/{uuid.uuid4()}", data={"name": "无"}, headers=htmx(csrf))
    assert r.status_code == 404

    # grade: a reason is required; the change shows in the header and the history
    r = await client.post(f"{url}/grade", data={"grade": "A", "reason": ""}, headers=htmx(csrf))
    assert r.status_code == 422 and "Say why the grade changes" in r.text
    r = await client.post(f"{url}/grade", data={"grade": "E", "reason": "x"}, headers=htmx(csrf))
    assert r.status_code == 422
    assert await db_value(admin_db, "SELECT grade FROM customers WHERE id = $1::uuid", made["id"]) == "C"
    r = await client.post(f"{url}/grade", data={"grade": "A", "reason": "已启动选型"}, headers=htmx(csrf))
    assert r.status_code == 200 and 'id="grade-badge" title="Grade" hx-swap-oob="true">A<' in r.text
    assert "C → A" in r.text and "已启动选型" in r.text and 'data-days="15"' in r.text
    r = await client.post(f"{url}/grade", data={"grade": "A", "reason": "again"}, headers=htmx(csrf))
    assert r.status_code == 422 and "already has this grade" in r.text

    # referral: pick a customer from a search, or a person
    r = await client.get(f"{url}/referrer-options", params={"referrer_q": "老客户"}, headers=HTMX)
    assert r.status_code == 200 and f'value="{friend["id"]}"' in r.text and made["id"] not in r.text
    r = await client.post(f"{url}/referral", data={}, headers=htmx(csrf))
    assert r.status_code == 422 and "Pick a customer" in r.text
    r = await client.post(f"{url}/referral", data={"referrer_customer_id": made["id"]}, headers=htmx(csrf))
    assert r.status_code == 422 and "cannot refer itself" in r.text
    r = await client.post(f"{url}/referral", data={"referrer_customer_id": friend["id"]}, headers=htmx(csrf))
    assert r.status_code == 200 and f'href="/customers/{friend["id"]}"' in r.text
    friend_page = await client.get(f"/customers/{friend['id']}")
    assert "Customers it referred" in friend_page.text and "苏州详情软件有限公司" in friend_page.text
    r = await client.post(f"{url}/referral", data={"referrer_name": "李老师"}, headers=htmx(csrf))
    assert r.status_code == 200 and "Referred by 李老师" in r.text

    # documents and envelopes about the customer are listed with links to their pages
    doc_id = await db_value(  # one queued (the pipeline is the documents' tests' business)
        admin_db,
        "INSERT INTO documents (tenant, idempotency_key, kind, locale, subject_type, subject_id,"
        " generated_by) VALUES ($1::uuid, $2, 'contract', 'en', 'customer', $3, $4::uuid) RETURNING id::text",
        t.owner.tenant_id,
        str(uuid.uuid4()),
        made["id"],
        rep.membership_id,
    )
    page = await client.get(url)
    assert f'href="/documents/{doc_id}"' in page.text and "Software Sales Contract" in page.text
    assert "王总" in page.text and "李老师" in page.text


async def test_a_new_customer_with_the_live_duplicate_check(client, admin_db):
    t = await team(client, admin_db, reps=2)
    first, second = t.reps
    await customer(
        client, t.owner, t.territory["id"], full_name="苏州青禾软件有限公司", tax_id="91320500MA1FL0XX1X",
        owner_membership_id=first.membership_id,
    )  # fmt: skip
    csrf = await sign_in(client, second)
    form = await client.get("/customers/new")
    assert form.status_code == 200 and 'hx-trigger="input changed delay:300ms"' in form.text
    assert f'<option value="{t.territory["id"]}">' in form.text

    check = "/customers/duplicate-check"
    r = await client.get(check, params={"full_name": "苏州青禾软件有限责任公司", "tax_id": ""}, headers=HTMX)
    assert r.status_code == 200 and "业务员0" in r.text and "苏州青禾软件有限公司" in r.text
    assert 'data-match="owned"' in r.text and "<html" not in r.text
    r = await client.get(check, params={"full_name": "", "tax_id": "91320500ma1fl0xx1x"}, headers=HTMX)
    assert "业务员0" in r.text
    r = await client.get(check, params={"full_name": "苏州全新科技有限公司", "tax_id": ""}, headers=HTMX)
    assert r.status_code == 200 and r.text.strip() == ""

    count = "SELECT count(*) FROM customers WHERE tenant = $1::uuid"
    before = await db_value(admin_db, count, t.owner.tenant_id)
    body = {"territory_id": t.territory["id"], "grade": "B", "source": "cold_visit", "phone": "0512-1234"}
    r = await client.post(
        "/customers", data={**body, "full_name": "苏州青禾软件有限公司"}, headers=htmx(csrf)
    )
    assert (
        r.status_code == 409 and "业务员0" in r.text and 'class="error"' in r.text and "<html" not in r.text
    )
    for bad in (
        {"full_name": " "},
        {"full_name": "苏州坏码有限公司", "tax_id": "123"},
        {"full_name": "苏州无区有限公司", "territory_id": "nope"},
        {"full_name": "苏州无区有限公司", "territory_id": str(uuid.uuid4())},
        {"full_name": "苏州坏级有限公司", "grade": "Z"},
        {"full_name": "苏州坏日有限公司", "next_date": "明天"},
        {"full_name": "长" * 201},
    ):
        r = await client.post("/customers", data={**body, **bad}, headers=htmx(csrf))
        assert r.status_code == 422 and 'class="error"' in r.text and "<html" not in r.text, (bad, r.text)
    assert await db_value(admin_db, count, t.owner.tenant_id) == before  # nothing entered

    r = await client.post(
        "/customers",
        data={**body, "full_name": "苏州全新科技有限公司", "next_date": "2031-05-06"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and r.headers["hx-redirect"].startswith("/customers/"), r.text
    new_id = r.headers["hx-redirect"].rsplit("/", 1)[-1]
    row = await db_value(
        admin_db,
        "SELECT row(owner_membership_id::text, grade, source, phone) FROM customers WHERE id = $1::uuid",
        new_id,
    )
    assert tuple(row) == (second.membership_id, "B", "cold_visit", "0512-1234")
    page = await client.get(f"/customers/{new_id}")
    assert page.status_code == 200 and "苏州全新科技有限公司" in page.text


async def test_another_tenants_customer_is_the_404_page_everywhere(client, admin_db):
    mine, theirs = await team(client, admin_db, reps=1), await team(client, admin_db, reps=1)
    other = await customer(
        client, theirs.owner, theirs.territory["id"], owner_membership_id=theirs.reps[0].membership_id
    )
    r = await client.post(
        f"/api/v1/customers/{other['id']}/contacts", json={"name": "对方联系人"}, headers=theirs.owner.headers
    )
    contact_id = r.json()["id"]
    await pool_customer(client, mine.owner, mine.territory["id"])
    csrf = await sign_in(client, mine.owner)
    base = f"/customers/{other['id']}"
    r = await client.get(base)
    assert r.status_code == 404 and "<h1>Not found</h1>" in r.text
    r = await client.get(f"{base}/referrer-options", params={"referrer_q": "x"}, headers=HTMX)
    assert r.status_code == 404 and "<html" not in r.text
    posts = {
        "release": {"reason": "other"},
        "contacts": {"name": "x"},
        f"contacts/{contact_id}": {"name": "x"},
        "grade": {"grade": "A", "reason": "x"},
        "referral": {"referrer_name": "x"},
        "followups": {"kind": "call", "summary": "x"},
    }
    for path, data in posts.items():
        r = await client.post(f"{base}/{path}", data=data, headers=htmx(csrf))
        assert r.status_code == 404 and "<html" not in r.text, (path, r.status_code, r.text)
    # nothing of theirs changed
    row = await db_value(
        admin_db,
        "SELECT row(grade, owner_membership_id::text) FROM customers WHERE id = $1::uuid",
        other["id"],
    )
    assert tuple(row) == (other["grade"], theirs.reps[0].membership_id)
    assert (
        await db_value(admin_db, "SELECT name FROM customer_contacts WHERE id = $1::uuid", contact_id)
        == "对方联系人"
    )
