"""Row-level security, proven on the database itself as the application role."""

from __future__ import annotations

import json
from uuid import UUID

import asyncpg
import pytest

from tests.helpers import add_member, connect, run_jobs, signup

TENANT_TABLES = ("memberships", "invitations", "emails", "audit_log")
# Tables with a ``tenant`` column that are global by design: sessions are resolved before the tenant is
# known (acre_session()), the outbox holds only job names and ids, a Stripe event is stored before the
# tenant it concerns is read from its payload. Adding a name here needs the same kind of reason.
# Global by design, each holding no customer data: outbox (job names and ids), sessions (resolved
# before the tenant is known), stripe_events (stored before the tenant is known), seal_index
# (digests and ids, looked up by the public /verify page before the tenant is known).
GLOBAL_TABLES = {"outbox", "sessions", "stripe_events", "seal_index"}


@pytest.fixture
async def two_tenants(client, app, mailbox):
    """Two tenants, each with an owner, a member and an invitation mail (rows in all four tables)."""
    tenants = []
    for _ in range(2):
        owner = await signup(client)
        await add_member(client, owner, mailbox, app)
        await run_jobs(app)
        tenants.append(owner)
    return tenants


async def _as_app(stack, tenant_id: str | None, sql: str, *args: object) -> list[asyncpg.Record]:
    async with connect(stack.app_url) as conn, conn.transaction():
        if tenant_id is not None:
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant_id)
        return await conn.fetch(sql, *args)


async def test_the_app_role_is_not_superuser_and_cannot_bypass_rls(stack):
    async with connect(stack.app_url) as conn:
        row = await conn.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert await conn.fetchval("SELECT current_user") == "acre_app"
    assert row is not None
    assert row["rolsuper"] is False and row["rolbypassrls"] is False


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_a_query_without_a_tenant_filter_sees_only_the_scoped_tenant(
    stack, admin_db, two_tenants, table
):
    a, b = two_tenants
    async with connect(admin_db) as conn:
        total = {
            t: await conn.fetchval(f"SELECT count(*) FROM {table} WHERE tenant = $1", UUID(t))
            for t in (a.tenant_id, b.tenant_id)
        }
    assert total[a.tenant_id] > 0 and total[b.tenant_id] > 0

    rows = await _as_app(stack, a.tenant_id, f"SELECT * FROM {table}")  # no WHERE on purpose
    assert len(rows) == total[a.tenant_id]
    assert {str(r["tenant"]) for r in rows} == {a.tenant_id}
    rows = await _as_app(stack, b.tenant_id, f"SELECT * FROM {table}")
    assert {str(r["tenant"]) for r in rows} == {b.tenant_id}
    # no tenant chosen: nothing at all
    assert await _as_app(stack, None, f"SELECT * FROM {table}") == []
    assert await _as_app(stack, "", f"SELECT * FROM {table}") == []
    # a filter naming the other tenant does not help either
    assert (
        await _as_app(stack, a.tenant_id, f"SELECT * FROM {table} WHERE tenant = $1", UUID(b.tenant_id)) == []
    )


async def test_the_scope_ends_with_the_transaction(stack, two_tenants):
    a, _ = two_tenants
    async with connect(stack.app_url) as conn:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", a.tenant_id)
            assert await conn.fetchval("SELECT count(*) FROM memberships") > 0
        assert await conn.fetchval("SELECT count(*) FROM memberships") == 0


async def test_writing_a_row_for_another_tenant_is_refused(stack, two_tenants):
    a, b = two_tenants
    statements = [
        (
            "INSERT INTO audit_log (tenant, action, subject_type, subject_id) VALUES ($1, 'x', 'y', 'z')",
            (UUID(b.tenant_id),),
        ),
        (
            "INSERT INTO memberships (tenant, user_id, role) VALUES ($1, $2, 'rep')",
            (UUID(b.tenant_id), UUID(a.user_id)),
        ),
        (
            "INSERT INTO emails (tenant, idempotency_key, to_addr, subject, text_body)"
            " VALUES ($1, 'k', 'x@example.com', 's', 't')",
            (UUID(b.tenant_id),),
        ),
        # moving one of A's rows over to B is refused just the same
        ("UPDATE memberships SET tenant = $1 WHERE user_id = $2", (UUID(b.tenant_id), UUID(a.user_id))),
    ]
    for sql, args in statements:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await _as_app(stack, a.tenant_id, sql, *args)
    # and rows of B cannot be touched while scoped to A (they are invisible, so nothing changes)
    async with connect(stack.app_url) as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", a.tenant_id)
        assert (
            await conn.execute("UPDATE memberships SET role = 'admin' WHERE tenant = $1", UUID(b.tenant_id))
            == "UPDATE 0"
        )
        assert (
            await conn.execute("DELETE FROM invitations WHERE tenant = $1", UUID(b.tenant_id)) == "DELETE 0"
        )


async def test_every_tenant_table_forces_row_level_security(admin_db):
    async with connect(admin_db) as conn:
        rows = await conn.fetch(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant' AND NOT a.attisdropped"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        )
        policies = {
            r["tablename"]: r["qual"]
            for r in await conn.fetch(
                "SELECT tablename, qual FROM pg_policies"
                " WHERE schemaname = 'public' AND policyname = 'tenant_isolation'"
            )
        }
    tables = {r["relname"]: r for r in rows}
    assert set(TENANT_TABLES) <= set(tables)
    assert GLOBAL_TABLES <= set(tables)  # the allowlist names real tables (keep it honest)
    unprotected = sorted(
        name
        for name, r in tables.items()
        if name not in GLOBAL_TABLES and not (r["relrowsecurity"] and r["relforcerowsecurity"])
    )
    assert unprotected == [], f"tables with a tenant column but no forced RLS: {unprotected}"
    missing_policy = sorted(name for name in tables if name not in GLOBAL_TABLES and name not in policies)
    assert missing_policy == [], f"tables without the tenant_isolation policy: {missing_policy}"


async def test_the_audit_log_is_append_only_for_the_app(stack, admin_db, two_tenants):
    a, _ = two_tenants
    async with connect(admin_db) as conn:
        before = await conn.fetch(
            "SELECT id, action, data FROM audit_log WHERE tenant = $1 ORDER BY id", UUID(a.tenant_id)
        )
    assert before
    for sql in (
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
        "UPDATE audit_log SET data = '{}' WHERE id = $1",
        "DELETE FROM audit_log WHERE id = $1",
    ):
        args = (before[0]["id"],) if "$1" in sql else ()
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await _as_app(stack, a.tenant_id, sql, *args)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await _as_app(stack, a.tenant_id, "TRUNCATE audit_log")
    # appending is allowed (that is how the app writes it)
    await _as_app(
        stack,
        a.tenant_id,
        "INSERT INTO audit_log (tenant, action, subject_type, subject_id, data)"
        " VALUES ($1, $2, 't', 's', $3)",
        UUID(a.tenant_id),
        "test.appended",
        json.dumps({"ok": True}),
    )
    async with connect(admin_db) as conn:
        after = await conn.fetch(
            "SELECT id, action, data FROM audit_log WHERE tenant = $1 ORDER BY id", UUID(a.tenant_id)
        )
    assert after[: len(before)] == before
    assert [r["action"] for r in after[len(before) :]] == ["test.appended"]
