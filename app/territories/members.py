"""Who works and manages each territory. Reading is open to every member of the tenant; adding or
removing needs a manager of the territory (or an owner/admin)."""

from __future__ import annotations

from uuid import UUID

from app import audit
from app.errors import NotFound, ValidationFailed
from app.rows import to_struct, to_structs
from app.territories.schemas import TerritoryMemberCreate, TerritoryMemberRead
from app.territories.service import fetch_territory
from tenants import roles
from tenants.access import require_manages
from tenants.scope import TenantScope

_MEMBER_SQL = (
    "SELECT tm.territory_id, tm.membership_id, m.user_id, u.name, u.email, tm.role, tm.created_at"
    " FROM territory_members tm JOIN memberships m ON m.tenant = tm.tenant AND m.id = tm.membership_id"
    " JOIN users u ON u.id = m.user_id WHERE tm.tenant = $1 AND tm.territory_id = $2"
)


async def list_territory_members(scope: TenantScope, territory_id: UUID) -> list[TerritoryMemberRead]:
    async with scope.tx() as tx:
        await fetch_territory(tx, scope, territory_id)
        rows = await tx.fetch(
            _MEMBER_SQL + " ORDER BY tm.role, u.name, tm.membership_id", scope.tenant_id, territory_id
        )
    return to_structs(TerritoryMemberRead, rows)


async def add_territory_member(
    scope: TenantScope, territory_id: UUID, data: TerritoryMemberCreate
) -> TerritoryMemberRead:
    """Make a member a rep or manager of the territory (adding them again changes their role).
    Only members whose tenant role is manager or above may manage a territory."""
    async with scope.tx() as tx:
        await fetch_territory(tx, scope, territory_id)
        await require_manages(tx, scope, territory_id)
        member = await tx.fetchrow(
            "SELECT role, active FROM memberships WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            data.membership_id,
        )
        if member is None:
            raise ValidationFailed.field("membership_id", "No member with this id")
        if not member["active"]:
            raise ValidationFailed.field("membership_id", "This member is deactivated")
        if data.role == "manager" and not roles.at_least(member["role"], "manager"):
            raise ValidationFailed.field(
                "role", "Only a member with the manager role or higher can manage a territory"
            )
        await tx.execute(
            "INSERT INTO territory_members (tenant, territory_id, membership_id, role)"
            " VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (tenant, territory_id, membership_id) DO UPDATE SET role = EXCLUDED.role",
            scope.tenant_id,
            territory_id,
            data.membership_id,
            data.role,
        )
        await audit.record(
            tx,
            scope.user_id,
            "territory.member_added",
            "territory",
            territory_id,
            data={"membership_id": data.membership_id, "role": data.role},
        )
        row = await tx.fetchrow(
            _MEMBER_SQL + " AND tm.membership_id = $3", scope.tenant_id, territory_id, data.membership_id
        )
        assert row is not None
        return to_struct(TerritoryMemberRead, row)


async def remove_territory_member(scope: TenantScope, territory_id: UUID, membership_id: UUID) -> None:
    async with scope.tx() as tx:
        await fetch_territory(tx, scope, territory_id)
        await require_manages(tx, scope, territory_id)
        role = await tx.fetchval(
            "DELETE FROM territory_members WHERE tenant = $1 AND territory_id = $2 AND membership_id = $3"
            " RETURNING role",
            scope.tenant_id,
            territory_id,
            membership_id,
        )
        if role is None:
            raise NotFound("This member is not in this territory")
        await audit.record(
            tx,
            scope.user_id,
            "territory.member_removed",
            "territory",
            territory_id,
            data={"membership_id": membership_id, "role": role},
        )
