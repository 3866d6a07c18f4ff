"""The merge from the pages: the customer page's "merge another record into this one" (likely
duplicates, search, the merge) and the duplicate conflict view's "merge it into this customer"; a rep
is refused, an envelope out is said inline, another tenant's customer is not found; zh-CN and en."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from tests.factories import company, customer, db_value
from tests.helpers import signup
from tests.integration.customers.imports.support import tax_id
from tests.integration.customers.pool.support import pool_customer, team
from tests.integration.customers.test_merge import _sent_envelope
from tests.integration.web.support import htmx, sign_in


def _form(csrf: str) -> dict[str, str]:
    return {**htmx(csrf), "Content-Type": "application/x-www-form-urlencoded"}


async def _records(client: Any, admin_db: str, locale: str = "en") -> Any:
    t = await team(client, admin_db, reps=2, locale=locale)
    kept = await customer(client, t.reps[0], t.territory["id"], tax_id=tax_id(), phone="0512-66661234")
    other = await pool_customer(
        client, t.owner, t.territory["id"], full_name=company("旧名"), phone="051266661234"
    )
    return t, kept, other


async def test_a_manager_merges_from_the_conflict_view(client, admin_db):
    t, kept, other = await _records(client, admin_db)
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": kept["full_name"], "territory_id": t.territory["id"]},
        headers=t.reps[1].headers,
    )
    assert r.status_code == 409, r.text
    conflict_id = r.json()["conflict_id"]
    csrf = await sign_in(client, t.owner)
    page = await client.get("/customer-conflicts")
    assert page.status_code == 200
    assert "Other records of this company" in page.text and other["full_name"] in page.text
    assert f'hx-post="/customers/{kept["id"]}/merge"' in page.text

    body = urlencode({"absorb_id": other["id"], "conflict_id": conflict_id, "comment": ""})
    r = await client.post(f"/customers/{kept['id']}/merge", content=body, headers=_form(csrf))
    assert r.status_code == 200, r.text
    assert f"Merged into {kept['full_name']}" in r.text
    assert (await client.get(f"/api/v1/customers/{other['id']}", headers=t.owner.headers)).status_code == 404
    status = await db_value(
        admin_db, "SELECT status FROM customer_conflicts WHERE id = $1::uuid", conflict_id
    )
    assert status == "resolved"
    reason = await db_value(
        admin_db,
        "SELECT reason FROM customer_ownership_history WHERE customer_id = $1::uuid AND cause = 'merge'",
        kept["id"],
    )
    assert reason.startswith("The same company entered twice")
    page = await client.get(f"/customers/{kept['id']}")
    assert "Merged with another record" in page.text  # the ledger entry in the ownership history


async def test_the_customer_page_offers_likely_duplicates_and_searches(client, admin_db):
    t, kept, other = await _records(client, admin_db, locale="zh-CN")
    csrf = await sign_in(client, t.owner)
    page = await client.get(f"/customers/{kept['id']}")
    assert "把同一家公司的另一条记录合并到这里" in page.text
    r = await client.get(f"/customers/{kept['id']}/merge-options", headers=htmx(csrf))
    assert r.status_code == 200 and other["full_name"] in r.text and 'name="absorb_id"' in r.text
    r = await client.get(
        f"/customers/{kept['id']}/merge-options", params={"merge_q": "没有这家公司"}, headers=htmx(csrf)
    )
    assert "没有找到客户" in r.text or other["full_name"] not in r.text

    await _sent_envelope(admin_db, t.owner.tenant_id, other["id"])
    body = urlencode({"absorb_id": other["id"], "reason": "同一家公司"})
    r = await client.post(f"/customers/{kept['id']}/merge", content=body, headers=_form(csrf))
    assert r.status_code == 409 and "<html" not in r.text
    assert "合同正在签署" in r.text
    r = await client.post(
        f"/customers/{kept['id']}/merge", content=urlencode({"reason": "x"}), headers=_form(csrf)
    )
    assert r.status_code == 422 and "<html" not in r.text


async def test_a_rep_and_another_tenant_cannot_merge(client, admin_db):
    t, kept, other = await _records(client, admin_db)
    csrf = await sign_in(client, t.reps[0])
    page = await client.get(f"/customers/{kept['id']}")
    assert page.status_code == 200 and "Merge another record" not in page.text
    body = urlencode({"absorb_id": other["id"], "reason": "same"})
    r = await client.post(f"/customers/{kept['id']}/merge", content=body, headers=_form(csrf))
    assert r.status_code == 403, r.text

    stranger = await signup(client)
    csrf = await sign_in(client, stranger)
    r = await client.post(f"/customers/{kept['id']}/merge", content=body, headers=_form(csrf))
    assert r.status_code == 404
    r = await client.get(f"/customers/{kept['id']}/merge-options")
    assert r.status_code == 404
    assert await db_value(admin_db, "SELECT count(*) FROM customers WHERE id = $1::uuid", other["id"]) == 1
