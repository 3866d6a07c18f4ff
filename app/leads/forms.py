"""Public inquiry forms: owners and admins define them (name, fields from a fixed set with required
flags, the territory whose pool takes the leads, a thank-you text); anyone may fill one in at
``/f/<company slug>/<form slug>`` (or its framed variant, ``…/embed``).

Spam protection without a third-party captcha (besides the per-address and per-form rate limits the
routes apply): a hidden honeypot field a person leaves empty, and a signed form token — HMAC with
``ACRE_SECRET_KEY`` over the form, the time it was served and a nonce — refused when the form comes
back sooner than the minimum fill time or later than the maximum age. The nonce is the submission's
idempotency key: the same form sent twice makes one lead. A submission goes through the API's own
intake (``app.leads.intake.take_leads``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from app import audit, db, pages
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.leads import intake
from app.leads.schemas import FORM_FIELDS, FieldChoice, IntakeRead, LeadFormRead, LeadFormWrite, LeadIn
from app.settings import get_settings
from tenants.scope import TENANT_COLUMNS, TenantScope

HONEYPOT = "website"  # the hidden field's name: a person never fills it in
M_SLUG_TAKEN = N_("Another form has this address")
M_NO_TERRITORY = N_("No territory with this id")
M_SPAM = N_("This form could not be accepted; please load the page again and resend it")
M_TOO_FAST = N_("That was quick: please check the form and send it again in a few seconds")
M_EXPIRED = N_("This form has expired; please load the page again")
M_REQUIRED = N_("Required")
M_NUMBER = N_("Enter a whole number")


def _url(tenant_slug: str, slug: str, embed: bool = False) -> str | None:
    return pages.url(pages.INQUIRY_EMBED if embed else pages.INQUIRY, company=tenant_slug, form=slug)


def _read(row: asyncpg.Record, tenant_slug: str) -> LeadFormRead:
    fields = row["fields"] if not isinstance(row["fields"], str) else json.loads(row["fields"])
    return LeadFormRead(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        fields=[FieldChoice(name=f["name"], required=bool(f["required"])) for f in fields],
        territory_id=row["territory_id"],
        thank_you=row["thank_you"],
        active=row["active"],
        url=_url(tenant_slug, row["slug"]),
        embed_url=_url(tenant_slug, row["slug"], embed=True),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _fields_json(fields: list[FieldChoice]) -> str:
    seen: dict[str, bool] = {}
    for f in fields:
        seen[f.name] = seen.get(f.name, False) or f.required
    ordered = [{"name": n, "required": seen[n]} for n in FORM_FIELDS if n in seen]
    return json.dumps(ordered)


async def _check_territory(tx: db.Tx, scope: TenantScope, territory_id: UUID | None) -> None:
    if territory_id is not None and not await tx.fetchval(
        "SELECT 1 FROM territories WHERE tenant = $1 AND id = $2", scope.tenant_id, territory_id
    ):
        raise ValidationFailed.field("territory_id", M_NO_TERRITORY)


async def list_forms(scope: TenantScope) -> list[LeadFormRead]:
    scope.require("admin")
    async with scope.tx() as tx:
        rows = await tx.fetch(
            "SELECT * FROM lead_forms WHERE tenant = $1 ORDER BY created_at, id", scope.tenant_id
        )
    return [_read(r, scope.tenant_slug) for r in rows]


async def get_form(scope: TenantScope, form_id: UUID) -> LeadFormRead:
    scope.require("admin")
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            "SELECT * FROM lead_forms WHERE tenant = $1 AND id = $2", scope.tenant_id, form_id
        )
    if row is None:
        raise NotFound("No form with this id")
    return _read(row, scope.tenant_slug)


async def create_form(scope: TenantScope, data: LeadFormWrite) -> LeadFormRead:
    scope.require("admin")
    try:
        async with scope.tx() as tx:
            await _check_territory(tx, scope, data.territory_id)
            row = await tx.fetchrow(
                "INSERT INTO lead_forms (tenant, slug, name, territory_id, fields, thank_you, active,"
                " created_by)"
                " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8) RETURNING *",
                scope.tenant_id,
                data.slug,
                data.name.strip() or data.name,
                data.territory_id,
                _fields_json(data.fields),
                data.thank_you.strip(),
                data.active,
                scope.membership_id,
            )
            assert row is not None
            await audit.record(tx, scope.user_id, "lead_form.created", "lead_form", row["id"])
    except asyncpg.UniqueViolationError:
        raise Conflict(M_SLUG_TAKEN) from None
    return _read(row, scope.tenant_slug)


async def update_form(scope: TenantScope, form_id: UUID, data: LeadFormWrite) -> LeadFormRead:
    scope.require("admin")
    try:
        async with scope.tx() as tx:
            await _check_territory(tx, scope, data.territory_id)
            row = await tx.fetchrow(
                "UPDATE lead_forms SET slug = $3, name = $4, territory_id = $5, fields = $6::jsonb,"
                " thank_you = $7, active = $8, updated_at = now() WHERE tenant = $1 AND id = $2 RETURNING *",
                scope.tenant_id,
                form_id,
                data.slug,
                data.name.strip() or data.name,
                data.territory_id,
                _fields_json(data.fields),
                data.thank_you.strip(),
                data.active,
            )
            if row is None:
                raise NotFound("No form with this id")
            await audit.record(tx, scope.user_id, "lead_form.updated", "lead_form", form_id)
    except asyncpg.UniqueViolationError:
        raise Conflict(M_SLUG_TAKEN) from None
    return _read(row, scope.tenant_slug)


# --- the public side -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicForm:
    """A live form as the public page shows it, with the company it belongs to."""

    scope: TenantScope  # the company's system scope: the intake acts for the company
    form: LeadFormRead

    @property
    def required(self) -> set[str]:
        return {f.name for f in self.form.fields if f.required}


async def public_form(company_slug: str, form_slug: str) -> PublicForm:
    """The active form ``form_slug`` of the company ``company_slug``, else 404."""
    async with db.transaction(None) as tx:
        tenant = await tx.fetchrow(f"SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = $1", company_slug)
    if tenant is None:
        raise NotFound("No such form")
    scope = TenantScope.system(tenant)
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            "SELECT * FROM lead_forms WHERE tenant = $1 AND slug = $2 AND active", scope.tenant_id, form_slug
        )
    if row is None:
        raise NotFound("No such form")
    return PublicForm(scope, _read(row, scope.tenant_slug))


def _sign(form_id: UUID, issued: int, nonce: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{form_id}.{issued}.{nonce}".encode(), hashlib.sha256).hexdigest()


def form_token(form_id: UUID, now: float | None = None) -> str:
    """A fresh token for one serving of the form: ``<issued>.<nonce>.<hmac>``."""
    issued = int(now if now is not None else time.time())
    nonce = secrets.token_hex(12)
    return f"{issued}.{nonce}.{_sign(form_id, issued, nonce)}"


class Spam(Exception):
    """A submission refused as spam (the message says what a person should do)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason


def check_token(form_id: UUID, token: str, now: float | None = None) -> str:
    """The token's nonce when it is this form's, signed by us, old enough and not too old; else
    ``Spam``."""
    settings = get_settings()
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        raise Spam(M_SPAM, "token")
    issued, nonce, signature = int(parts[0]), parts[1], parts[2]
    if not hmac.compare_digest(signature, _sign(form_id, issued, nonce)):
        raise Spam(M_SPAM, "token")
    age = (now if now is not None else time.time()) - issued
    if age < settings.inquiry_min_fill_seconds:
        raise Spam(M_TOO_FAST, "too_fast")
    if age > settings.inquiry_max_age_hours * 3600:
        raise Spam(M_EXPIRED, "expired")
    return nonce


def lead_from(form: PublicForm, values: dict[str, str]) -> LeadIn:
    """The lead a submission makes: the company's name and the form's fields; a required field left
    empty, or a wrong value, is a 422 naming it (``ValidationFailed``)."""
    chosen = {f.name for f in form.form.fields}
    errors: list[dict[str, Any]] = []
    lead: dict[str, Any] = {}
    company = " ".join(values.get("full_name", "").split())
    if not company:
        errors.append({"field": "full_name", "message": M_REQUIRED, "params": {}})
    lead["full_name"] = company[:200]
    for name in FORM_FIELDS:
        if name not in chosen:
            continue
        text = values.get(name, "").strip()
        if not text:
            if name in form.required:
                errors.append({"field": name, "message": M_REQUIRED, "params": {}})
            continue
        if name == "headcount":
            if not text.isdigit():
                errors.append({"field": name, "message": M_NUMBER, "params": {}})
                continue
            lead[name] = int(text)
        else:
            lead[name] = text
    if errors:
        raise ValidationFailed(extra={"errors": errors})
    lead["source"] = "web"
    try:
        return msgspec.convert(lead, LeadIn)
    except msgspec.ValidationError as exc:  # a value too long
        field = str(exc).rsplit("$.", 1)[-1].rstrip("`") if "$." in str(exc) else "full_name"
        raise ValidationFailed.field(field, N_("This value is too long")) from None


async def submit(form: PublicForm, values: dict[str, str], token: str) -> IntakeRead:
    """A person's submission: honeypot and token checked (``Spam``), the fields checked (422), then
    the intake, once per served form (the token's nonce is the idempotency key)."""
    if values.get(HONEYPOT, "").strip():
        raise Spam(M_SPAM, "honeypot")
    nonce = check_token(form.form.id, token)
    lead = lead_from(form, values)
    source = intake.Source("form", form_id=form.form.id, territory_id=form.form.territory_id)
    return await intake.take_leads(form.scope, lead, source, idempotency_key=nonce)
