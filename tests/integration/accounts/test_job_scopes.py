"""Job scopes carry their tenant (zone, locale, currency, name) read once; a member scope is made the
same way for a session and a job; the cron fan-out runs every tenant in its own system scope, and
one tenant's failure neither stops the others nor goes unlogged."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
import structlog

from app import db
from tenants import cron
from tenants.cron import for_each_tenant
from tenants.scope import MEMBER_SQL, TenantScope, resolve_session
from tests.helpers import signup


async def test_a_job_scope_carries_its_tenant(client):
    m = await signup(
        client, locale="en", company="Spree Software GmbH", time_zone="Europe/Berlin", currency="EUR"
    )
    scope = await TenantScope.for_job(m.tenant_id)
    assert (scope.tenant_id, scope.role, scope.user_id, scope.membership_id) == (
        UUID(m.tenant_id),
        "system",
        None,
        None,
    )
    assert (scope.time_zone, scope.currency, scope.tenant_locale, scope.locale) == (
        "Europe/Berlin",
        "EUR",
        "en",
        "en",
    )
    assert (scope.tenant_name, scope.tenant_slug) == ("Spree Software GmbH", m.tenant_slug)
    zh = await TenantScope.for_job((await signup(client, locale="zh-CN")).tenant_id)
    assert (zh.time_zone, zh.currency, zh.locale) == ("Asia/Shanghai", "CNY", "zh-CN")
    with pytest.raises(LookupError):
        await TenantScope.for_job(uuid4())


async def test_a_member_scope_from_a_row_is_the_sessions(client):
    m = await signup(client, locale="zh-CN", time_zone="Asia/Tokyo", currency="JPY")
    session = await resolve_session(m.token)
    assert session is not None
    async with db.transaction(UUID(m.tenant_id)) as tx:
        row = await tx.fetchrow(
            MEMBER_SQL + " WHERE m.tenant = $1 AND m.id = $2", UUID(m.tenant_id), UUID(m.membership_id)
        )
    assert TenantScope.for_member(row, billing=session.billing) == session
    assert (session.time_zone, session.currency, session.locale) == ("Asia/Tokyo", "JPY", "zh-CN")
    assert TenantScope.for_member(row, locale="en").locale == "en"  # a job acting in another language


async def test_the_fan_out_runs_every_tenant_and_isolates_a_failing_one(client, monkeypatch):
    a = await signup(client, time_zone="Europe/Berlin", currency="EUR")
    b = await signup(client)
    failing, healthy = sorted([UUID(a.tenant_id), UUID(b.tenant_id)])  # the failing one runs first
    seen: dict[UUID, tuple[str, str, str]] = {}

    async def run(scope: TenantScope) -> int:
        seen[scope.tenant_id] = (scope.role, scope.time_zone, scope.currency)
        if scope.tenant_id == failing:
            raise RuntimeError("bad data in this tenant")
        return 5

    with structlog.testing.capture_logs() as logs:
        monkeypatch.setattr(cron, "log", structlog.get_logger("tenants.cron"))  # not the cached one
        total = await for_each_tenant("test job", run, only=[failing, healthy])
    assert total == 5
    assert seen == {
        UUID(a.tenant_id): ("system", "Europe/Berlin", "EUR"),
        UUID(b.tenant_id): ("system", "Asia/Shanghai", "CNY"),
    }
    failures = [e for e in logs if e["event"] == "test job failed for a tenant"]
    assert [(e["tenant_id"], e["job"], e["log_level"]) for e in failures] == [
        (str(failing), "test job", "error")
    ]
    assert isinstance(failures[0]["exc_info"], RuntimeError)

    order: list[UUID] = []

    async def count(scope: TenantScope) -> int:
        order.append(scope.tenant_id)
        return 1

    assert await for_each_tenant("count", count) == len(order)
    assert {failing, healthy} <= set(order) and order == sorted(order)  # every tenant, by id
