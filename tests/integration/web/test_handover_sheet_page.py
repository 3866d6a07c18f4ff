"""A handover's page shows its sheet's rows (customer, from → to, the deals carried and their
amount), paged, beside the sheet's document; the rows are the plan's own (a rep is refused, another
tenant's plan is the 404 page, a bad page number a clear 422)."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import customer, db_value
from tests.helpers import signup
from tests.integration.handover.support import deal, plan
from tests.integration.web.support import HTMX, htmx, sign_in
from tests.integration.web.test_handover_pages import desk


async def _name(admin_db: str, membership_id: str) -> str:
    return str(
        await db_value(
            admin_db,
            "SELECT u.name FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.id = $1::uuid",
            membership_id,
        )
    )


def _row(text: str, customer_id: str) -> str:
    found = re.search(rf'<tr id="sheet-{customer_id}">.*?</tr>', text, re.S)
    assert found, text
    return found.group(0)


async def test_the_sheet_rows_show_who_got_what_with_the_deals_carried(client: Any, admin_db: str) -> None:
    d = await desk(client, admin_db)
    await deal(admin_db, d, d.mine[0]["id"], d.a, "1200.50")  # type: ignore[arg-type]
    await deal(admin_db, d, d.mine[0]["id"], d.a, "99.50")  # type: ignore[arg-type]
    extra = [
        await customer(client, d.owner, d.territory["id"], owner_membership_id=d.a.membership_id)
        for _ in range(47)
    ]  # 52 customers of a: two pages of 50
    created = await plan(
        client,
        d.manager,
        selection={"owner_ids": [d.a.membership_id]},
        targets=[{"membership_id": d.b.membership_id}],
        mode="single",
        options={"carry_deals": True},
    )
    csrf = await sign_in(client, d.manager)
    draft = await client.get(f"/handovers/{created['id']}")
    assert draft.status_code == 200 and 'id="sheet-rows"' not in draft.text  # a draft shows its preview

    r = await client.post(f"/handovers/{created['id']}/execute", headers=htmx(csrf))
    assert r.status_code == 200 and 'id="sheet-rows"' in r.text  # the executed body has them at once
    page = await client.get(f"/handovers/{created['id']}")
    assert page.status_code == 200
    assert "1–50 of 52 customers" in page.text and "Page 1 of 2" in page.text
    assert 'id="sheet"' in page.text  # the document's download stays
    a_name, b_name = await _name(admin_db, d.a.membership_id), await _name(admin_db, d.b.membership_id)
    first = _row(page.text, d.mine[0]["id"]) if f'id="sheet-{d.mine[0]["id"]}"' in page.text else None
    if first is None:  # on the second page (the sheet's order: receiver, grade, name)
        second = await client.get(
            f"/handovers/{created['id']}", params={"part": "rows", "rows": "2"}, headers=HTMX
        )
        first = _row(second.text, d.mine[0]["id"])
    assert d.mine[0]["full_name"] in first and a_name in first and b_name in first
    assert 'class="n-deals">2<' in first and 'class="amount">1,300.00<' in first
    plain = _row(page.text, next(c["id"] for c in extra if f'id="sheet-{c["id"]}"' in page.text))
    assert 'class="n-deals">0<' in plain and 'class="amount">0.00<' in plain

    more = await client.get(f"/handovers/{created['id']}", params={"part": "rows", "rows": "2"}, headers=HTMX)
    assert more.status_code == 200 and "<html" not in more.text
    assert "51–52 of 52 customers" in more.text and "Page 2 of 2" in more.text
    assert 'rel="prev"' in more.text and 'id="sheet-next"' not in more.text
    shown = set(re.findall(r'<tr id="sheet-([0-9a-f-]{36})"', page.text + more.text))
    assert shown == {c["id"] for c in d.mine + extra}  # every customer once, none twice
    plain_page = await client.get(f"/handovers/{created['id']}", params={"rows": "2"})
    assert plain_page.status_code == 200 and "51–52 of 52 customers" in plain_page.text  # without htmx too

    for bad in ("0", "x", "-1"):
        r = await client.get(f"/handovers/{created['id']}", params={"rows": bad}, headers=HTMX)
        assert r.status_code == 422 and "Choose a page from 1" in r.text, bad

    r = await client.post(f"/handovers/{created['id']}/undo", headers=htmx(csrf))
    assert r.status_code == 200 and 'id="undone"' in r.text and 'id="sheet-rows"' in r.text


async def test_a_pool_handover_says_the_pool_and_others_cannot_read_the_rows(
    client: Any, admin_db: str
) -> None:
    d = await desk(client, admin_db)
    created = await plan(
        client, d.manager, selection={"owner_ids": [d.b.membership_id]}, targets=[], mode="pool"
    )
    r = await client.post(f"/api/v1/handovers/{created['id']}/execute", headers=d.manager.headers)
    assert r.status_code == 200, r.text
    await sign_in(client, d.manager)
    page = await client.get(f"/handovers/{created['id']}")
    assert "1–3 of 3 customers" in page.text
    for c in d.theirs:
        assert 'class="to">The pool<' in _row(page.text, c["id"])

    await sign_in(client, d.a)
    r = await client.get(f"/handovers/{created['id']}", params={"part": "rows"}, headers=HTMX)
    assert r.status_code == 403 and d.theirs[0]["full_name"] not in r.text
    other = await signup(client)
    await sign_in(client, other)
    r = await client.get(f"/handovers/{created['id']}", params={"part": "rows", "rows": "1"})
    assert r.status_code == 404 and d.theirs[0]["full_name"] not in r.text
