"""The demo company seeded by ``acre dev`` on first run."""

from __future__ import annotations

from uuid import uuid4

from app import db
from app.accounts import service as accounts

DEMO_PASSWORD = "Acre-demo-2026"  # noqa: S105 - a published demo login for local development only
DEMO_PEOPLE = [
    ("owner@demo.acre.test", "王建国", "owner"),
    ("manager@demo.acre.test", "李晓梅", "manager"),
    ("rep1@demo.acre.test", "张伟", "rep"),
    ("rep2@demo.acre.test", "Emily Chen", "rep"),
    ("rep3@demo.acre.test", "刘洋", "rep"),
]


async def seed_demo() -> list[tuple[str, str]]:
    """Create the demo tenant with its people, once; returns the logins."""
    from app.settings import get_settings

    settings = get_settings()
    await db.start(settings.database_url, 2)
    try:
        async with db.transaction(None) as tx:
            exists = await tx.fetchval("SELECT id FROM tenants WHERE slug = 'demo'")
        if not exists:
            tenant_id = uuid4()
            async with db.transaction(tenant_id) as tx:
                await tx.execute(
                    "INSERT INTO tenants (id, name, slug, locale, time_zone, currency)"
                    " VALUES ($1, '青禾软件（演示）', 'demo', 'zh-CN', 'Asia/Shanghai', 'CNY')",
                    tenant_id,
                )
                for email, name, role in DEMO_PEOPLE:
                    user_id = await accounts.create_user(tx, email, name, DEMO_PASSWORD, None)
                    await tx.execute(
                        "INSERT INTO memberships (tenant, user_id, role) VALUES ($1, $2, $3)", tenant_id, user_id, role
                    )
    finally:
        await db.stop()
    return [(email, DEMO_PASSWORD) for email, _, _ in DEMO_PEOPLE]
