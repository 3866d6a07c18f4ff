"""The company's settings (owners and admins), ``/settings``: the company profile (乙方 of every
contract), the pool rules as a per-grade table, the contact cadences, the deal stage matrix, the
price list with floor prices, the referral reward, and verifying the ownership ledger. Templates
(``/settings/templates``) are another page's.

Each page reads and saves through the service the API route calls (``get_/put_pool_rules``,
``get_/put_cadences``, ``get_/put_stage_rules``, products, ``get_/put_reward_settings``,
``profile.get_/save_profile``, ``ownership.verify``), so a rep gets their 403 and a wrong value their
422, shown beside the form with the field's name; nothing is saved then."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar, cast
from uuid import UUID

import msgspec
from babel.numbers import get_currency_name
from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.customers import ownership
from app.customers.pool.pools import claimable_pools
from app.customers.pool.rules import GRADES, PoolRulesRead, PoolRulesWrite, get_pool_rules, put_pool_rules
from app.customers.pool.simulate import simulate_rules
from app.deals import products, stage_moves
from app.deals.schemas import ProductCreate, ProductUpdate
from app.deals.stages import OPEN_STAGES, StageRules
from app.errors import NotFound, ValidationFailed
from app.i18n import N_
from app.sales.growth import cadences, referrals
from app.sales.growth.schemas import CadencesWrite, RewardSettings
from app.web.documents import when
from app.web.pages import error_text
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants import profile
from tenants.schemas import CompanyProfileWrite
from tenants.scope import TenantScope

T = TypeVar("T")

STAGES = {
    "prospect_list": N_("Prospect list"),
    "first_visit": N_("First visit"),
    "exchange_research": N_("Exchange and research"),
    "demo": N_("Demo"),
    "formal_quote": N_("Formal quote"),
    "objections_cleared": N_("Objections cleared"),
    "negotiation": N_("Negotiation"),
    "signed": N_("Signed"),
}
RULES = {"allowed": N_("Allowed"), "approval": N_("Needs approval"), "forbidden": N_("Forbidden")}
UNITS = {
    "seat": N_("Seat"),
    "licence": N_("Licence"),
    "module": N_("Module"),
    "service_day": N_("Service day"),
    "maintenance_year": N_("Maintenance year"),
}
TIERS = {
    "active": N_("Active selling"),
    "priority": N_("Priority"),
    "normal": N_("Normal"),
    "last": N_("Last"),
}
REWARD_KINDS = {"points": N_("Points"), "amount": N_("An amount"), "none": N_("No reward")}
PROFILE_LABELS = {
    "legal_name": N_("Legal name"),
    "credit_code": N_("Unified social credit code"),
    "address": N_("Address"),
    "phone": N_("Phone"),
    "email": N_("Email"),
    "website": N_("Website"),
    "bank": N_("Bank"),
    "bank_account": N_("Bank account"),
    "service_hotline": N_("Service hotline"),
    "response_hours": N_("Response time (working hours)"),
    "onsite_day_rate": N_("On-site day rate"),
    "free_upgrade_years": N_("Free upgrade years"),
}
POOL_LABELS = {
    "owned_cap": N_("Customers a member may hold"),
    "daily_claim_cap": N_("Claims a day"),
    "warning_days": N_("Warning days before reclaim"),
    "cooldown_days": N_("Cooldown days before the last owner may claim again"),
    "no_followup_days": N_("Days without a follow-up"),
    "no_deal_days": N_("Days without deal activity"),
    "grade_owned_cap": N_("Cap for the grade"),
    "lock_cap": N_("Customers a member may lock against reclaim"),
    "new_in_pool_hours": N_("Hours before a customer back in the pool can be claimed"),
    "count_won": N_("Won customers count toward the cap"),
    "reclaim_to_pool_id": N_("Reclaimed customers go to"),
}
PRODUCT_LABELS = {
    "sku": N_("SKU"),
    "name": N_("Name"),
    "edition": N_("Edition"),
    "unit": N_("Unit"),
    "list_price": N_("List price"),
    "floor_price": N_("Floor price"),
    "currency": N_("Currency"),
}
PRODUCT_PAGE = 100
M_NUMBER = N_("Use a number")
M_VALUE = N_("This value is not valid")
_PATH = re.compile(r"at `\$\.([\w.\[\]]+)`")


def _router_context(scope: TenantScope | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "stages": STAGES,
        "rules": RULES,
        "units": UNITS,
        "tiers": TIERS,
        "grades": GRADES,
    }
    if scope is not None:
        context["currency_name"] = currency_name(scope.currency, scope.locale)
    return context


def currency_name(code: str, locale: str) -> str:
    """The currency's name in the member's language (人民币, US Dollar), its code when unknown."""
    try:
        return str(get_currency_name(code, locale=locale.replace("-", "_")))
    except (ValueError, LookupError):
        return code


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {k: str(v).strip() for k, v in form.items()}


def _int(form: Mapping[str, str], name: str, field: str | None = None) -> int | None:
    """An optional whole number from the form (blank: None); 422 on ``field`` otherwise."""
    text = form.get(name, "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed.field(field or name, M_NUMBER) from None


def _decimal(form: Mapping[str, str], name: str) -> Decimal | None:
    text = form.get(name, "").replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed.field(name, M_NUMBER) from None
    if not value.is_finite():
        raise ValidationFailed.field(name, M_NUMBER)
    return value


def _convert(values: dict[str, Any], kind: type[T]) -> T:
    """``values`` as the API's body type; its own checks (lengths, patterns) are a 422 on the field."""
    try:
        return msgspec.convert(values, kind)
    except msgspec.ValidationError as exc:
        match = _PATH.search(str(exc))
        raise ValidationFailed.field(match.group(1) if match else "body", M_VALUE) from None


async def _refused(
    request: Request[Any, Any, Any], scope: TenantScope, exc: ValidationFailed, labels: Mapping[str, str]
) -> Template:
    """A 422 as the form's inline answer: each wrong field's name and message."""
    errors = exc.extra.get("errors") or [{"field": "", "message": exc.detail or exc.title}]
    shown = []
    for e in errors:
        single = ValidationFailed(extra={"errors": [e]})
        shown.append(
            {
                "field": e.get("field", ""),
                "label": labels.get(e.get("field", "")),
                "message": error_text(scope.locale, single),
            }
        )
    return await render(request, scope, "app/_field_errors.html", status_code=422, errors=shown)


async def _saved(
    request: Request[Any, Any, Any], scope: TenantScope, message: str = N_("Saved."), **params: Any
) -> Template:
    return await render(request, scope, "app/_setup_saved.html", message=message, params=params)


# --- the index ----------------------------------------------------------------------------------


SECTIONS = (
    (
        "/settings/company",
        N_("Company profile"),
        N_("Party B (乙方) of every contract: legal name, credit code, bank."),
    ),
    ("/settings/pool-rules", N_("Pool rules"), N_("Caps, reclaim days, warnings and cooldown, per grade.")),
    (
        "/settings/pools",
        N_("Pools"),
        N_("Your pools, who may claim from them, their admins; release reasons."),
    ),
    (
        "/settings/pool-fields",
        N_("What the pool shows"),
        N_("Per pool, the phone, address, credit code and contacts hidden until claimed."),
    ),
    ("/settings/cadences", N_("Cadences"), N_("How often customers are called and visited.")),
    ("/settings/stages", N_("Stage matrix"), N_("Which deal stage moves are allowed or need approval.")),
    ("/settings/price-list", N_("Price list"), N_("Products with list and floor prices.")),
    ("/settings/referral-rewards", N_("Referral reward"), N_("What a referrer earns for a won customer.")),
    ("/settings/templates", N_("Templates"), N_("Contract and proposal templates.")),
    ("/settings/ledger", N_("Ownership ledger"), N_("Check that the customer ownership history is intact.")),
    (
        "/settings/commission",
        N_("Commission split"),
        N_("How won deals' commission is suggested between members."),
    ),
    (
        "/settings/forms",
        N_("Inquiry forms"),
        N_("Public forms for your website; inquiries land in the pool."),
    ),
    ("/settings/api-keys", N_("API keys"), N_("Keys for integrations that send leads or read data.")),
    (
        "/settings/integrations",
        N_("Integrations"),
        N_("Webhooks to your systems; WeCom, DingTalk and Feishu group robots per territory."),
    ),
)


@get("/settings")
async def settings_index(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    tenant_scope.require("admin")
    return await render(request, tenant_scope, "app/settings.html", sections=SECTIONS)


# --- company profile ------------------------------------------------------------------------------


@get("/settings/company")
async def company_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    tenant_scope.require("admin")  # every member reads the profile; this page is for changing it
    current = await profile.get_profile(tenant_scope, request.app.state.storage)
    return await render(
        request,
        tenant_scope,
        "app/settings_company.html",
        profile=current,
        labels=PROFILE_LABELS,
        currency_name=currency_name(tenant_scope.currency, tenant_scope.locale),
        slots=SLOT_NAMES,
    )


@post("/settings/company")
async def company_save(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    form = await _form(request)
    try:
        values: dict[str, Any] = {f: form.get(f) or None for f in profile.TEXT_FIELDS}
        values["response_hours"] = _int(form, "response_hours")
        values["free_upgrade_years"] = _int(form, "free_upgrade_years")
        values["onsite_day_rate"] = _decimal(form, "onsite_day_rate")
        body = _convert(values, CompanyProfileWrite)
        saved = await profile.save_profile(tenant_scope, request.app.state.storage, body)
    except ValidationFailed as exc:
        return await _refused(request, tenant_scope, exc, PROFILE_LABELS)
    return await _saved(request, tenant_scope, N_("Saved: version {n}."), n=saved.version)


@dataclass
class ImageUpload:
    file: UploadFile


SLOT_NAMES = {"logo": N_("Logo"), "seal": N_("Company seal")}


async def _images(
    request: Request[Any, Any, Any],
    scope: TenantScope,
    current: Any,
    slot: str,
    message: str | None = None,
    error: str | None = None,
) -> Template:
    """The image's block anew: its state, and the confirmation or the refusal (422, nothing stored)."""
    return await render(
        request,
        scope,
        "app/_profile_image.html",
        status_code=422 if error else 200,
        profile=current,
        slot=slot,
        slots=SLOT_NAMES,
        message=message,
        error=error,
    )


@post("/settings/company/{slot:str}")
async def company_image(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    slot: FromPath[str],
    data: Annotated[ImageUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template:
    """Set the logo or the seal (PNG or JPEG): a new version of the profile."""
    if slot not in profile.SLOTS:
        raise NotFound()
    content = await data.file.read(profile.MAX_IMAGE_BYTES + 1)
    storage = request.app.state.storage
    try:
        saved = await profile.put_image(tenant_scope, storage, cast(profile.Slot, slot), content)
    except ValidationFailed as exc:
        current = await profile.get_profile(tenant_scope, storage)
        return await _images(request, tenant_scope, current, slot, error=error_text(tenant_scope.locale, exc))
    return await _images(request, tenant_scope, saved, slot, N_("Saved."))


@post("/settings/company/{slot:str}/remove")
async def company_image_remove(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], slot: FromPath[str]
) -> Template:
    if slot not in profile.SLOTS:
        raise NotFound()
    saved = await profile.remove_image(tenant_scope, request.app.state.storage, cast(profile.Slot, slot))
    return await _images(request, tenant_scope, saved, slot, N_("Removed."))


# --- pool rules -----------------------------------------------------------------------------------


def _pool_labels() -> dict[str, str]:
    labels = {
        k: v
        for k, v in POOL_LABELS.items()
        if k
        in (
            "owned_cap",
            "daily_claim_cap",
            "warning_days",
            "cooldown_days",
            "lock_cap",
            "new_in_pool_hours",
            "reclaim_to_pool_id",
        )
    }
    for g in GRADES:
        labels[f"grades.{g}.no_followup_days"] = POOL_LABELS["no_followup_days"]
        labels[f"grades.{g}.no_deal_days"] = POOL_LABELS["no_deal_days"]
        labels[f"grades.{g}.owned_cap"] = POOL_LABELS["grade_owned_cap"]
    return labels


@get("/settings/pool-rules")
async def pool_rules_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    rules = await get_pool_rules(tenant_scope)
    async with tenant_scope.tx() as tx:
        targets = [p for p in await claimable_pools(tx, tenant_scope) if p.territory_id is None]
    return await render(
        request,
        tenant_scope,
        "app/settings_pool_rules.html",
        rules=rules,
        labels=POOL_LABELS,
        grades=GRADES,
        pools=targets,
    )


def _pool_values(form: Mapping[str, str], current: PoolRulesRead) -> PoolRulesWrite:
    """The pool rules form as the API's body (422 naming a wrong field)."""
    values: dict[str, Any] = {
        "owned_cap": _int(form, "owned_cap"),
        "daily_claim_cap": _int(form, "daily_claim_cap"),
        "warning_days": _int(form, "warning_days"),
        "cooldown_days": _int(form, "cooldown_days"),
        # a form of before these fields keeps what is set
        "lock_cap": _int(form, "lock_cap") if "lock_cap" in form else current.lock_cap,
        "new_in_pool_hours": (
            _int(form, "new_in_pool_hours") if "new_in_pool_hours" in form else current.new_in_pool_hours
        ),
        "count_won": form.get("count_won") == "1" if "lock_cap" in form else current.count_won,
        "reclaim_to_pool_id": (
            form.get("reclaim_to_pool_id") or None
            if "reclaim_to_pool_id" in form
            else current.reclaim_to_pool_id
        ),
        "grades": {
            g: {
                k: _int(form, f"{g}_{k}", f"grades.{g}.{k}")
                for k in ("no_followup_days", "no_deal_days", "owned_cap")
            }
            for g in GRADES
        },
    }
    for name in ("owned_cap", "warning_days", "cooldown_days", "lock_cap", "new_in_pool_hours"):
        if values[name] is None:
            raise ValidationFailed.field(name, "Required")
    return _convert(values, PoolRulesWrite)


@post("/settings/pool-rules")
async def pool_rules_save(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    form = await _form(request)
    current = await get_pool_rules(tenant_scope)
    try:
        await put_pool_rules(tenant_scope, _pool_values(form, current))
    except ValidationFailed as exc:
        return await _refused(request, tenant_scope, exc, _pool_labels())
    return await _saved(request, tenant_scope)


@post("/settings/pool-rules/preview")
async def pool_rules_preview(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    """The form's rules tried against the ones in force (``simulate_rules``, read only): per rep and
    day, who would be reclaimed or warned in the next 30 days. Nothing is saved."""
    form = await _form(request)
    current = await get_pool_rules(tenant_scope)
    try:
        found = await simulate_rules(tenant_scope, _pool_values(form, current))
    except ValidationFailed as exc:
        return await _refused(request, tenant_scope, exc, _pool_labels())
    return await render(request, tenant_scope, "app/_pool_rules_preview.html", sim=found)


# --- cadences -------------------------------------------------------------------------------------


@get("/settings/cadences")
async def cadences_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    current = await cadences.get_cadences(tenant_scope)
    return await render(
        request, tenant_scope, "app/settings_cadences.html", cadences=current, **_router_context()
    )


@post("/settings/cadences")
async def cadences_save(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    form = await _form(request)
    labels: dict[str, str] = {"return_visit_days": N_("Return visits after a win (days)")}
    try:
        tiers = {}
        for tier in TIERS:
            tiers[tier] = {
                f"{kind}_days": _int(form, f"{tier}_{kind}_days", f"tiers.{tier}.{kind}_days")
                for kind in ("call", "visit")
            }
            labels[f"tiers.{tier}.call_days"] = N_("Call every (days)")
            labels[f"tiers.{tier}.visit_days"] = N_("Visit every (days)")
        days_text = form.get("return_visit_days", "")
        try:
            days = [int(d) for d in re.split(r"[,，\s]+", days_text) if d]
        except ValueError:
            raise ValidationFailed.field("return_visit_days", M_NUMBER) from None
        body = _convert(
            {
                "tiers": tiers,
                "grade_tiers": {g: form.get(f"grade_{g}", "") for g in GRADES},
                "return_visit_days": days,
            },
            CadencesWrite,
        )
        await cadences.put_cadences(tenant_scope, body)
    except ValidationFailed as exc:
        return await _refused(request, tenant_scope, exc, labels)
    return await _saved(request, tenant_scope)


# --- stage matrix ---------------------------------------------------------------------------------


@get("/settings/stages")
async def stages_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    current = await stage_moves.get_stage_rules(tenant_scope)
    return await render(
        request,
        tenant_scope,
        "app/settings_stages.html",
        stage_rules=current,
        order=OPEN_STAGES,
        **_router_context(),
    )


@post("/settings/stages")
async def stages_save(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    form = await _form(request)
    matrix = {
        frm: {to: form[f"{frm}__{to}"] for to in OPEN_STAGES if to != frm and f"{frm}__{to}" in form}
        for frm in OPEN_STAGES
    }
    try:
        body = _convert(
            {"matrix": matrix, "require_approved_quote": form.get("require_approved_quote") == "1"},
            StageRules,
        )
        await stage_moves.put_stage_rules(tenant_scope, body)
    except ValidationFailed as exc:
        return await _refused(request, tenant_scope, exc, {})
    return await _saved(request, tenant_scope)


# --- price list -----------------------------------------------------------------------------------


@get("/settings/price-list")
async def price_list_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    tenant_scope.require("admin")  # everyone reads the price list; this page is for changing it
    cursor = request.query_params.get("cursor") or None
    page = await products.list_products(tenant_scope, limit=PRODUCT_PAGE, cursor=cursor)
    context = {"page": page, **_router_context(tenant_scope)}
    if is_htmx(request) and cursor:
        return await render(request, tenant_scope, "app/_product_items.html", **context)
    return await render(request, tenant_scope, "app/settings_price_list.html", **context)


def _product_values(form: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": form.get("name", ""),
        "unit": form.get("unit", ""),
        "list_price": _decimal(form, "list_price"),
        "floor_price": _decimal(form, "floor_price"),
        "edition": form.get("edition") or None,
    }
    for name in ("name", "list_price", "floor_price"):
        if values[name] in (None, ""):
            raise ValidationFailed.field(name, "Required")
    return values


@post("/settings/price-list")
async def product_create(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    form = await _form(request)
    try:
        if not form.get("sku"):
            raise ValidationFailed.field("sku", "Required")
        body = _convert({"sku": form["sku"], **_product_values(form)}, ProductCreate)
        made = await products.create_product(tenant_scope, body)
    except ValidationFailed as exc:
        return await _refused(request, tenant_scope, exc, PRODUCT_LABELS)
    return await render(
        request, tenant_scope, "app/_product_added.html", p=made, **_router_context(tenant_scope)
    )


@post("/settings/price-list/{product_id:uuid}")
async def product_update(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], product_id: FromPath[UUID]
) -> Template:
    form = await _form(request)
    try:
        values = _product_values(form)
        values["active"] = form.get("active") == "1"
        await products.update_product(tenant_scope, product_id, _convert(values, ProductUpdate))
    except ValidationFailed as exc:
        return await _refused(request, tenant_scope, exc, PRODUCT_LABELS)
    return await _saved(request, tenant_scope)


# --- referral reward ------------------------------------------------------------------------------


@get("/settings/referral-rewards")
async def rewards_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    current = await referrals.get_reward_settings(tenant_scope)
    return await render(
        request, tenant_scope, "app/settings_rewards.html", reward=current, kinds=REWARD_KINDS
    )


@post("/settings/referral-rewards")
async def rewards_save(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    form = await _form(request)
    labels = {"points": N_("Points"), "amount": N_("Amount"), "currency": N_("Currency")}
    try:
        kind = form.get("kind", "")
        if kind not in REWARD_KINDS:
            raise ValidationFailed.field("kind", M_VALUE)
        values: dict[str, Any] = {"kind": kind, "points": None, "amount": None, "currency": None}
        if kind == "points":
            values["points"] = _int(form, "points")
        elif kind == "amount":
            values["amount"] = _decimal(form, "amount")
            values["currency"] = form.get("currency", "").upper() or None
        await referrals.put_reward_settings(tenant_scope, _convert(values, RewardSettings))
    except ValidationFailed as exc:
        return await _refused(request, tenant_scope, exc, labels)
    return await _saved(request, tenant_scope)


# --- ownership ledger -----------------------------------------------------------------------------


@get("/settings/ledger")
async def ledger_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    tenant_scope.require("admin")
    return await render(request, tenant_scope, "app/settings_ledger.html")


@get("/settings/ledger/verify")
async def ledger_verify(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    """The verification's result (``GET /api/v1/ownership/verify``'s service), as a fragment."""
    result = await ownership.verify(tenant_scope)
    return await render(
        request,
        tenant_scope,
        "app/_ledger_result.html",
        result=result,
        anchor_problems=ANCHOR_PROBLEMS,
        when=lambda value: when(value, tenant_scope),
    )


# What each anchor problem of the verification means, for a person.
ANCHOR_PROBLEMS = {
    "entry_changed": N_("the ledger was rewritten at or before that entry."),
    "entry_missing": N_("that entry is gone from the ledger."),
    "token_invalid": N_("the stored anchor was altered; its timestamp no longer matches it."),
    "anchors_unchained": N_("an anchor before it was removed or inserted."),
}


ROUTER = Router(
    path="/",
    route_handlers=[
        settings_index,
        company_page,
        company_save,
        company_image,
        company_image_remove,
        pool_rules_page,
        pool_rules_save,
        pool_rules_preview,
        cadences_page,
        cadences_save,
        stages_page,
        stages_save,
        price_list_page,
        product_create,
        product_update,
        rewards_page,
        rewards_save,
        ledger_page,
        ledger_verify,
    ],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
