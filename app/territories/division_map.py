"""Which territory a credit code places a customer in: each tenant maps division codes (GB/T 2260,
``app.territories.divisions``) to its territories — a province, a city or a county code — and a
customer's registering-authority division (characters 3–8 of its credit code) belongs to the
territory of the most specific mapped code it lies in.

The placement itself is SQL, so that every write of a customer follows it (the migration
``customers_2026_12_04t190200``): ``acre_code_territory(tenant, tax_id)`` answers the territory, a
trigger keeps ``customers.code_territory_id`` and ``cross_territory`` (跨区: the code points to a
territory the customer is neither in nor below) up to date, and a change of the mapping or a move of
territories places the customers concerned again, in the same transaction.

Who maps: everyone may read the mapping; owner/admin change any of it, a manager the codes of
territories in their subtrees (a code mapped elsewhere only when they manage that territory too).
An unknown division code is 422, another tenant's territory 422 like a missing one.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from app import audit
from app.db import Tx
from app.errors import NotFound, ValidationFailed
from app.rows import to_struct
from app.territories import divisions
from app.territories.schemas import DivisionMappingRead, DivisionRead
from tenants.access import require_manages
from tenants.scope import TenantScope

_SELECT = (
    "SELECT m.code, m.territory_id, t.name AS territory_name, m.created_at FROM territory_divisions m"
    " JOIN territories t ON t.tenant = m.tenant AND t.id = m.territory_id WHERE m.tenant = $1"
)


def division_read(division: divisions.Division) -> DivisionRead:
    return DivisionRead(
        division.code, division.name, division.level, divisions.full_name(division.code) or division.name
    )


def find_divisions(q: str, limit: int = 20) -> list[DivisionRead]:
    """Divisions by code prefix or name (no tenant data: the committed table)."""
    return [division_read(d) for d in divisions.search(q, limit)]


def get_division(code: str) -> DivisionRead:
    found = divisions.get(code.strip())
    if found is None:
        raise NotFound("No administrative division with this code")
    return division_read(found)


def known_division(code: str, field: str = "code") -> divisions.Division:
    """The listed division of a code as typed (spaces ignored), else 422 on ``field``."""
    code = "".join(code.split())
    if not divisions.is_code(code):
        raise ValidationFailed.field(field, "A division code has six digits, e.g. 310115")
    found = divisions.get(code)
    if found is None:
        raise ValidationFailed.field(field, "No administrative division has the code {code}", code=code)
    return found


def _mapping(row: asyncpg.Record) -> DivisionMappingRead:
    division = divisions.get(str(row["code"]))
    name = divisions.full_name(str(row["code"])) or str(row["code"])
    return to_struct(DivisionMappingRead, row, name=name, level=division.level if division else "county")


async def list_mappings(scope: TenantScope, territory_id: UUID | None = None) -> list[DivisionMappingRead]:
    """The tenant's mapping by code (a province before its cities and counties); ``territory_id``:
    only that territory's codes."""
    async with scope.tx() as tx:
        rows = await tx.fetch(
            _SELECT + " AND ($2::uuid IS NULL OR m.territory_id = $2) ORDER BY m.code",
            scope.tenant_id,
            territory_id,
        )
    return [_mapping(r) for r in rows]


async def _territory_exists(tx: Tx, scope: TenantScope, territory_id: UUID) -> None:
    if not await tx.fetchval(
        "SELECT 1 FROM territories WHERE tenant = $1 AND id = $2", scope.tenant_id, territory_id
    ):
        raise ValidationFailed.field("territory_id", "No territory with this id")


async def map_division(scope: TenantScope, code: str, territory_id: UUID) -> DivisionMappingRead:
    """Map a division code to a territory (a code mapped elsewhere moves). The customers whose code
    lies in it are placed again before this returns."""
    division = known_division(code)
    async with scope.tx() as tx:
        await _territory_exists(tx, scope, territory_id)
        await require_manages(tx, scope, territory_id)
        current = await tx.fetchrow(
            "SELECT territory_id FROM territory_divisions WHERE tenant = $1 AND code = $2 FOR UPDATE",
            scope.tenant_id,
            division.code,
        )
        if current is not None and current["territory_id"] != territory_id:
            await require_manages(tx, scope, current["territory_id"])
        if current is None or current["territory_id"] != territory_id:
            await tx.execute(
                "INSERT INTO territory_divisions (tenant, territory_id, code, created_by)"
                " VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (tenant, code) DO UPDATE SET territory_id = excluded.territory_id,"
                " created_by = excluded.created_by, created_at = now()",
                scope.tenant_id,
                territory_id,
                division.code,
                scope.membership_id,
            )
            await audit.record(
                tx,
                scope.user_id,
                "territory.division_mapped",
                "territory",
                territory_id,
                data={
                    "code": division.code,
                    "from_territory_id": current["territory_id"] if current else None,
                },
            )
        row = await tx.fetchrow(_SELECT + " AND m.code = $2", scope.tenant_id, division.code)
    assert row is not None
    return _mapping(row)


async def unmap_division(scope: TenantScope, code: str) -> None:
    """Remove a code from the mapping (404 when it is not mapped); its customers fall back to a
    less specific mapped code, or to none."""
    code = "".join(code.split())
    async with scope.tx() as tx:
        current = await tx.fetchrow(
            "SELECT territory_id FROM territory_divisions WHERE tenant = $1 AND code = $2 FOR UPDATE",
            scope.tenant_id,
            code if divisions.is_code(code) else "",
        )
        if current is None:
            raise NotFound("This division code is not mapped")
        await require_manages(tx, scope, current["territory_id"])
        await tx.execute(
            "DELETE FROM territory_divisions WHERE tenant = $1 AND code = $2", scope.tenant_id, code
        )
        await audit.record(
            tx,
            scope.user_id,
            "territory.division_unmapped",
            "territory",
            current["territory_id"],
            data={"code": code},
        )


async def code_territory(tx: Tx, scope: TenantScope, tax_id: str | None) -> UUID | None:
    """The territory a (normalised) credit code places a customer in, or ``None``."""
    if not tax_id:
        return None
    found: UUID | None = await tx.fetchval("SELECT acre_code_territory($1, $2)", scope.tenant_id, tax_id)
    return found


async def load_prefixes(tx: Tx, scope: TenantScope) -> dict[str, UUID]:
    """The mapping as ``{code: territory_id}``, for placing many rows in Python (the import:
    ``divisions.place``)."""
    rows = await tx.fetch(
        "SELECT code, territory_id FROM territory_divisions WHERE tenant = $1", scope.tenant_id
    )
    return {str(r["code"]): r["territory_id"] for r in rows}
