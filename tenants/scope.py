"""``TenantScope``: who is acting, for which tenant. Made only here: a member's by
``TenantScope.for_member`` (the session, jobs acting for a member, the demo seed), a background job's
by ``TenantScope.system`` / ``TenantScope.for_job`` — both carry the tenant's name, time zone, locale
and currency, so nothing acting in a scope reads the tenant again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Request
from litestar.di import Provide
from litestar.exceptions import TooManyRequestsException

from app import db, i18n, rate_limits
from app.accounts.service import csrf_token_for, token_hash
from app.errors import Forbidden, NotAuthenticated, PaymentRequired, RateLimited, rate_limit_headers
from app.settings import get_settings
from tenants import key_scopes, roles
from tenants.billing.entitlements import FULL, Access, BillingState, evaluate, write_blocked

SESSION_COOKIE = "acre_session"
CSRF_COOKIE = "acre_csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# A route option: this ``GET`` writes (an audit row, a first-visit mark…), so its request gets real
# transactions instead of the read-only scoped connection (``app.db``: reads in fewer round trips).
WRITES = "writes"

# The tenants columns a job scope is made of (``TenantScope.system``).
TENANT_COLUMNS = "id, name, slug, locale, time_zone, currency"
# The rows a member scope is made of (``TenantScope.for_member``): the columns ``acre_session()``
# returns, for members looked up by id (add ``WHERE m.tenant = $1 AND m.id = …``).
MEMBER_SQL = (
    "SELECT m.tenant, m.user_id, m.id AS membership_id, m.role, m.active, u.email AS user_email,"
    " u.name AS user_name, u.locale AS user_locale, t.name AS tenant_name, t.slug AS tenant_slug,"
    " t.locale AS tenant_locale, t.time_zone, t.currency"
    " FROM memberships m JOIN users u ON u.id = m.user_id JOIN tenants t ON t.id = m.tenant"
)


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
    # an API key's scope (``for_api_key``): the key and what it may do; no user, no membership
    api_key_id: UUID | None = None
    api_scopes: frozenset[str] = frozenset()
    # a request's pooled connection (``provide_tenant_scope``): its transactions run on it
    held: db.Held | None = field(default=None, compare=False, repr=False)

    def billing_warnings(self) -> list[str]:
        """The billing warnings (grace period, read-only, trial ending) in the member's language."""
        return [i18n.translate(self.locale, msg, **dict(params)) for msg, params in self.billing.warnings]

    @classmethod
    def system(cls, tenant: Mapping[str, Any]) -> TenantScope:
        """The scope of a background job acting for a tenant (no user), from its ``tenants`` row
        (``TENANT_COLUMNS``): the tenant's time zone, locale and currency, in its language; above
        every role (``at_least`` is always true), a member of no territory."""
        return cls(
            tenant_id=tenant["id"],
            user_id=None,
            role="system",
            locale=i18n.choose(None, tenant["locale"]),
            tenant_locale=tenant["locale"],
            time_zone=tenant["time_zone"],
            currency=tenant["currency"],
            tenant_name=tenant["name"],
            tenant_slug=tenant["slug"],
        )

    @classmethod
    def for_api_key(
        cls, row: Mapping[str, Any], *, billing: Access = FULL, held: db.Held | None = None
    ) -> TenantScope:
        """An API key's scope, from a row of ``acre_api_key()``: tenant-wide like a job's (its routes
        are the few that declare a key scope, ``tenants.key_scopes``), named after the key, in the
        tenant's language; never a member, so it decides no approval (``require_person``)."""
        return cls(
            tenant_id=row["id"],
            user_id=None,
            role="api_key",
            locale=i18n.choose(None, row["locale"]),
            tenant_locale=row["locale"],
            time_zone=row["time_zone"],
            currency=row["currency"],
            name=row["key_name"],
            tenant_name=row["name"],
            tenant_slug=row["slug"],
            billing=billing,
            api_key_id=row["key_id"],
            api_scopes=frozenset(row["scopes"]),
            held=held,
        )

    @classmethod
    async def for_job(cls, tenant_id: UUID | str) -> TenantScope:
        """The system scope of one tenant, read once (a job given a tenant id); inside an open
        transaction of that tenant it reads there. ``LookupError`` when there is no such tenant."""
        tenant = UUID(str(tenant_id))
        async with db.transaction(tenant) as tx:
            row = await tx.fetchrow(f"SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1", tenant)
        if row is None:
            raise LookupError(f"no tenant {tenant_id}")
        return cls.system(row)

    @classmethod
    def for_member(
        cls,
        member: Mapping[str, Any],
        *,
        billing: Access = FULL,
        locale: str | None = None,
        held: db.Held | None = None,
    ) -> TenantScope:
        """A member's scope, from a row with the columns of ``acre_session()`` (``MEMBER_SQL``). Their
        language is ``locale`` when given (an import acts in the language it was started in), else
        their own, else the tenant's. ``held``: the request's connection (the session dependency).
        The caller has checked the membership is active."""
        return cls(
            tenant_id=member["tenant"],
            user_id=member["user_id"],
            role=member["role"],
            membership_id=member["membership_id"],
            locale=i18n.choose(locale or member["user_locale"], member["tenant_locale"]),
            tenant_locale=member["tenant_locale"],
            time_zone=member["time_zone"],
            currency=member["currency"],
            email=member["user_email"],
            name=member["user_name"],
            tenant_name=member["tenant_name"],
            tenant_slug=member["tenant_slug"],
            billing=billing,
            held=held,
        )

    def tx(self) -> AbstractAsyncContextManager[db.Tx]:
        """A transaction scoped to the tenant: on the request's held connection while it is held (one
        at a time; a concurrent second one raises), else on a connection of its own."""
        return db.transaction(self.tenant_id, held=self.held)

    def at_least(self, minimum: str) -> bool:
        """True when the acting member holds ``minimum`` or a higher role (owner > admin > manager >
        rep), and always for a background job (the system scope acts for the whole tenant) and for an
        API key (which reaches only the routes of its scopes)."""
        return roles.at_least(self.role, minimum) or self.role in ("system", "api_key")  # unknown raises

    def require(self, minimum: str) -> None:
        """Raise 403 unless ``at_least(minimum)``."""
        if not self.at_least(minimum):
            raise Forbidden("This needs the {role} role or higher", role=minimum)

    def require_person(self) -> None:
        """Raise 403 for an API key: approvals and decisions are a member's, never an integration's."""
        if self.api_key_id is not None:
            raise Forbidden("An API key cannot decide approvals")


async def resolve_api_key(token: str, held: db.Held | None = None) -> TenantScope | None:
    """The scope of a live API key (one round trip to ``acre_api_key()``, which also marks it used at
    most once a minute); ``None`` for a malformed, unknown or revoked key."""
    parts = key_scopes.parse(token)
    if parts is None:
        return None
    sql = "SELECT * FROM acre_api_key($1, $2, $3)"
    conn: asyncpg.Connection | None = held.connection if held is not None else None
    args = (parts.tenant_id, parts.prefix, parts.digest)
    if conn is not None:
        await db.writable(conn)  # it marks the key used: a write, in autocommit
        row = await conn.fetchrow(sql, *args)
    else:
        async with db.pool().acquire() as own:
            await db.writable(own)
            row = await own.fetchrow(sql, *args)
    if row is None:
        return None
    return TenantScope.for_api_key(row, billing=_billing(row), held=held)


def _billing(row: Mapping[str, Any]) -> Access:
    settings = get_settings()
    return evaluate(
        BillingState.from_row(row),
        datetime.now(UTC),
        enabled=settings.billing_enabled,
        grace_days=settings.billing_grace_days,
    )


def _key_allowed(request: Request[Any, Any, Any], scope: TenantScope) -> None:
    """The one rule for keys: the route must declare a scope and the key must hold it (else 403)."""
    needed = request.route_handler.opt.get(key_scopes.OPT_KEY)
    if needed is None:
        raise Forbidden("API keys cannot be used here", extra={"reason": "api_key_not_allowed"})
    if needed not in scope.api_scopes:
        raise Forbidden(
            "This API key lacks the {scope} scope", scope=needed, extra={"reason": "api_key_scope"}
        )


def _token(request: Request[Any, Any, Any]) -> tuple[str | None, bool]:
    """The session token and whether it came from the cookie (then CSRF applies)."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None, False
    return request.cookies.get(SESSION_COOKIE), True


async def resolve_session(
    token: str, held: db.Held | None = None, *, read: bool = False
) -> TenantScope | None:
    """The scope of a live session token (one round trip to ``acre_session()``); ``None`` for an
    unknown, expired or revoked token or a deactivated membership. With ``held`` (a request's
    connection, ``provide_tenant_scope``) the lookup runs on it and the scope keeps it for its
    transactions; without, on a pooled connection for the lookup alone. ``read`` (with ``held``): the
    same round trip scopes the connection for the request's reads (``app.db``, reads in fewer round
    trips)."""
    digest = token_hash(token)
    conn: asyncpg.Connection | None = held.connection if held is not None else None
    if conn is None:
        row = await db.pool().fetchrow("SELECT * FROM acre_session($1)", digest)
    elif read:
        row = await conn.fetchrow("SELECT * FROM acre_session($1, true)", digest)
    else:
        row = await conn.fetchrow("SELECT * FROM acre_session($1)", digest)
    if held is not None:  # the lookup set the connection's scope: a read's, or none
        held.scoped_for_reads(row["tenant"] if row is not None else None) if read else held.unscoped()
    if row is None:
        return None
    return TenantScope.for_member(row, billing=_billing(row), held=held)


async def provide_tenant_scope(request: Request[Any, Any, Any]) -> AsyncIterator[TenantScope]:
    """Litestar dependency: the caller's scope, or 401. Cookie sessions must send the CSRF header
    on unsafe methods (bearer tokens are not sent by browsers on their own, so need none), else 403;
    a write the tenant's billing blocks (read-only after the grace period) answers 402.

    A bearer token shaped like an API key (``tenants.key_scopes``) is resolved as one: 401 when
    unknown or revoked, 403 unless the route declares a scope the key holds, 429 past the key's limit
    per minute.

    The request takes one pooled connection here, looks up the session on it and runs its scoped
    transactions on it; it is released once the handler has returned (before the answer is sent).
    A ``GET``/``HEAD`` on a session (unless its route declares ``opt={WRITES: True}``, or
    ``ACRE_DATABASE_SESSION_SCOPED_READS`` is off) reads on that connection without transactions,
    read-only (``app.db``)."""
    token, from_cookie = _token(request)
    if not token:
        raise NotAuthenticated("Sign in to continue")
    if not from_cookie and key_scopes.looks_like_key(token):
        async with db.held_connection() as held:
            scope = await resolve_api_key(token, held)
            if scope is None:
                raise NotAuthenticated("Unknown or revoked API key")
            _key_allowed(request, scope)
            try:
                await rate_limits.spend(request.app, "api_key", str(scope.api_key_id))
            except TooManyRequestsException as exc:
                limited = RateLimited("This API key made too many requests; try again in a minute")
                limited.headers.update(rate_limit_headers(exc))
                raise limited from None
            _check(request, scope, token, from_cookie)
            yield scope
        return
    read = (
        request.method in _SAFE_METHODS
        and not request.route_handler.opt.get(WRITES)
        and get_settings().database_session_scoped_reads
    )
    async with db.held_connection() as held:
        scope = await resolve_session(token, held, read=read)
        if scope is None:
            raise NotAuthenticated("Sign in to continue")
        _check(request, scope, token, from_cookie)
        yield scope


def _check(request: Request[Any, Any, Any], scope: TenantScope, token: str, from_cookie: bool) -> None:
    if from_cookie and request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or sent != csrf_token_for(token):
            raise Forbidden("Missing or wrong CSRF token")
    state = request.scope.setdefault("state", {})
    state["locale"] = scope.locale
    state["tenant_id"] = str(scope.tenant_id)
    if write_blocked(scope.billing, request.method, request.url.path):
        raise PaymentRequired(
            scope.billing.reason, extra={"billing": "/api/v1/billing", "reason": scope.billing.code}
        )


# The dependency map every authenticated controller declares (`scope` is reserved by Litestar).
SCOPED = {"tenant_scope": Provide(provide_tenant_scope)}
