"""Owners' and admins' settings for inbound leads: ``/settings/api-keys`` (create a key — its secret
shown this once —, the keys with their scopes and last use, revoke) and ``/settings/forms`` (the public
inquiry forms: define one with its fields, see its address and the ``<iframe>`` to paste, take it
offline or back). Each calls the service the API calls (``tenants.api_keys``, ``app.leads.forms``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.errors import Conflict, ValidationFailed
from app.i18n import N_
from app.leads import forms
from app.leads.schemas import FORM_FIELDS, LeadFormWrite
from app.territories.service import list_territories
from app.web.inquiry import LABELS
from app.web.pages import error_text
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants import api_keys, key_scopes
from tenants.schemas import ApiKeyCreate
from tenants.scope import TenantScope

M_VALUE = N_("This value is not valid")
M_PICK_SCOPE = N_("Choose at least one permission")


def _all(form: Any, name: str) -> list[str]:
    """Every value of a repeated form field (checkboxes); none when it is absent."""
    return [str(v) for v in form.getall(name, [])]


async def _keys_page(
    request: Request[Any, Any, Any],
    scope: TenantScope,
    *,
    fragment: bool = False,
    secret: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    keys = await api_keys.list_keys(scope)
    template = "app/_api_keys.html" if fragment else "app/settings_api_keys.html"
    return await render(
        request,
        scope,
        template,
        status_code=status_code,
        keys=keys,
        scopes=key_scopes.SCOPES,
        secret=secret,
        error=error,
    )


@get("/settings/api-keys")
async def api_keys_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    tenant_scope.require("admin")
    return await _keys_page(request, tenant_scope)


@post("/settings/api-keys")
async def api_key_create(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    form = await request.form()
    chosen = _all(form, "scopes")
    name = str(form.get("name", "")).strip()
    try:
        if not chosen:
            raise ValidationFailed.field("scopes", M_PICK_SCOPE)
        try:
            data = msgspec.convert({"name": name, "scopes": chosen}, ApiKeyCreate)
        except msgspec.ValidationError:
            raise ValidationFailed.field("name", M_VALUE) from None
        made = await api_keys.create_key(tenant_scope, data)
    except ValidationFailed as exc:
        error = error_text(tenant_scope.locale, exc)
        return await _keys_page(request, tenant_scope, fragment=True, error=error, status_code=422)
    return await _keys_page(request, tenant_scope, fragment=True, secret=made.secret)


@post("/settings/api-keys/{key_id:uuid}/revoke")
async def api_key_revoke(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], key_id: FromPath[UUID]
) -> Template:
    await api_keys.revoke_key(tenant_scope, key_id)
    return await _keys_page(request, tenant_scope, fragment=True)


async def _forms_page(
    request: Request[Any, Any, Any],
    scope: TenantScope,
    *,
    fragment: bool = False,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    items = await forms.list_forms(scope)
    territories = (await list_territories(scope, limit=200)).items
    return await render(
        request,
        scope,
        "app/_lead_forms.html" if fragment else "app/settings_forms.html",
        status_code=status_code,
        forms=items,
        territories=territories,
        field_names=FORM_FIELDS,
        labels=LABELS,
        error=error,
    )


@get("/settings/forms")
async def forms_page(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    tenant_scope.require("admin")
    return await _forms_page(request, tenant_scope)


def _form_values(form: Any) -> LeadFormWrite:
    """The form's fields as the API's body; a wrong value is a 422 on its field."""
    asked, required = set(_all(form, "fields")), set(_all(form, "required"))
    values: dict[str, Any] = {
        "slug": str(form.get("slug", "")).strip().lower(),
        "name": str(form.get("name", "")).strip(),
        "fields": [{"name": n, "required": n in required} for n in FORM_FIELDS if n in asked],
        "territory_id": str(form.get("territory_id", "")) or None,
        "thank_you": str(form.get("thank_you", "")).strip(),
        "active": str(form.get("active", "on")) == "on",
    }
    try:
        return msgspec.convert(values, LeadFormWrite)
    except msgspec.ValidationError as exc:
        field = "slug" if "slug" in str(exc) else "name"
        raise ValidationFailed.field(field, M_VALUE) from None


@post("/settings/forms")
async def form_create(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    try:
        await forms.create_form(tenant_scope, _form_values(await request.form()))
    except (ValidationFailed, Conflict) as exc:
        error = error_text(tenant_scope.locale, exc)
        return await _forms_page(request, tenant_scope, fragment=True, error=error, status_code=422)
    return await _forms_page(request, tenant_scope, fragment=True)


@post("/settings/forms/{form_id:uuid}")
async def form_update(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], form_id: FromPath[UUID]
) -> Template:
    """Change a form (its name, address, territory, fields and thank-you text)."""
    try:
        await forms.update_form(tenant_scope, form_id, _form_values(await request.form()))
    except (ValidationFailed, Conflict) as exc:
        error = error_text(tenant_scope.locale, exc)
        return await _forms_page(request, tenant_scope, fragment=True, error=error, status_code=422)
    return await _forms_page(request, tenant_scope, fragment=True)


@post("/settings/forms/{form_id:uuid}/active")
async def form_toggle(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], form_id: FromPath[UUID]
) -> Template:
    current = await forms.get_form(tenant_scope, form_id)
    data = LeadFormWrite(
        slug=current.slug,
        name=current.name,
        fields=current.fields,
        territory_id=current.territory_id,
        thank_you=current.thank_you,
        active=not current.active,
    )
    await forms.update_form(tenant_scope, form_id, data)
    return await _forms_page(request, tenant_scope, fragment=True)


ROUTER = Router(
    path="/",
    route_handlers=[
        api_keys_page,
        api_key_create,
        api_key_revoke,
        forms_page,
        form_create,
        form_update,
        form_toggle,
    ],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
