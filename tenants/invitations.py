"""Invitations: an admin invites by email; the invitee accepts from the mailed link (a new user, or
an existing one proving their password) and gets a membership and a session. An invitation may carry
territories (``invitation_territories``): the invitee joins them on accepting — as their manager when
invited as a manager or higher, else as a rep; a territory deleted meanwhile drops out.

A token is ``<tenant id hex>.<32 random bytes>``: the tenant part lets the accept step open a
tenant-scoped (RLS) transaction before it knows anything else; only the sha256 of it is stored."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from app import audit, db, i18n, mail, pages
from app.accounts import lockout
from app.accounts import service as accounts
from app.db import Tx
from app.errors import Conflict, Forbidden, Gone, NotAuthenticated, NotFound, ValidationFailed
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct
from app.settings import get_settings
from tenants import roles
from tenants.access import manages
from tenants.billing.seats import ensure_seat_available
from tenants.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationRead,
    InvitationTerritoryRead,
    SessionRead,
    TenantChoice,
)
from tenants.scope import TenantScope
from tenants.sessions import open_session


def _new_token(tenant_id: UUID) -> str:
    return f"{tenant_id.hex}.{secrets.token_urlsafe(32)}"


def _token_tenant(token: str) -> UUID:
    head, _, secret = token.partition(".")
    try:
        if len(secret) < 40:
            raise ValueError
        return UUID(hex=head)
    except ValueError:
        raise NotFound("This invitation link is not valid") from None


def _invitation_status(row: asyncpg.Record) -> str:
    if row["accepted_at"]:
        return "accepted"
    if row["revoked_at"]:
        return "revoked"
    return "expired" if row["expires_at"] <= datetime.now(UTC) else "pending"


def _invitation(
    row: asyncpg.Record, territories: list[InvitationTerritoryRead] | None = None
) -> InvitationRead:
    return to_struct(InvitationRead, row, status=_invitation_status(row), territories=territories or [])


async def _territories_of(
    tx: Tx, tenant_id: UUID, invitation_ids: list[UUID]
) -> dict[UUID, list[InvitationTerritoryRead]]:
    """Each invitation's territories (id, name, the invitee's role there), in tree order."""
    rows = await tx.fetch(
        "SELECT it.invitation_id, t.id, t.name, it.role FROM invitation_territories it"
        " JOIN territories t ON t.tenant = it.tenant AND t.id = it.territory_id"
        " WHERE it.tenant = $1 AND it.invitation_id = ANY($2::uuid[]) ORDER BY t.path, t.id",
        tenant_id,
        invitation_ids,
    )
    found: dict[UUID, list[InvitationTerritoryRead]] = {}
    for r in rows:
        found.setdefault(r["invitation_id"], []).append(to_struct(InvitationTerritoryRead, r))
    return found


async def _check_territories(tx: Tx, scope: TenantScope, territory_ids: list[UUID]) -> None:
    """422 for an id that is no territory of this tenant (another tenant's included); 403 for one
    the inviter does not manage."""
    known = {
        r["id"]
        for r in await tx.fetch(
            "SELECT id FROM territories WHERE tenant = $1 AND id = ANY($2::uuid[])",
            scope.tenant_id,
            territory_ids,
        )
    }
    for territory_id in territory_ids:
        if territory_id not in known:
            raise ValidationFailed.field("territory_ids", "No territory with this id")
        if not await manages(tx, scope, territory_id):
            raise Forbidden("You do not manage this territory")


async def invite(scope: TenantScope, data: InvitationCreate) -> InvitationRead:
    """Invite someone by email. A new invitation for the same email replaces the pending one."""
    scope.require("admin")
    if not roles.may_grant(scope.role, data.role):
        raise Forbidden("Only an owner can invite an owner")
    email = accounts.normalize_email(data.email)
    territory_ids = list(dict.fromkeys(data.territory_ids))
    territory_role = "manager" if roles.at_least(data.role, "manager") else "rep"
    token = _new_token(scope.tenant_id)
    expires = datetime.now(UTC) + timedelta(days=get_settings().invitation_ttl_days)
    async with scope.tx() as tx:
        if await tx.fetchval(
            "SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id"
            " WHERE m.tenant = $1 AND lower(u.email) = $2 AND m.active",
            scope.tenant_id,
            email,
        ):
            raise Conflict("{email} is already a member", email=email, extra={"field": "email"})
        await _check_territories(tx, scope, territory_ids)
        await tx.execute(
            "UPDATE invitations SET revoked_at = now() WHERE tenant = $1 AND lower(email) = $2"
            " AND accepted_at IS NULL AND revoked_at IS NULL",
            scope.tenant_id,
            email,
        )
        await ensure_seat_available(tx, pending_invitations=True)
        row = await tx.fetchrow(
            "INSERT INTO invitations (tenant, email, role, locale, token_hash, invited_by, expires_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
            scope.tenant_id,
            email,
            data.role,
            data.locale,
            accounts.token_hash(token),
            scope.user_id,
            expires,
        )
        assert row is not None
        await tx.execute(
            "INSERT INTO invitation_territories (tenant, invitation_id, territory_id, role)"
            " SELECT $1, $2, t, $4 FROM unnest($3::uuid[]) t",
            scope.tenant_id,
            row["id"],
            territory_ids,
            territory_role,
        )
        locale = data.locale or scope.tenant_locale
        await mail.queue_email(
            tx,
            to=email,
            template="invitation",
            locale=locale,
            key=f"invitation:{row['id']}",
            inviter=scope.name or scope.email,
            company=scope.tenant_name,
            role_label=i18n.translate(locale, roles.LABELS[data.role]),
            link=pages.url(pages.INVITATION, token=token),
            expires=expires.strftime("%Y-%m-%d"),
        )
        await audit.record(
            tx,
            scope.user_id,
            "invitation.created",
            "invitation",
            row["id"],
            data={"email": email, "role": data.role, "territory_ids": territory_ids},
        )
        territories = await _territories_of(tx, scope.tenant_id, [row["id"]])
        return _invitation(row, territories.get(row["id"]))


async def list_invitations(
    scope: TenantScope, *, limit: int = 50, cursor: str | None = None
) -> Page[InvitationRead]:
    scope.require("admin")
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    async with scope.tx() as tx:
        rows = await tx.fetch(
            "SELECT * FROM invitations WHERE tenant = $1"
            " AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))"
            " ORDER BY created_at DESC, id DESC LIMIT $4",
            scope.tenant_id,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
        territories = await _territories_of(tx, scope.tenant_id, [r["id"] for r in rows[:limit]])
    items = [_invitation(r, territories.get(r["id"])) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def revoke_invitation(scope: TenantScope, invitation_id: UUID) -> InvitationRead:
    scope.require("admin")
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            "UPDATE invitations SET revoked_at = coalesce(revoked_at, now()) WHERE tenant = $1 AND id = $2"
            " AND accepted_at IS NULL RETURNING *",
            scope.tenant_id,
            invitation_id,
        )
        if row is None:
            exists = await tx.fetchval(
                "SELECT 1 FROM invitations WHERE tenant = $1 AND id = $2", scope.tenant_id, invitation_id
            )
            if exists:
                raise Conflict("This invitation was already accepted")
            raise NotFound("No invitation with this id")
        await audit.record(tx, scope.user_id, "invitation.revoked", "invitation", invitation_id)
        territories = await _territories_of(tx, scope.tenant_id, [invitation_id])
        return _invitation(row, territories.get(invitation_id))


async def accept_invitation(
    token: str, data: InvitationAccept, ip: str | None, user_agent: str | None
) -> SessionRead:
    """Accept an invitation: create the user (or check an existing user's password), add the
    membership and open a session. Unknown token → 404; used, revoked or expired → 410."""
    tenant_id = _token_tenant(token)
    async with db.transaction(tenant_id) as tx:
        inv = await tx.fetchrow(
            "SELECT i.*, t.slug, t.name AS tenant_name FROM invitations i JOIN tenants t ON t.id = i.tenant"
            " WHERE i.tenant = $1 AND i.token_hash = $2 FOR UPDATE OF i",
            tenant_id,
            accounts.token_hash(token),
        )
        if inv is None:
            raise NotFound("This invitation link is not valid")
        status = _invitation_status(inv)
        if status != "pending":
            raise Gone(
                "This invitation is {status}; ask for a new one", status=status, extra={"status": status}
            )
        user = await accounts.find_user_by_email(tx, inv["email"])
        if user is None:
            if not data.name or not data.name.strip():
                raise ValidationFailed.field("name", "Required")
            user_id = await accounts.create_user(
                tx, inv["email"], data.name.strip(), data.password, inv["locale"]
            )
        elif await lockout.verify(inv["email"], data.password, str(user["password_hash"])):
            user_id = UUID(str(user["id"]))
        else:
            raise NotAuthenticated("Wrong password for this account")
        existing = await tx.fetchrow(
            "SELECT id, active FROM memberships WHERE tenant = $1 AND user_id = $2", tenant_id, user_id
        )
        if existing is not None and existing["active"]:
            raise Conflict("You are already a member of this company")
        await ensure_seat_available(tx)
        if existing is None:
            membership_id = await tx.fetchval(
                "INSERT INTO memberships (tenant, user_id, role) VALUES ($1, $2, $3) RETURNING id",
                tenant_id,
                user_id,
                inv["role"],
            )
        else:
            membership_id = existing["id"]
            await tx.execute(
                "UPDATE memberships SET active = true, deactivated_at = NULL, role = $2"
                " WHERE tenant = $3 AND id = $1",
                existing["id"],
                inv["role"],
                tenant_id,
            )
        joined = await tx.fetch(
            "INSERT INTO territory_members (tenant, territory_id, membership_id, role)"
            " SELECT tenant, territory_id, $3, role FROM invitation_territories"
            " WHERE tenant = $1 AND invitation_id = $2"
            " ON CONFLICT (tenant, territory_id, membership_id) DO UPDATE SET role = EXCLUDED.role"
            " RETURNING territory_id",
            tenant_id,
            inv["id"],
            membership_id,
        )
        await tx.execute(
            "UPDATE invitations SET accepted_at = now() WHERE tenant = $1 AND id = $2", tenant_id, inv["id"]
        )
        await audit.record(
            tx,
            user_id,
            "invitation.accepted",
            "invitation",
            inv["id"],
            data={"territory_ids": sorted(str(r["territory_id"]) for r in joined)},
        )
        choice = to_struct(TenantChoice, inv, name=inv["tenant_name"])
        return await open_session(tx, user_id, choice, tenant_id, ip, user_agent)


async def peek_invitation(token: str) -> dict[str, object]:
    """What the accept page shows before accepting: company, email, role, status, locale, whether
    the email already has an account, and the names of the territories it carries. Unknown token →
    404."""
    tenant_id = _token_tenant(token)
    async with db.transaction(tenant_id) as tx:
        inv = await tx.fetchrow(
            "SELECT i.*, t.name AS tenant_name, t.locale AS tenant_locale,"
            " EXISTS (SELECT 1 FROM users u WHERE lower(u.email) = lower(i.email)) AS has_account,"
            " ARRAY(SELECT t.name FROM invitation_territories it JOIN territories t"
            "  ON t.tenant = it.tenant AND t.id = it.territory_id"
            "  WHERE it.tenant = i.tenant AND it.invitation_id = i.id ORDER BY t.path) AS territories"
            " FROM invitations i JOIN tenants t ON t.id = i.tenant WHERE i.tenant = $1 AND i.token_hash = $2",
            tenant_id,
            accounts.token_hash(token),
        )
    if inv is None:
        raise NotFound("This invitation link is not valid")
    return {
        "company": inv["tenant_name"],
        "email": inv["email"],
        "role": inv["role"],
        "status": _invitation_status(inv),
        "locale": inv["locale"] or inv["tenant_locale"],
        "has_account": inv["has_account"],
        "territories": list(inv["territories"]),
    }
