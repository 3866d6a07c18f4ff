import time, dataclasses
from app import db
from app.customers.import_stage import stage_and_check
from app.customers.import_sql import INSERT_BATCH
from app.customers import import_job
from tenants.scope import TenantScope
from tests.integration.customers.import_helpers import csv_file, rows, team, upload

async def test_timing(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app)
    data = rows(12000, owner=t.rep.email)
    r = await upload(client, t.owner, csv_file(data), mode="valid_rows")
    from uuid import UUID
    tenant = UUID(t.owner.tenant_id); iid = UUID(r.json()["id"])
    scope = dataclasses.replace(TenantScope.system(tenant), role="owner", membership_id=UUID(t.owner.membership_id), user_id=UUID(t.owner.user_id))
    async with db.transaction(tenant) as tx:
        imp = await tx.fetchrow("SELECT * FROM customer_imports WHERE id=$1", iid)
    await stage_and_check(scope, imp, import_job.job_storage())
    async with db.transaction(tenant) as tx:
        plan = await tx.fetch("EXPLAIN (ANALYZE, BUFFERS off) " + INSERT_BATCH, tenant, iid, 0, 5000, scope.membership_id)
        print("\n".join(r[0] for r in plan))
        raise RuntimeError("rollback")
