"""Cross-territory requests (跨区申请) on the web, over HTTP: the rep meets the territory line (the
pool of a territory they do not work, a duplicate entry of another territory's customer) and is
offered the request; the form refuses bad input inline; the target territory's manager sees it in
the approvals inbox with its context and approves or rejects, one at a time or in bulk; the rep
sees the state and works the pool. A rep deciding is 403, another tenant's id the 404 page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from tests.factories import db_value, today
from tests.helpers import signup
from tests.integration.customers.pool.support import pool_customer
from tests.integration.customers.pool.test_access_requests import ask, two
from tests.integration.web.support import HTMX, htmx, sign_in


def request_id_of(r: Any) -> str:
    assert r.status_code == 200, r.text
    found = re.match(r"^/cross-territory-requests/([0-9a-f-]{36})$", r.headers["hx-redirect"])
    assert found, r.headers
    return found.group(1)


async def test_the_rep_asks_from_the_pool_and_the_manager_approves_in_the_inbox(client, admin_db):
    d = await two(client, admin_db)
    csrf = await sign_in(client, d.rep)
    pool = await client.get("/pool", params={"territory_id": d.far["id"]})
    assert pool.status_code == 200 and 'id="outside"' in pool.text
    assert "You do not work the pool of 无锡市" in pool.text
    assert f'href="/cross-territory-requests?territory_id={d.far["id"]}"' in pool.text
    own = await client.get("/pool", params={"territory_id": d.home["id"]})
    assert 'id="outside"' not in own.text and 'href="/cross-territory-requests"' in own.text

    page = await client.get("/cross-territory-requests", params={"territory_id": d.far["id"]})
    assert page.status_code == 200 and 'id="ask"' in page.text
    assert f'<option value="{d.far["id"]}" selected>' in page.text
    assert f'value="{d.home["id"]}"' not in page.text  # their own territory is not offered
    assert "You have not asked to work another territory." in page.text

    later = (today() + timedelta(days=20)).isoformat()
    good = {"territory_id": d.far["id"], "reason": "客户在无锡设了分公司", "until": later}
    bad = [
        ({**good, "reason": "  "}, "Say why you need to work it"),
        ({**good, "reason": "理" * 1001}, "At most 1000 characters"),
        ({**good, "until": "next week"}, "Choose a date"),
        ({**good, "until": (today() - timedelta(days=1)).isoformat()}, "Must be in the future"),
        ({**good, "until": (today() + timedelta(days=400)).isoformat()}, "At most one year ahead"),
        ({**good, "territory_id": ""}, "Give a customer, a territory or a duplicate entry"),
        ({**good, "territory_id": "nope"}, "This is not a valid id"),
        ({**good, "territory_id": d.home["id"]}, "You already work this territory"),
    ]
    for data, message in bad:
        r = await client.post("/cross-territory-requests", data=data, headers=htmx(csrf))
        assert r.status_code in (409, 422) and message in r.text and "<html" not in r.text, (data, r.text)
    assert (
        await db_value(
            admin_db,
            "SELECT count(*) FROM cross_territory_requests WHERE tenant = $1::uuid",
            d.owner.tenant_id,
        )
        == 0
    )
    request_id = request_id_of(await client.post("/cross-territory-requests", data=good, headers=htmx(csrf)))
    mine = await client.get(f"/cross-territory-requests/{request_id}")
    assert mine.status_code == 200 and "Waiting for a manager&#39;s decision" in mine.text
    assert "客户在无锡设了分公司" in mine.text and later in mine.text  # the day asked, in the tenant's zone
    assert f"/cross-territory-requests/{request_id}/approve" not in mine.text
    r = await client.post(f"/cross-territory-requests/{request_id}/approve", headers=htmx(csrf))
    assert r.status_code == 403 and "<html" not in r.text  # a rep decides nothing, not even their own
    listed = await client.get("/cross-territory-requests")
    assert f'id="access-{request_id}"' in listed.text
    inbox = await client.get("/approvals")  # the rep sees their pending request there, without actions
    assert f'id="access-{request_id}"' in inbox.text and f'value="access:{request_id}"' not in inbox.text

    csrf = await sign_in(client, d.manager)
    inbox = await client.get("/approvals")
    assert inbox.status_code == 200
    item = re.search(rf'<li class="item approval access" id="access-{request_id}">.*?</li>', inbox.text, re.S)
    assert item, inbox.text
    text = item.group(0)
    assert "The territory 无锡市 and the territories under it" in text and "苏州市" in text  # where they work
    assert "客户在无锡设了分公司" in text and later in text
    assert (
        f'value="access:{request_id}"' in text and f"/cross-territory-requests/{request_id}/approve" in text
    )
    only = await client.get("/approvals", params={"kind": "cross_territory"})
    assert f'id="access-{request_id}"' in only.text and "Visit plans</h2>" not in only.text
    part = await client.get("/approvals", params={"section": "access"}, headers=HTMX)
    assert part.status_code == 200 and "<html" not in part.text and f'id="access-{request_id}"' in part.text
    r = await client.post(
        f"/cross-territory-requests/{request_id}/approve", data={"comment": "同意"}, headers=htmx(csrf)
    )
    assert r.status_code == 200 and "Approved" in r.text and "同意" in r.text
    r = await client.post(f"/cross-territory-requests/{request_id}/reject", headers=htmx(csrf))
    assert r.status_code == 409 and "This request was decided already" in r.text
    assert f'id="access-{request_id}"' not in (await client.get("/approvals")).text

    await sign_in(client, d.rep)
    bell = await client.get("/notifications")
    assert "Your request to work 无锡市 was approved" in bell.text
    assert f'href="/cross-territory-requests/{request_id}"' in bell.text
    state = await client.get(f"/cross-territory-requests/{request_id}")
    assert 'class="access-state approved"' in state.text and "同意" in state.text
    assert f'href="/pool?territory_id={d.far["id"]}"' in state.text
    pool = await client.get("/pool", params={"territory_id": d.far["id"]})
    assert 'id="outside"' not in pool.text and d.far_pool["full_name"] in pool.text


async def test_a_duplicate_entry_offers_the_request_and_bulk_rejects(client, admin_db):
    d = await two(client, admin_db)
    csrf = await sign_in(client, d.rep)
    r = await client.post(
        "/customers",
        data={"full_name": d.far_owned["full_name"], "territory_id": d.home["id"]},
        headers=htmx(csrf),
    )
    assert r.status_code == 409 and 'id="duplicate-refused"' in r.text, r.text
    link = re.search(r'href="(/cross-territory-requests\?conflict_id=[0-9a-f-]{36})"', r.text)
    assert link, r.text
    form = await client.get(link.group(1))
    assert form.status_code == 200 and 'name="conflict_id"' in form.text
    conflict_id = link.group(1).rsplit("=", 1)[1]
    later = (today() + timedelta(days=10)).isoformat()
    first = request_id_of(
        await client.post(
            "/cross-territory-requests",
            data={"conflict_id": conflict_id, "reason": "客户指定我跟进", "until": later},
            headers=htmx(csrf),
        )
    )
    # a duplicate of a pool customer of their own territory is theirs to claim: no offer
    home_pool = await pool_customer(client, d.owner, d.home["id"])
    again = await client.post(
        "/customers",
        data={"full_name": home_pool["full_name"], "territory_id": d.home["id"]},
        headers=htmx(csrf),
    )
    assert again.status_code == 409 and "in the pool of 苏州市" in again.text
    assert 'id="duplicate-refused"' not in again.text
    second = (await ask(client, d.rep, territory_id=d.far["id"]))["id"]

    csrf = await sign_in(client, d.manager)
    inbox = await client.get("/approvals", params={"kind": "cross_territory"})
    assert f"The customer {d.far_owned['full_name']} in 无锡市" in inbox.text
    assert f'href="/customers/{d.far_owned["id"]}"' in inbox.text  # the manager opens it from there
    ids = [f"access:{first}", f"access:{second}"]
    r = await client.post(
        "/approvals/bulk",
        data={"decision": "reject", "ids": ids, "comment": "本月不开放"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and "2 decided" in r.text, r.text
    statuses = {
        await db_value(admin_db, "SELECT status FROM cross_territory_requests WHERE id = $1::uuid", i)
        for i in (first, second)
    }
    assert statuses == {"rejected"}
    r = await client.post("/approvals/bulk", data={"decision": "approve", "ids": ids}, headers=htmx(csrf))
    assert r.status_code == 200 and "2 not decided" in r.text and "This request was decided already" in r.text
    r = await client.post(
        "/approvals/bulk", data={"decision": "approve", "ids": ["access:nope"]}, headers=htmx(csrf)
    )
    assert r.status_code == 422


async def test_another_tenant_and_a_rep_are_refused(client, admin_db):
    d = await two(client, admin_db)
    asked = await ask(client, d.rep, territory_id=d.far["id"])
    csrf = await sign_in(client, d.other_rep)
    r = await client.get(f"/cross-territory-requests/{asked['id']}")
    assert r.status_code == 404 and "<html" in r.text  # a colleague's request is not theirs to see
    r = await client.post(f"/cross-territory-requests/{asked['id']}/approve", headers=htmx(csrf))
    assert r.status_code == 404
    r = await client.post(
        "/approvals/bulk", data={"decision": "approve", "ids": [f"access:{asked['id']}"]}, headers=htmx(csrf)
    )
    assert r.status_code == 200 and "1 not decided" in r.text
    r = await client.get("/cross-territory-requests", params={"customer_id": d.far_owned["id"]})
    assert r.status_code == 404  # a customer they cannot see
    r = await client.get("/cross-territory-requests", params={"customer_id": "bad"})
    assert r.status_code == 422

    other = await signup(client)
    csrf = await sign_in(client, other)
    r = await client.get(f"/cross-territory-requests/{asked['id']}")
    assert r.status_code == 404 and "<html" in r.text
    for action in ("approve", "reject"):
        r = await client.post(f"/cross-territory-requests/{asked['id']}/{action}", headers=htmx(csrf))
        assert r.status_code == 404
    page = await client.get("/cross-territory-requests")
    assert page.status_code == 200 and "You work every territory already." in page.text
    r = await client.post(
        "/cross-territory-requests",
        data={"territory_id": d.far["id"], "reason": "x", "until": (today() + timedelta(days=3)).isoformat()},
        headers=htmx(csrf),
    )
    assert r.status_code == 404
    assert (
        await db_value(
            admin_db, "SELECT status FROM cross_territory_requests WHERE id = $1::uuid", asked["id"]
        )
    ) == "pending"
