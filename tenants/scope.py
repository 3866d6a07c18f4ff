"""``TenantScope``: who is acting, for which tenant. A request's comes from its session
(``provide_tenant_scope``, the only way in the API); a background job's from
``TenantScope.system(tenant)``, or, when the job acts for a member, from that member's membership
row (the import job replaces the system scope's user and role, the daily briefing builds each
manager's); the demo seeder builds the owner's."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.di import Provide

from app import db, i18n
from app.accounts.service import csrf_token_for, token_hash
from app.errors import Forbidden, NotAuthenticated, PaymentRequired
from app.settings import get_settings
from tenants import roles
from tenants.billing.entitlements import FULL, Access, BillingState, evaluate, write_blocked

SESSION_COOKIE = "acre_session"
CSRF_COOKIE = "acre_csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True, slots=True)
class TenantScope:
    tenant_id: UUID
    user_id: UUID | None
    role: str
    membership_id: UUID | None = None
    locale: str = "en"
    tenant_locale: str = "en"
    time_zone: str = "UTC"
    currency: str = "CNY"
    email: str | None = None
    name: str | None = None
    tenant_name: str = ""
    tenant_slug: str = ""
    billing: Access = FULL

    def billing_warnings(self) -> list[str]:
        """The billing warnings (grace period, read-only, trial ending) in the member's language."""
        return [i18n.translate(self.locale, msg, **dict(params)) for msg, params in self.billing.warnings]

    @classmethod
    def system(cls, tenant_id: UUID | str) -> TenantScope:
        """The scope of a background job acting for a tenant (no user): above every role
        (``at_least`` is always true), a member of no territory."""
        return cls(tenant_id=UUID(str(tenant_id)), user_id=None, role="system")

    def tx(self) -> AbstractAsyncContextManager[db.Tx]:
        return db.transaction(self.tenant_id)

    def at_least(self, minimum: str) -> bool:
        """True when the acting member holds ``minimum`` or a higher role (owner > admin > manager >
        rep), and always for a background job (the system scope acts for the whole tenant)."""
        return roles.at_least(self.role, minimum) or self.role == "system"  # an unknown minimum raises

    def require(self, minimum: str) -> None:
        """Raise 403 unless ``at_least(minimum)``."""
        if not self.at_least(minimum):
            raise Forbidden("This needs the {role} role or higher", role=minimum)


def _token(request: Request[Any, Any, Any]) -> tuple[str | None, bool]:
    """The session token and whether it came from the cookie (then CSRF applies)."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None, False
    return request.cookies.get(SESSION_COOKIE), True


async def resolve_session(token: str) -> TenantScope | None:
    """The scope of a live session token (one pooled round trip to ``acre_session()``);
    ``None`` for an unknown, expired or revoked token, a deactivated membership, or no started pool."""
    row = (
        await db.DB.pool.fetchrow("SELECT * FROM acre_session($1)", token_hash(token)) if db.DB.pool else None
    )
    if row is None:
        return None
    settings = get_settings()
    billing = evaluate(
        BillingState.from_row(row),
        datetime.now(UTC),
        enabled=settings.billing_enabled,
        grace_days=settings.billing_grace_days,
    )
    return TenantScope(
        tenant_id=row["tenant"],
        user_id=row["user_id"],
        role=row["role"],
        membership_id=row["membership_id"],
        locale=i18n.choose(row["user_locale"], row["tenant_locale"]),
        tenant_locale=row["tenant_locale"],
        time_zone=row["time_zone"],
        currency=row["currency"],
        email=row["user_email"],
        name=row["user_name"],
        tenant_name=row["tenant_name"],
        tenant_slug=row["tenant_slug"],
        billing=billing,
    )


async def provide_tenant_scope(request: Request[Any, Any, Any]) -> TenantScope:
    """Litestar dependency: the caller's scope, or 401. Cookie sessions must send the CSRF header
    on unsafe methods (bearer tokens are not sent by browsers on their own, so need none), else 403;
    a write the tenant's billing blocks (read-only after the grace period) answers 402."""
    token, from_cookie = _token(request)
    scope = await resolve_session(token) if token else None
    if scope is None:
        raise NotAuthenticated("Sign in to continue")
    if from_cookie and request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or sent != csrf_token_for(token or ""):
            raise Forbidden("Missing or wrong CSRF token")
    state = request.scope.setdefault("state", {})
    state["locale"] = scope.locale
    state["tenant_id"] = str(scope.tenant_id)
    if write_blocked(scope.billing, request.method, request.url.path):
        raise PaymentRequired(
            scope.billing.reason, extra={"billing": "/api/v1/billing", "reason": scope.billing.code}
        )
    return scope


# The dependency map every authenticated controller declares (`scope` is reserved by Litestar).
SCOPED = {"tenant_scope": Provide(provide_tenant_scope)}
