"""A read-only company (its trial over, unpaid) reads its pages but saves nothing through them, as in
the API: a page write answers 402 with the reason in place; paying and signing out still work."""

from __future__ import annotations

from uuid import UUID

from tests.factories import db_value
from tests.integration.billing.support import sql
from tests.integration.customers.pool.support import pool_customer, team
from tests.integration.web.support import htmx, sign_in


async def test_a_read_only_company_reads_its_pages_but_saves_nothing(client, admin_db, billing_on):
    t = await team(client, admin_db, reps=1)
    made = await pool_customer(client, t.owner, t.territory["id"], full_name="昆山明远软件有限公司")
    csrf = await sign_in(client, t.reps[0])
    await sql(
        admin_db,
        "UPDATE tenants SET trial_ends_at = now() - interval '1 minute' WHERE id = $1",
        UUID(t.owner.tenant_id),
    )
    page = await client.get("/pool")
    assert page.status_code == 200 and "昆山明远软件有限公司" in page.text
    assert "The free trial has ended" in page.text  # the banner says why
    r = await client.post(f"/customers/{made['id']}/claim", headers=htmx(csrf))
    assert r.status_code == 402 and "read-only" in r.text
    owner = await db_value(
        admin_db, "SELECT owner_membership_id FROM customers WHERE id = $1::uuid", made["id"]
    )
    assert owner is None  # nothing was claimed
    r = await client.post("/logout", headers=htmx(csrf))
    assert r.status_code == 200 and r.headers["hx-redirect"] == "/login"
