"""Members of a tenant: listing, roles, deactivation (with the guards other domains register) and
reactivation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from app import audit, db
from app.errors import Conflict, Forbidden, NotFound
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from tenants import roles
from tenants.billing.seats import ensure_seat_available
from tenants.schemas import MemberRead
from tenants.scope import TenantScope

_MEMBER_SQL = (
    "SELECT m.id, m.user_id, u.email, u.name, m.role, m.active, m.created_at, m.deactivated_at"
    " FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant = $1"
)


async def list_members(
    scope: TenantScope,
    *,
    limit: int = 50,
    cursor: str | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> Page[MemberRead]:
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    async with scope.tx() as tx:
        rows = await tx.fetch(
            _MEMBER_SQL + " AND ($2::text IS NULL OR m.role = $2) AND ($3::bool IS NULL OR m.active = $3)"
            " AND ($4::timestamptz IS NULL OR (m.created_at, m.id) > ($4, $5::uuid))"
            " ORDER BY m.created_at, m.id LIMIT $6",
            scope.tenant_id,
            role,
            active,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
    items = to_structs(MemberRead, rows[:limit])
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def _get_member(tx: db.Tx, scope: TenantScope, member_id: UUID, lock: bool = False) -> MemberRead:
    row = await tx.fetchrow(
        _MEMBER_SQL + " AND m.id = $2" + (" FOR UPDATE OF m" if lock else ""), scope.tenant_id, member_id
    )
    if row is None:
        raise NotFound("No member with this id")
    return to_struct(MemberRead, row)


async def get_member(scope: TenantScope, member_id: UUID) -> MemberRead:
    async with scope.tx() as tx:
        return await _get_member(tx, scope, member_id)


async def _active_owners(tx: db.Tx, scope: TenantScope) -> int:
    # Lock the owner rows so two concurrent demotions cannot both see "another owner remains".
    rows = await tx.fetch(
        "SELECT id FROM memberships WHERE tenant = $1 AND role = 'owner' AND active FOR UPDATE",
        scope.tenant_id,
    )
    return len(rows)


async def change_role(scope: TenantScope, member_id: UUID, role: str) -> MemberRead:
    scope.require("admin")
    async with scope.tx() as tx:
        member = await _get_member(tx, scope, member_id, lock=True)
        if not roles.may_grant(scope.role, role) or not roles.may_grant(scope.role, member.role):
            raise Forbidden("Only an owner can grant or remove the owner role")
        if member.role == role:
            return member
        if member.role == "owner" and await _active_owners(tx, scope) <= 1:
            raise Conflict("The last owner cannot be demoted; make someone else owner first")
        await tx.execute(
            "UPDATE memberships SET role = $2 WHERE tenant = $3 AND id = $1", member_id, role, scope.tenant_id
        )
        await audit.record(
            tx,
            scope.user_id,
            "member.role_changed",
            "membership",
            member_id,
            data={"from": member.role, "to": role},
        )
        return await _get_member(tx, scope, member_id)


# Checks other domains add (``register_deactivation_guard``, from ``app.wiring``) to refuse a
# deactivation (app.handover: the member still owns customers, open deals or envelopes out). Each runs
# before the deactivation's own transaction, in the order registered, and raises to refuse.
DeactivationGuard = Callable[[TenantScope, UUID], Awaitable[None]]
DEACTIVATION_GUARDS: list[DeactivationGuard] = []


def register_deactivation_guard(guard: DeactivationGuard) -> None:
    """Run ``guard`` before every deactivation; registering the same guard again changes nothing."""
    if guard not in DEACTIVATION_GUARDS:
        DEACTIVATION_GUARDS.append(guard)


async def deactivate_member(scope: TenantScope, member_id: UUID, reason: str | None = None) -> MemberRead:
    """Deactivate a member and end their sessions. An owner cannot be removed (demote them first);
    a registered guard (``DEACTIVATION_GUARDS``) may refuse."""
    scope.require("admin")
    for guard in DEACTIVATION_GUARDS:
        await guard(scope, member_id)
    async with scope.tx() as tx:
        member = await _get_member(tx, scope, member_id, lock=True)
        if member.role == "owner":
            raise Conflict("An owner cannot be deactivated; change their role first")
        if not member.active:
            return member
        await tx.execute(
            "UPDATE memberships SET active = false, deactivated_at = now() WHERE tenant = $2 AND id = $1",
            member_id,
            scope.tenant_id,
        )
        await tx.execute(
            "UPDATE sessions SET revoked_at = now()"
            " WHERE user_id = $1 AND tenant = $2 AND revoked_at IS NULL",
            member.user_id,
            scope.tenant_id,
        )
        await audit.record(tx, scope.user_id, "member.deactivated", "membership", member_id, reason=reason)
        return await _get_member(tx, scope, member_id)


async def reactivate_member(scope: TenantScope, member_id: UUID) -> MemberRead:
    scope.require("admin")
    async with scope.tx() as tx:
        member = await _get_member(tx, scope, member_id, lock=True)
        if member.active:
            return member
        await ensure_seat_available(tx)
        await tx.execute(
            "UPDATE memberships SET active = true, deactivated_at = NULL WHERE tenant = $2 AND id = $1",
            member_id,
            scope.tenant_id,
        )
        await audit.record(tx, scope.user_id, "member.reactivated", "membership", member_id)
        return await _get_member(tx, scope, member_id)
