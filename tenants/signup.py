"""Signup: a new company and its owner (a new user, or an existing one proving their password)."""

from __future__ import annotations

import re
from uuid import UUID, uuid4
from zoneinfo import available_timezones

import asyncpg
from babel.numbers import list_currencies

from app import audit, db
from app.accounts import lockout
from app.accounts import service as accounts
from app.errors import Conflict, ValidationFailed
from tenants.billing.service import start_trial
from tenants.schemas import SessionRead, SignupCreate, TenantChoice
from tenants.sessions import open_session

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
            elif await lockout.verify(email, data.password, str(user["password_hash"])):
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
            return await open_session(tx, user_id, choice, tenant_id, ip, user_agent)
    except asyncpg.UniqueViolationError as exc:  # a concurrent signup took the slug or the email
        field = "slug" if "slug" in str(exc) else "email"
        raise Conflict("This {field} is taken", field=field, extra={"field": field}) from None
