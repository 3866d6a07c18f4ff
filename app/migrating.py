"""Helpers for the hand-written SQL migrations (run by Piccolo's migration runner)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.db import DB


async def run_sql(sql: str) -> None:
    """Run one or more SQL statements inside the migration's transaction."""
    tx = DB.current_transaction.get()
    if tx is None:
        raise RuntimeError("migrations run inside Piccolo's migration transaction")
    await tx.connection.execute(sql)


def sql_migration(
    migration_id: str, app_name: str, description: str, *parts: str | Callable[[], str]
) -> Callable[[], Awaitable[MigrationManager]]:
    """Build a Piccolo ``forwards`` coroutine that runs the given SQL (strings or SQL-returning callables)."""

    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name=app_name, description=description)

        async def run() -> None:
            for part in parts:
                await run_sql(part() if callable(part) else part)

        manager.add_raw(run)
        return manager

    return forwards
