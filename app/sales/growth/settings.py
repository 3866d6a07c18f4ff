"""Per-tenant settings of sales growth (cadences, referral reward), one JSON document per name in
``sales_settings``; no row means the defaults, which live in the code only."""

from __future__ import annotations

from uuid import UUID

from app.db import Tx


async def load(tx: Tx, name: str) -> bytes | None:
    raw = await tx.fetchval(
        "SELECT settings::text FROM sales_settings WHERE tenant = $1 AND name = $2", tx.tenant_id, name
    )
    return raw.encode() if raw else None


async def save(tx: Tx, name: str, document: bytes, by: UUID | None) -> None:
    await tx.execute(
        "INSERT INTO sales_settings (tenant, name, settings, updated_by) VALUES ($1, $2, $3::jsonb, $4)"
        " ON CONFLICT (tenant, name) DO UPDATE SET settings = EXCLUDED.settings,"
        " updated_by = EXCLUDED.updated_by, updated_at = now()",
        tx.tenant_id,
        name,
        document.decode(),
        by,
    )
