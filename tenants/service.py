"""Tenant lifecycle: signup, login, members and invitations. Plain async functions; every one that
acts inside a tenant takes the ``TenantScope`` first."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import available_timezones

import asyncpg
from babel.numbers import list_currencies

from app import audit, db, i18n, mail
from app.accounts import service as accounts
from app.errors import Conflict, Forbidden, Gone, NotAuthenticated, NotFound, ValidationFailed
from app.i18n import N_
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.settings import get_settings
from tenants import roles
from tenants.billing.seats import ensure_seat_available
from tenants.billing.service import start_trial
from tenants.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationRead,
    LoginCreate,
    LoginRead,
    MemberRead,
    MeRead,
    SessionRead,
    SignupCreate,
    TenantChoice,
)
from tenants.scope import TenantScope

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_RESERVED_SLUGS = {"admin", "api", "app", "www", "acre", "static", "sign", "verify", "dev", "billing"}
_TIME_ZONES = available_timezones()
_CURRENCIES = set(list_currencies())


def _check_signup(data: SignupCreate) -> None:
    if not _SLUG.match(data.slug) or data.slug in _RESERVED_SLUGS:
        raise ValidationFailed.field(
            "slug", "Use 1–40 lowercase letters, digits or hyphens, not starting or ending with a hyphen"
        )
    if data.time_zone not in _TIME_ZONES:
        raise ValidationFailed.field("time_zone", "Unknown time zone")
    if data.currency not in _CURRENCIES:
        raise ValidationFailed.field("currency", "Unknown currency code")
    if not data.company_name.strip() or not data.name.strip():
        raise ValidationFailed.field("company_name" if not data.company_name.strip() else "name", "Required")


async def _session(
    tx: db.Tx, user_id: UUID, tenant: TenantChoice, tenant_id: UUID, ip: str | None, ua: str | None
) -> SessionRead:
    token, expires = await accounts.create_session(tx, user_id, tenant_id, ip, ua)
    return SessionRead(
        token=token, csrf_token=accounts.csrf_token_for(token), expires_at=expires, tenant=tenant
    )


async def signup(data: SignupCreate, ip: str | None, user_agent: str | None) -> SessionRead:
    """Create a tenant and its owner (a new user, or an existing one proving their password) and a
    session, in one transaction: on any failure nothing is created."""
    _check_signup(data)
    email = accounts.normalize_email(data.email)
    tenant_id = uuid4()
    try:
        async with db.transaction(tenant_id) as tx:
            if await tx.fetchval("SELECT 1 FROM tenants WHERE slug = $1", data.slug):
                raise Conflict("The address {slug} is taken", slug=data.slug, extra={"field": "slug"})
            user = await accounts.find_user_by_email(tx, email)
            if user is None:
                accounts.check_password_strength(data.password)
                user_id = await accounts.create_user(tx, email, data.name.strip(), data.password, data.locale)
            elif accounts.verify_password(data.password, str(user["password_hash"])):
                user_id = UUID(str(user["id"]))
            else:
                raise Conflict(
                    "An account with this email exists; sign up with its password to add a company",
                    extra={"field": "email"},
                )
            await tx.execute(
                "INSERT INTO tenants (id, name, slug, locale, time_zone, currency)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                tenant_id,
                data.company_name.strip(),
                data.slug,
                data.locale,
                data.time_zone,
                data.currency,
            )
            await start_trial(tx, tenant_id)
            await tx.execute(
                "INSERT INTO memberships (tenant, user_id, role) VALUES ($1, $2, 'owner')", tenant_id, user_id
            )
            await audit.record(tx, user_id, "tenant.created", "tenant", tenant_id)
            choice = TenantChoice(slug=data.slug, name=data.company_name.strip(), role="owner")
            return await _session(tx, user_id, choice, tenant_id, ip, user_agent)
    except asyncpg.UniqueViolationError as exc:  # a concurrent signup took the slug or the email
        field = "slug" if "slug" in str(exc) else "email"
        raise Conflict("This {field} is taken", field=field, extra={"field": field}) from None


async def login(data: LoginCreate, ip: str | None, user_agent: str | None) -> LoginRead:
    """Check the password, then open a session for the named tenant or the only one; with several
    and none named, answer with the list. A wrong email or password get the same 401."""
    async with db.transaction(None) as tx:
        user = await accounts.find_user_by_email(tx, data.email.strip())
        ok = accounts.verify_password(data.password, str(user["password_hash"]) if user else None)
        if not user or not ok:
            raise NotAuthenticated("Wrong email or password")
        user_id = UUID(str(user["id"]))
    async with db.transaction(None, user_id) as tx:
        rows = await tx.fetch(
            "SELECT t.id, t.slug, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant"
            " WHERE m.user_id = $1 AND m.active ORDER BY t.name",
            user_id,
        )
        choices = {
            r["slug"]: (r["id"], TenantChoice(slug=r["slug"], name=r["name"], role=r["role"])) for r in rows
        }
        if data.tenant is not None:
            if data.tenant not in choices:
                raise NotAuthenticated("You are not an active member of this company")
            tenant_id, choice = choices[data.tenant]
        elif len(choices) == 1:
            tenant_id, choice = next(iter(choices.values()))
        elif not choices:
            raise NotAuthenticated("You are not an active member of any company")
        else:
            return LoginRead(choose_tenant=[c for _, c in choices.values()])
        return LoginRead(session=await _session(tx, user_id, choice, tenant_id, ip, user_agent))


async def logout(token: str) -> None:
    async with db.transaction(None) as tx:
        await accounts.revoke_session(tx, token)


def me(scope: TenantScope) -> MeRead:
    assert scope.user_id is not None
    return MeRead(
        user_id=scope.user_id,
        email=scope.email or "",
        name=scope.name or "",
        locale=scope.locale,
        role=scope.role,
        tenant_id=scope.tenant_id,
        tenant_name=scope.tenant_name,
        tenant_slug=scope.tenant_slug,
        time_zone=scope.time_zone,
        currency=scope.currency,
        warnings=scope.billing_warnings(),
    )


# --- members ---------------------------------------------------------------------------------

_MEMBER_SQL = (
    "SELECT m.id, m.user_id, u.email, u.name, m.role, m.active, m.created_at, m.deactivated_at"
    " FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant = $1"
)


def _member(row: asyncpg.Record) -> MemberRead:
    return MemberRead(*row)  # _MEMBER_SQL selects MemberRead's fields in its order: no dict per row


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
    items = [_member(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def _get_member(tx: db.Tx, scope: TenantScope, member_id: UUID, lock: bool = False) -> MemberRead:
    row = await tx.fetchrow(
        _MEMBER_SQL + " AND m.id = $2" + (" FOR UPDATE OF m" if lock else ""), scope.tenant_id, member_id
    )
    if row is None:
        raise NotFound("No member with this id")
    return _member(row)


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
        await tx.execute("UPDATE memberships SET role = $2 WHERE id = $1", member_id, role)
        await audit.record(
            tx,
            scope.user_id,
            "member.role_changed",
            "membership",
            member_id,
            data={"from": member.role, "to": role},
        )
        return await _get_member(tx, scope, member_id)


# Checks other domains register to refuse a deactivation (app.handover: the member still owns
# customers or open deals). Each runs before the deactivation's own transaction and raises to refuse.
DeactivationGuard = Callable[[TenantScope, UUID], Awaitable[None]]
DEACTIVATION_GUARDS: list[DeactivationGuard] = []


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
            "UPDATE memberships SET active = false, deactivated_at = now() WHERE id = $1", member_id
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
            "UPDATE memberships SET active = true, deactivated_at = NULL WHERE id = $1", member_id
        )
        await audit.record(tx, scope.user_id, "member.reactivated", "membership", member_id)
        return await _get_member(tx, scope, member_id)


# --- invitations -----------------------------------------------------------------------------
# A token is "<tenant id hex>.<32 random bytes>": the tenant part lets the accept step open a
# tenant-scoped (RLS) transaction before it knows anything else; only the sha256 of it is stored.


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


def _invitation(row: asyncpg.Record) -> InvitationRead:
    return InvitationRead(
        id=row["id"],
        email=row["email"],
        role=row["role"],
        status=_invitation_status(row),  # type: ignore[arg-type]
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        accepted_at=row["accepted_at"],
    )


_ROLE_LABELS = {
    "owner": N_("Owner"),
    "admin": N_("Administrator"),
    "manager": N_("Territory manager"),
    "rep": N_("Sales rep"),
}


async def invite(scope: TenantScope, data: InvitationCreate) -> InvitationRead:
    """Invite someone by email. A new invitation for the same email replaces the pending one."""
    scope.require("admin")
    if not roles.may_grant(scope.role, data.role):
        raise Forbidden("Only an owner can invite an owner")
    email = accounts.normalize_email(data.email)
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
        locale = data.locale or scope.tenant_locale
        await mail.queue_email(
            tx,
            to=email,
            template="invitation",
            locale=locale,
            key=f"invitation:{row['id']}",
            inviter=scope.name or scope.email,
            company=scope.tenant_name,
            role_label=i18n.translate(locale, _ROLE_LABELS[data.role]),
            link=f"{get_settings().public_url}/invite/{token}",
            expires=expires.strftime("%Y-%m-%d"),
        )
        await audit.record(
            tx,
            scope.user_id,
            "invitation.created",
            "invitation",
            row["id"],
            data={"email": email, "role": data.role},
        )
        return _invitation(row)


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
    items = [_invitation(r) for r in rows[:limit]]
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
        return _invitation(row)


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
        elif accounts.verify_password(data.password, str(user["password_hash"])):
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
            await tx.execute(
                "INSERT INTO memberships (tenant, user_id, role) VALUES ($1, $2, $3)",
                tenant_id,
                user_id,
                inv["role"],
            )
        else:
            await tx.execute(
                "UPDATE memberships SET active = true, deactivated_at = NULL, role = $2 WHERE id = $1",
                existing["id"],
                inv["role"],
            )
        await tx.execute("UPDATE invitations SET accepted_at = now() WHERE id = $1", inv["id"])
        await audit.record(tx, user_id, "invitation.accepted", "invitation", inv["id"])
        choice = TenantChoice(slug=inv["slug"], name=inv["tenant_name"], role=inv["role"])
        return await _session(tx, user_id, choice, tenant_id, ip, user_agent)


async def peek_invitation(token: str) -> dict[str, object]:
    """What the accept page shows before accepting: company, email, role, status, locale, and
    whether the email already has an account. Unknown token → 404."""
    tenant_id = _token_tenant(token)
    async with db.transaction(tenant_id) as tx:
        inv = await tx.fetchrow(
            "SELECT i.*, t.name AS tenant_name, t.locale AS tenant_locale,"
            " EXISTS (SELECT 1 FROM users u WHERE lower(u.email) = lower(i.email)) AS has_account"
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
    }
