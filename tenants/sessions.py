"""Sessions inside a tenant: opening one for a member (signup, login, invitation acceptance), ending
it, and the signed-in member's own view (``/me``)."""

from __future__ import annotations

from uuid import UUID

from app import db, i18n
from app.accounts import service as accounts
from tenants.schemas import MeRead, SessionRead, TenantChoice
from tenants.scope import TenantScope


async def open_session(
    tx: db.Tx, user_id: UUID, tenant: TenantChoice, tenant_id: UUID, ip: str | None, ua: str | None
) -> SessionRead:
    """A new session for ``user_id`` in ``tenant_id``, written in ``tx``; the caller has checked the
    membership. The token is in the answer only."""
    token, expires = await accounts.create_session(tx, user_id, tenant_id, ip, ua)
    return SessionRead(
        token=token, csrf_token=accounts.csrf_token_for(token), expires_at=expires, tenant=tenant
    )


async def logout(token: str) -> None:
    async with db.transaction(None) as tx:
        await accounts.revoke_session(tx, token)


async def set_locale(scope: TenantScope, locale: str) -> str:
    """Remember the member's language (on their user: it follows them to every company); answers the
    normalized locale (``zh-CN`` or ``en``; anything else is English)."""
    assert scope.user_id is not None
    chosen = i18n.normalize(locale)
    async with db.transaction(None) as tx:
        await tx.execute("UPDATE users SET locale = $1 WHERE id = $2", chosen, scope.user_id)
    return chosen


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
