"""Named pools in real Chromium, on a phone (390×844) and a desktop (1280×800): a member in the
scope of the tenant's "key accounts" pool picks it on the pool page, claims its customer, and on the
customer's page releases it again with a reason from the list, into its territory's pool. axe-core
finds no serious or critical violation on any of the pages."""

from __future__ import annotations

import re

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import db_value
from tests.integration.customers.pool.support import ledger_rows, pool_customer, quick_members, team

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
async def test_pick_a_pool_claim_and_release_with_a_reason(client, admin_db, base_url, browser, device):
    t = await team(client, admin_db, reps=1)
    (ka,) = await quick_members(client, admin_db, t.owner, 1)
    r = await client.post(
        "/api/v1/pools",
        json={"name": "大客户", "kind": "key_accounts", "scope_membership_ids": [ka.membership_id]},
        headers=t.owner.headers,
    )
    assert r.status_code == 201, r.text
    pool_id = r.json()["id"]
    made = await pool_customer(client, t.owner, t.territory["id"], full_name="苏州大客户科技有限公司")
    other = await pool_customer(client, t.owner, t.territory["id"], full_name="苏州普通客户有限公司")
    await db_value(
        admin_db,
        "UPDATE customers SET pool_id = $2::uuid WHERE id = $1::uuid RETURNING 1",
        made["id"],
        pool_id,
    )
    territory_pool = await db_value(
        admin_db, "SELECT id FROM pools WHERE territory_id = $1::uuid", t.territory["id"]
    )

    context = await browser.new_context(viewport=VIEWPORTS[device])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base_url, ka.email, next_path="/pool")
    await check_page(page)
    assert "苏州普通客户有限公司" not in await page.inner_text("main")  # not in a pool of theirs
    await page.select_option("#pool_id", pool_id)
    await page.click("button:has-text('Filter')")
    await page.wait_for_url(re.compile(rf"{re.escape(base_url)}/pool\?pool_id={pool_id}"))
    await check_page(page)
    assert "苏州大客户科技有限公司" in await page.inner_text("#pool-list")
    await page.click(f"#claim-{made['id']} button:has-text('Claim')")
    await page.wait_for_selector(f"#claim-{made['id']} .ok")

    await page.goto(f"{base_url}/customers/{made['id']}")
    await check_page(page)
    await page.click("summary:has-text('Release to the pool')")
    await page.click("button:has-text('Release it')")  # no reason picked: the form does not go
    assert await page.locator("#release-reason:invalid").count() == 1
    await page.select_option("#release-reason", "competitor")
    assert await page.locator("#release-pool").input_value() == str(
        territory_pool
    )  # its territory's by default
    await page.fill("#release-note", "选了别家")
    await check_page(page)
    await page.click("button:has-text('Release it')")
    await page.wait_for_selector("#release-msg .ok")
    await check_page(page)
    owner = await db_value(
        admin_db, "SELECT owner_membership_id FROM customers WHERE id = $1::uuid", made["id"]
    )
    assert owner is None
    last = (await ledger_rows(admin_db, t.owner.tenant_id, made["id"]))[-1]
    assert (last["cause"], last["pool_id"], last["reason"]) == (
        "release",
        territory_pool,
        "Chose a competitor: 选了别家",
    )
    assert other["id"]  # still in the territory's pool, never shown to this member
    assert errors == []
    await context.close()
