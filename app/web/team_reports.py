"""The team's reports, for managers (``/team/…``): daily reports of the team, weekly territory reports
with next week's plan (editable in place), market incidents of the team, targets (set, split down the
tree or by month, with live attainment), cross-territory grants (grant, revoke), referral rewards
(mark paid) and overdue collections by rep and territory.

Everything is the services' the API calls (``daily_reports``, ``weekly_reports``, ``incidents``,
``targets``, ``decompose``, ``grants``, ``referrals``, ``overdue_groups``): they decide who sees and
changes what — a rep asking a manager's list gets what the API gives them (their own, or 403), another
tenant's id is their 404. A refused form is the service's 422/403/409, shown beside the form."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template

from app.customers import grants
from app.customers.pool.schemas import GrantCreate
from app.deals.collections.items import overdue_groups
from app.errors import ValidationFailed
from app.i18n import N_, translate
from app.localtime import local_today, zone
from app.sales.field import daily_reports, decompose, incidents, targets, weekly_reports
from app.sales.field.schemas import TargetChild, TargetCreate, TargetDecompose, WeeklyPlanUpdate
from app.sales.field.targets import METRIC_LABELS, MONTHS, add_months
from app.sales.growth import referrals
from app.territories.members import list_territory_members
from app.territories.service import list_territories
from app.web.dashboard import Chart, member_names, money
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx
from app.web.shell import render as shell_render
from tenants.scope import TenantScope

PAGE_SIZE = 20
T = TypeVar("T")
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
PERIOD_LABELS = {"month": N_("Month"), "quarter": N_("Quarter"), "year": N_("Year")}
SCOPE_LABELS = {"tenant": N_("Company"), "territory": N_("Territory"), "rep": N_("Rep")}
SEVERITIES = {"normal": N_("Normal"), "serious": N_("Serious")}
INCIDENT_STATUSES = {"open": N_("Open"), "closed": N_("Closed")}
REWARD_STATUSES = {"pending": N_("Not paid yet"), "paid": N_("Paid")}


async def render(
    request: Request[Any, Any, Any], scope: TenantScope, template: str, **context: Any
) -> Template:
    return await shell_render(request, scope, template, money=money, **context)


def _more(request: Request[Any, Any, Any]) -> bool:
    return is_htmx(request) and bool(request.query_params.get("cursor"))


def _query(**values: Any) -> str:
    return "&".join(f"{k}={v}" for k, v in values.items() if v not in (None, ""))


async def _team_page(
    request: Request[Any, Any, Any], scope: TenantScope, template: str, items: str, **context: Any
) -> Template:
    """The page, or (a "more" request) only its next items."""
    if _more(request):
        return await render(request, scope, items, **context)
    return await render(request, scope, template, **context)


# --- daily reports, weekly reports, incidents ------------------------------------------------------


@get("/team/daily-reports")
async def team_daily_reports(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    membership_id: FromQuery[UUID | None] = None,
    date_from: FromQuery[date | None] = None,
    date_to: FromQuery[date | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    page = await daily_reports.list_reports(
        tenant_scope,
        membership_id=membership_id,
        date_from=date_from,
        date_to=date_to,
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    return await _team_page(
        request,
        tenant_scope,
        "app/team_daily_reports.html",
        "app/_team_daily_items.html",
        page=page,
        names=await member_names(tenant_scope),
        chosen={"membership_id": membership_id, "date_from": date_from, "date_to": date_to},
        more_query=_query(membership_id=membership_id, date_from=date_from, date_to=date_to),
        section="/team/daily-reports",
    )


@get("/team/weekly-reports")
async def team_weekly_reports(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    territory_id: FromQuery[UUID | None] = None,
    week: FromQuery[date | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    page = await weekly_reports.list_weekly(
        tenant_scope, territory_id=territory_id, week=week, limit=PAGE_SIZE, cursor=cursor
    )
    return await _team_page(
        request,
        tenant_scope,
        "app/team_weekly_reports.html",
        "app/_team_weekly_items.html",
        page=page,
        territories=(await list_territories(tenant_scope, limit=200)).items,
        chosen={"territory_id": territory_id, "week": week},
        more_query=_query(territory_id=territory_id, week=week),
        section="/team/weekly-reports",
    )


class PlanForm(msgspec.Struct):
    next_week_plan: str = ""


@post("/team/weekly-reports/{report_id:uuid}/plan")
async def save_weekly_plan(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    report_id: FromPath[UUID],
    data: Annotated[PlanForm, FORM],
) -> Template:
    body = _body(
        WeeklyPlanUpdate,
        {"next_week_plan": data.next_week_plan},
        "next_week_plan",
        "Use at most {n} characters",
        n=5000,
    )
    report = await weekly_reports.update_plan(tenant_scope, report_id, body)
    return await render(request, tenant_scope, "app/_team_plan_saved.html", report=report)


@get("/team/market-incidents")
async def team_incidents(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    severity: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    membership_id: FromQuery[UUID | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    page = await incidents.list_incidents(
        tenant_scope,
        severity=severity or None,
        status=status or None,
        membership_id=membership_id,
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    return await _team_page(
        request,
        tenant_scope,
        "app/team_incidents.html",
        "app/_team_incident_items.html",
        page=page,
        names=await member_names(tenant_scope),
        severities=SEVERITIES,
        statuses=INCIDENT_STATUSES,
        chosen={"severity": severity, "status": status, "membership_id": membership_id},
        more_query=_query(severity=severity, status=status, membership_id=membership_id),
        section="/team/market-incidents",
    )


# --- targets --------------------------------------------------------------------------------------


def _body(kind: type[T], value: dict[str, Any], field: str, message: str, **params: Any) -> T:
    """The API's body from a form, with the API's constraints checked (a 422 on ``field``)."""
    try:
        return msgspec.convert(value, kind, strict=False)
    except msgspec.ValidationError:
        raise ValidationFailed.field(field, message, **params) from None


def _decimal(value: str, field: str) -> Decimal:
    try:
        return Decimal(value.strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationFailed.field(field, "Use an amount from 0 with at most two decimals") from None


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value) if value.strip() else None
    except ValueError:
        raise ValidationFailed.field("scope_id", "Choose a territory or a rep") from None


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed.field(field, "Use a date") from None


@get("/team/targets")
async def team_targets(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    on: FromQuery[date | None] = None,
    metric: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    on = on or local_today(tenant_scope.time_zone)
    page = await targets.list_targets(
        tenant_scope, on=on, metric=metric or None, limit=PAGE_SIZE, cursor=cursor
    )
    names = await member_names(tenant_scope)
    territories = (await list_territories(tenant_scope, limit=200)).items
    tnames = {t.id: t.name for t in territories}
    chart = Chart(
        "chart-attainment",
        "hbar",
        [_target_label(tenant_scope, t, names, tnames) for t in page.items],
        [
            {
                "name": translate(tenant_scope.locale, "Attainment"),
                "values": [float(t.attainment or 0) for t in page.items],
            }
        ],
        "%",
    )
    return await _team_page(
        request,
        tenant_scope,
        "app/team_targets.html",
        "app/_team_target_items.html",
        page=page,
        on=on,
        metric=metric or "",
        names=names,
        territories=territories,
        territory_names=tnames,
        members=sorted(names.items(), key=lambda kv: kv[1]),
        metric_labels=METRIC_LABELS,
        period_labels=PERIOD_LABELS,
        scope_labels=SCOPE_LABELS,
        chart=chart,
        month_start=on.replace(day=1),
        more_query=_query(on=on, metric=metric),
        section="/team/targets",
    )


def _target_label(scope: TenantScope, t: Any, names: dict[UUID, str], tnames: dict[UUID, str]) -> str:
    who = (
        tnames.get(t.territory_id, "?")
        if t.territory_id
        else names.get(t.membership_id, "?")
        if t.membership_id
        else translate(scope.locale, "Company")
    )
    return f"{translate(scope.locale, METRIC_LABELS[t.metric])} · {who} · {t.period_start.isoformat()}"


class TargetForm(msgspec.Struct):
    metric: str = "amount"
    scope_id: str = ""  # "territory:<id>", "rep:<id>" or "tenant"
    period: str = "month"
    period_start: str = ""
    value: str = ""


@post("/team/targets")
async def create_target(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    data: Annotated[TargetForm, FORM],
) -> Response[Any]:
    kind, _, raw = data.scope_id.partition(":")
    if kind not in ("tenant", "territory", "rep"):
        raise ValidationFailed.field("scope_id", "Choose a territory or a rep")
    body = TargetCreate(
        metric=data.metric,  # type: ignore[arg-type]  # the service's schema checks it below
        scope_type=kind,  # type: ignore[arg-type]
        period=data.period,  # type: ignore[arg-type]
        period_start=_day(data.period_start, "period_start"),
        value=_decimal(data.value, "value"),
        territory_id=_uuid(raw) if kind == "territory" else None,
        membership_id=_uuid(raw) if kind == "rep" else None,
    )
    body = _body(
        TargetCreate, msgspec.to_builtins(body), "metric", "Choose a metric, a period and whom it is for"
    )
    made = await targets.create_target(tenant_scope, body)
    return Response("", status_code=204, headers={"HX-Redirect": f"/team/targets?on={made.period_start}"})


@get("/team/targets/{target_id:uuid}/split")
async def split_form(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    target_id: FromPath[UUID],
    by: FromQuery[str] = "scope",
) -> Template:
    """The rows a split offers: the months (or quarters) of the target's period, or the narrower
    scopes (a territory's child territories and its reps; the company's top territories), each
    prefilled with an even share."""
    target = await targets.get_target(tenant_scope, target_id)
    rows: list[dict[str, Any]] = []
    if by == "period":
        at = target.period_start
        while target.period != "month" and at < target.period_end:  # a month splits no further
            rows.append({"key": f"{target.scope_type}:period:{at.isoformat()}", "label": at.isoformat()})
            at = add_months(at, MONTHS["month"])
    elif target.scope_type == "tenant":
        tops = (await list_territories(tenant_scope, top_level=True, limit=200)).items
        rows = [{"key": f"territory:{t.id}", "label": t.name} for t in tops]
    elif target.scope_type == "territory" and target.territory_id is not None:
        children = (await list_territories(tenant_scope, parent_id=target.territory_id, limit=200)).items
        rows = [{"key": f"territory:{t.id}", "label": t.name} for t in children]
        names = await member_names(tenant_scope)
        reps = [m for m in await list_territory_members(tenant_scope, target.territory_id) if m.role == "rep"]
        rows += [{"key": f"rep:{m.membership_id}", "label": names.get(m.membership_id, "?")} for m in reps]
    unit = Decimal("1" if target.metric == "new_customers" else "0.01")
    share = (target.value / len(rows)).quantize(unit) if rows else Decimal(0)
    for i, row in enumerate(rows):  # the last row takes the rounding, so the shares add up
        row["value"] = target.value - share * (len(rows) - 1) if i == len(rows) - 1 else share
    return await render(request, tenant_scope, "app/_team_split.html", target=target, rows=rows, by=by)


@post("/team/targets/{target_id:uuid}/split")
async def split_target(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], target_id: FromPath[UUID]
) -> Response[Any]:
    form = await request.form()
    target = await targets.get_target(tenant_scope, target_id)
    children = []
    for i, key in enumerate(form.getall("key")):
        values = form.getall("value")
        value = _decimal(values[i] if i < len(values) else "", f"children[{i}].value")
        kind, _, rest = key.partition(":")
        if rest.startswith("period:"):
            start = _day(rest.removeprefix("period:"), f"children[{i}].period_start")
            children.append(
                TargetChild(
                    scope_type=target.scope_type,  # type: ignore[arg-type]
                    period="month",
                    period_start=start,
                    value=value,
                    territory_id=target.territory_id,
                    membership_id=target.membership_id,
                )
            )
        else:
            child_id = _uuid(rest)
            children.append(
                TargetChild(
                    scope_type=kind,
                    period=target.period,  # type: ignore[arg-type]
                    period_start=target.period_start,
                    value=value,
                    territory_id=child_id if kind == "territory" else None,
                    membership_id=child_id if kind == "rep" else None,
                )
            )
    if not children:
        raise ValidationFailed.field("children", "Nothing to split into")
    decomposed = TargetDecompose(parent_id=target_id, children=children)
    body = _body(TargetDecompose, msgspec.to_builtins(decomposed), "children", "Nothing to split into")
    await decompose.decompose(tenant_scope, body)
    return Response("", status_code=204, headers={"HX-Redirect": f"/team/targets?on={target.period_start}"})


# --- grants, rewards, overdue collections -------------------------------------------------------


@get("/team/grants")
async def team_grants(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    cursor: FromQuery[str | None] = None,
) -> Template:
    page = await grants.list_grants(tenant_scope, limit=PAGE_SIZE, cursor=cursor)
    names = await member_names(tenant_scope)
    territories = (await list_territories(tenant_scope, limit=200)).items
    return await _team_page(
        request,
        tenant_scope,
        "app/team_grants.html",
        "app/_team_grant_items.html",
        page=page,
        members=sorted(names.items(), key=lambda kv: kv[1]),
        territories=territories,
        territory_names={t.id: t.name for t in territories},
        default_until=(local_today(tenant_scope.time_zone) + timedelta(days=30)).isoformat(),
        more_query="",
        section="/team/grants",
    )


class GrantForm(msgspec.Struct):
    membership_id: str = ""
    territory_id: str = ""
    until: str = ""
    reason: str = ""


@post("/team/grants")
async def create_grant(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    data: Annotated[GrantForm, FORM],
) -> Response[Any]:
    try:
        member = UUID(data.membership_id)
    except ValueError:
        raise ValidationFailed.field("membership_id", "Choose a member") from None
    until_day = _day(data.until, "until")
    until = datetime.combine(until_day + timedelta(days=1), time(), zone(tenant_scope.time_zone)).astimezone(
        UTC
    )
    grant = GrantCreate(
        membership_id=member,
        until=until,
        territory_id=_uuid(data.territory_id),
        reason=data.reason.strip() or None,
    )
    body = _body(GrantCreate, msgspec.to_builtins(grant), "reason", "Use at most {n} characters", n=1000)
    await grants.create_grant(tenant_scope, body)
    return Response("", status_code=204, headers={"HX-Redirect": "/team/grants"})


@post("/team/grants/{grant_id:uuid}/revoke")
async def revoke_grant(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], grant_id: FromPath[UUID]
) -> Template:
    grant = await grants.revoke_grant(tenant_scope, grant_id)
    territories = (await list_territories(tenant_scope, limit=200)).items
    return await render(
        request,
        tenant_scope,
        "app/_team_grant_items.html",
        page={"items": [grant], "next_cursor": None},
        territory_names={t.id: t.name for t in territories},
        more_query="",
    )


@get("/team/referral-rewards")
async def team_rewards(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    status: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    page = await referrals.list_rewards(tenant_scope, status=status or None, limit=PAGE_SIZE, cursor=cursor)
    return await _team_page(
        request,
        tenant_scope,
        "app/team_rewards.html",
        "app/_team_reward_items.html",
        page=page,
        status=status or "",
        statuses=REWARD_STATUSES,
        more_query=_query(status=status),
        section="/team/referral-rewards",
    )


@post("/team/referral-rewards/{reward_id:uuid}/paid")
async def reward_paid(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], reward_id: FromPath[UUID]
) -> Template:
    reward = await referrals.mark_paid(tenant_scope, reward_id)
    return await render(
        request,
        tenant_scope,
        "app/_team_reward_items.html",
        page={"items": [reward], "next_cursor": None},
        statuses=REWARD_STATUSES,
        more_query="",
    )


@get("/team/collections")
async def team_collections(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    territory_id: FromQuery[UUID | None] = None,
    owner: FromQuery[UUID | None] = None,
) -> Template:
    groups = await overdue_groups(tenant_scope, owner=owner, territory_id=territory_id)
    names = await member_names(tenant_scope)
    territories = (await list_territories(tenant_scope, limit=200)).items
    tnames = {t.id: t.name for t in territories}
    by_territory: dict[UUID, Decimal] = defaultdict(Decimal)
    for g in groups:
        if g.currency == tenant_scope.currency:
            by_territory[g.territory_id] += g.outstanding
    chart = Chart(
        "chart-overdue-territory",
        "hbar",
        [tnames.get(k, "?") for k in by_territory],
        [
            {
                "name": translate(tenant_scope.locale, "Outstanding"),
                "values": [float(v) for v in by_territory.values()],
            }
        ],
        tenant_scope.currency,
    )
    return await render(
        request,
        tenant_scope,
        "app/team_collections.html",
        groups=groups,
        names=names,
        members=sorted(names.items(), key=lambda kv: kv[1]),
        territories=territories,
        territory_names=tnames,
        chosen={"territory_id": territory_id, "owner": owner},
        chart=chart,
        section="/team/collections",
    )


ROUTER = Router(
    path="/",
    route_handlers=[
        team_daily_reports,
        team_weekly_reports,
        save_weekly_plan,
        team_incidents,
        team_targets,
        create_target,
        split_form,
        split_target,
        team_grants,
        create_grant,
        revoke_grant,
        team_rewards,
        reward_paid,
        team_collections,
    ],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
