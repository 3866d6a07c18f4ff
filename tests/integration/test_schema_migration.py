"""The schema app's migration (``app/schema/``: every tenant table keyed by ``(tenant, id)``, account
mail in ``account_emails``) on a database that already has data: a scratch database is migrated by
every other app, filled with rows of two tenants (account mail among them), then migrated to the end.
The rows survive with their ids, the keys hold across tenants, and the schema it ends with is the one a
fresh database gets (the test stack's)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.conftest import ROOT
from tests.helpers import connect

# run in a process of its own: Piccolo's engine is global, and this process's points at the stack
_MIGRATE = """
import asyncio, os, sys
os.environ["PICCOLO_CONF"] = "app.piccolo_conf"
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards
from app import db
from app.migrations import ensure_database, migrate

async def main(url: str, skip: str) -> None:
    if not skip:
        await migrate(url)
        return
    await ensure_database(url)
    db.configure(url)
    for name in BaseMigrationManager().get_sorted_app_names():
        if name != skip:
            result = await run_forwards(app_name=name)
            assert result.success, result.message

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""

SCHEMA = """
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL SELECT 'policy ' || tablename || ' ' || policyname || ' ' || qual || ' ' || coalesce(with_check, '')
FROM pg_policies WHERE schemaname = 'public'
UNION ALL SELECT 'rls ' || relname || ' ' || relrowsecurity || ' ' || relforcerowsecurity
FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
UNION ALL SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
FROM information_schema.columns WHERE table_schema = 'public'
"""


def _migrate(url: str, skip: str = "") -> None:
    subprocess.run(
        [sys.executable, "-c", _MIGRATE, url, skip], cwd=ROOT, env=os.environ, check=True, capture_output=True
    )


@pytest.fixture
async def scratch(admin_db: str) -> AsyncIterator[str]:
    parts = urlsplit(admin_db)
    name = f"acre_schema_{secrets.token_hex(4)}"
    yield urlunsplit(parts._replace(path="/" + name))
    async with connect(urlunsplit(parts._replace(path="/postgres"))) as conn:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _fill(conn: asyncpg.Connection) -> dict[str, Any]:
    """Two tenants with a member, a territory, a customer, a follow-up, a return visit on it, an
    invitation and a mail each; and one account mail."""
    made: dict[str, Any] = {}
    now = datetime.now(UTC)
    for k in ("a", "b"):
        tenant, user, member, territory, customer = (uuid.uuid4() for _ in range(5))
        await conn.execute(
            "INSERT INTO tenants (id, name, slug, locale, time_zone, currency) VALUES ($1, $2, $3, 'zh-CN',"
            " 'Asia/Shanghai', 'CNY')",
            tenant,
            f"迁移测试{k}",
            f"schema-{k}-{secrets.token_hex(3)}",
        )
        await conn.execute(
            "INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, '!')",
            user,
            f"{k}-{secrets.token_hex(3)}@example.com",
            k,
        )
        await conn.execute(
            "INSERT INTO memberships (tenant, id, user_id, role) VALUES ($1, $2, $3, 'owner')",
            tenant,
            member,
            user,
        )
        await conn.execute(
            "INSERT INTO territories (tenant, id, name, level, path) VALUES ($1, $2, '省', 'province', $3)",
            tenant,
            territory,
            territory.hex + "/",
        )
        await conn.execute(
            "INSERT INTO customers (tenant, id, full_name, grade, territory_id, owner_membership_id,"
            " identity_key, name_key, search_text) VALUES ($1, $2, '客户', 'A', $3, $4, $5, $5, '客户')",
            tenant,
            customer,
            territory,
            member,
            f"name:{customer}",
        )
        followup = await conn.fetchval(
            "INSERT INTO customer_followups (tenant, customer_id, author_membership_id, kind, happened_at,"
            " summary) VALUES ($1, $2, $3, 'call', now(), 'called') RETURNING id",
            tenant,
            customer,
            member,
        )
        visit = await conn.fetchval(
            "INSERT INTO return_visits (tenant, customer_id, assignee_membership_id, offset_days,"
            " scheduled_from, due_on, followup_id) VALUES ($1, $2, $3, 30, $4, $4, $5) RETURNING id",
            tenant,
            customer,
            member,
            now.date(),
            followup,
        )
        await conn.execute(
            "INSERT INTO invitations (tenant, email, role, token_hash, expires_at)"
            " VALUES ($1, 'new@example.com', 'rep', $2, $3)",
            tenant,
            secrets.token_bytes(32),
            now + timedelta(days=7),
        )
        mail = await conn.fetchval(
            "INSERT INTO emails (tenant, idempotency_key, to_addr, subject, text_body)"
            " VALUES ($1, 'welcome', 'x@example.com', 's', 't') RETURNING id",
            tenant,
        )
        made[k] = {"tenant": tenant, "user": user, "member": member, "customer": customer}
        made[k] |= {"followup": followup, "visit": visit, "mail": mail}
    account_mail = await conn.fetchval(
        "INSERT INTO emails (tenant, user_id, idempotency_key, to_addr, subject, text_body, attachment_key)"
        " VALUES (NULL, $1, 'password-reset:1', 'a@example.com', 'reset', 'link', 'k') RETURNING id",
        made["a"]["user"],
    )
    made["account_mail"] = account_mail
    return made


async def test_the_migration_keeps_the_rows_of_an_existing_database(admin_db: str, scratch: str) -> None:
    _migrate(scratch, skip="schema")
    async with connect(scratch) as conn:
        assert await conn.fetchval("SELECT to_regclass('account_emails')") is None  # not yet
        made = await _fill(conn)
    _migrate(scratch)

    a, b = made["a"], made["b"]
    async with connect(scratch) as conn:
        moved = await conn.fetchrow("SELECT * FROM account_emails")
        assert moved is not None
        assert (moved["id"], moved["user_id"], moved["idempotency_key"], moved["attachment_key"]) == (
            made["account_mail"],
            a["user"],
            "password-reset:1",
            "k",
        )
        assert await conn.fetchval("SELECT count(*) FROM account_emails") == 1
        mails = await conn.fetch("SELECT tenant, id FROM emails ORDER BY tenant")
        assert {(r["tenant"], r["id"]) for r in mails} == {(a["tenant"], a["mail"]), (b["tenant"], b["mail"])}
        for table in ("customers", "customer_followups", "return_visits", "memberships", "invitations"):
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 2, table

        # a follow-up of another tenant cannot be referenced any more (the old key was by id alone)
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute(
                "UPDATE return_visits SET followup_id = $2 WHERE tenant = $1", a["tenant"], b["followup"]
            )
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute(
                "INSERT INTO customer_followups (tenant, customer_id, kind, happened_at, summary)"
                " VALUES ($1, $2, 'call', now(), 'x')",
                a["tenant"],
                b["customer"],
            )
        # deleting the follow-up clears the reference and keeps the visit (SET NULL (followup_id))
        await conn.execute("DELETE FROM customer_followups WHERE tenant = $1", a["tenant"])
        visit = await conn.fetchrow("SELECT tenant, followup_id FROM return_visits WHERE id = $1", a["visit"])
        assert visit is not None and (visit["tenant"], visit["followup_id"]) == (a["tenant"], None)
        # emails' tenant is required now
        with pytest.raises(asyncpg.NotNullViolationError):
            await conn.execute(
                "INSERT INTO emails (tenant, idempotency_key, to_addr, subject, text_body)"
                " VALUES (NULL, 'k', 'x@example.com', 's', 't')"
            )
        migrated = set(await conn.fetchval(f"SELECT array_agg(s) FROM ({SCHEMA}) q(s)"))
    async with connect(admin_db) as conn:
        fresh = set(await conn.fetchval(f"SELECT array_agg(s) FROM ({SCHEMA}) q(s)"))
    assert sorted(migrated ^ fresh) == [], "an existing database ends with the schema a fresh one gets"
