"""Importing into a chosen pool: the customers of an import go into the pool picked at upload (one the
importer administers), owned or not; without one each goes into its territory's pool. An unknown or
another tenant's pool is a 422, a pool the member does not administer a 403, nothing queued; the
import page offers the pools the member administers."""

from __future__ import annotations

from tests.factories import db_rows, db_value
from tests.helpers import signup
from tests.integration.customers.imports.support import csv_file, imported, rows, team, upload
from tests.integration.web.support import htmx, sign_in


async def _pool(client, owner, **body):
    r = await client.post(
        "/api/v1/pools", json={"name": "大客户", "kind": "key_accounts", **body}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_an_import_goes_into_the_chosen_pool(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app)
    ka = await _pool(client, t.owner, admin_membership_ids=[t.manager.membership_id])
    data = rows(3)
    data[0][8] = t.rep.email  # one owned row: its rules are the chosen pool's too
    done = await imported(client, app, t.manager, csv_file(data), default_owner="pool", pool_id=ka["id"])
    assert (done["status"], done["rows_imported"], done["pool_id"]) == ("done", 3, ka["id"])
    found = await db_rows(
        admin_db, "SELECT pool_id, owner_membership_id FROM customers WHERE tenant = $1", t.owner.tenant_id
    )
    assert {str(r["pool_id"]) for r in found} == {ka["id"]}
    assert sorted(str(r["owner_membership_id"]) for r in found if r["owner_membership_id"]) == [
        t.rep.membership_id
    ]
    # without a pool: the territory's own
    done = await imported(client, app, t.rep, csv_file(rows(2)), default_owner="pool")
    assert done["pool_id"] is None and done["rows_imported"] == 2
    territory_pool = await db_value(
        admin_db,
        "SELECT id FROM pools WHERE tenant = $1 AND territory_id = $2",
        t.owner.tenant_id,
        t.pd["id"],
    )
    count = await db_value(
        admin_db,
        "SELECT count(*) FROM customers WHERE tenant = $1 AND pool_id = $2",
        t.owner.tenant_id,
        territory_pool,
    )
    assert count == 2


async def test_a_pool_the_member_may_not_import_into_is_refused(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app)
    ka = await _pool(client, t.owner, admin_membership_ids=[t.manager.membership_id])
    stranger = await signup(client)
    theirs = await _pool(client, stranger)
    content = csv_file(rows(1))
    for who, pool_id, status, field in (
        (t.rep, ka["id"], 403, None),  # not an admin of the pool
        (t.manager, theirs["id"], 422, "pool_id"),  # another tenant's pool
        (t.manager, "not-an-id", 422, "pool_id"),
    ):
        r = await upload(client, who, content, pool_id=pool_id)
        assert r.status_code == status, r.text
        if field:
            assert r.json()["errors"][0]["field"] == field
    queued = await db_value(
        admin_db, "SELECT count(*) FROM customer_imports WHERE tenant = $1", t.owner.tenant_id
    )
    assert queued == 0


async def test_the_import_page_offers_the_pools_the_member_administers(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app, locale="zh-CN")
    ka = await _pool(client, t.owner, admin_membership_ids=[t.manager.membership_id])
    csrf = await sign_in(client, t.rep)
    page = await client.get("/customers/import")
    assert page.status_code == 200 and ka["id"] not in page.text  # a rep administers no pool
    csrf = await sign_in(client, t.manager)
    page = await client.get("/customers/import")
    assert (
        page.status_code == 200 and "放入哪个公海" in page.text and f'value="{ka["id"]}">大客户' in page.text
    )
    files = {"file": ("名单.csv", csv_file(rows(1)), "application/octet-stream")}
    r = await client.post("/customers/import", files=files, data={"pool_id": ka["id"]}, headers=htmx(csrf))
    assert r.status_code == 200, r.text
    pool = await db_value(
        admin_db, "SELECT pool_id FROM customer_imports WHERE tenant = $1", t.owner.tenant_id
    )
    assert str(pool) == ka["id"]
