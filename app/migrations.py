"""Run Piccolo migrations as the owner role, creating the database first when it is missing."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from app import db
from app.settings import get_settings


async def ensure_database(admin_url: str) -> None:
    parts = urlsplit(admin_url)
    name = parts.path.lstrip("/")
    try:
        conn = await asyncpg.connect(admin_url)
    except asyncpg.InvalidCatalogNameError:
        maintenance = urlunsplit(parts._replace(path="/postgres"))
        conn = await asyncpg.connect(maintenance)
        try:
            await conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        finally:
            await conn.close()
        return
    await conn.close()


async def migrate(admin_url: str | None = None) -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    admin_url = admin_url or get_settings().database_admin_url
    await ensure_database(admin_url)
    os.environ["PICCOLO_CONF"] = "app.piccolo_conf"  # where Piccolo's runner finds the app registry
    db.configure(admin_url)
    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")
