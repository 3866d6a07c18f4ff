"""The team dashboard (``/team``, managers and up): the funnel (calls → conversations → appointments →
presentations → orders), the open pipeline by stage and by rep, target attainment, overdue
collections, the customers returning to the pool within a week and the list changes (名单异动), for
the manager's subtrees or one territory subtree and a chosen period.

Every figure is a service's, the same the API answers (``get_funnel``, ``pipeline.summary``,
``list_targets``, ``overdue_groups``, ``team_reclaims_due``, ``list_changes``); a rep asking is the
services' 403, another tenant's territory their 404. Each chart is drawn by ECharts (loaded only
here) from a JSON data island, with its data as a table beside it (and a CSV download)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template

from app.customers.list_changes import KINDS, list_changes
from app.customers.pool.reclaim import team_reclaims_due
from app.deals import pipeline
from app.deals.collections.items import overdue_groups
from app.deals.stages import OPEN_STAGES
from app.i18n import N_, translate
from app.localtime import local_today
from app.sales.field.targets import METRIC_LABELS, list_targets
from app.sales.growth.funnel import STEPS, get_funnel
from app.territories.service import list_territories
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.members import list_members
from tenants.scope import TenantScope

STEP_LABELS = {
    "calls": N_("Calls"),
    "conversations": N_("Conversations"),
    "appointments": N_("Appointments"),
    "presentations": N_("Presentations"),
    "sales": N_("Orders"),
}
STAGE_LABELS = {
    "prospect_list": N_("Prospect list"),
    "first_visit": N_("First visit"),
    "exchange_research": N_("Exchange and research"),
    "demo": N_("Targeted demo"),
    "formal_quote": N_("Formal quote"),
    "objections_cleared": N_("Objections cleared"),
    "negotiation": N_("Negotiation"),
    "signed": N_("Signed"),
}
CHANGE_LABELS = {
    "won": N_("Won"),
    "lost": N_("Lost"),
    "reclaimed": N_("Reclaimed"),
    "handed_over": N_("Handed over"),
    "released": N_("Released"),
    "archived": N_("Archived"),
}
PERIODS = {
    "this_month": N_("This month"),
    "last_month": N_("Last month"),
    "this_quarter": N_("This quarter"),
    "this_year": N_("This year"),
    "last_30": N_("Last 30 days"),
}
RECLAIM_DAYS = 7


def period_dates(period: str, today: date) -> tuple[date, date]:
    """The first and last day of a named period up to ``today`` (an unknown name: this month)."""
    if period == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if period == "this_quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if period == "this_year":
        return date(today.year, 1, 1), today
    if period == "last_30":
        return today - timedelta(days=29), today
    return today.replace(day=1), today


def data_island(value: Any) -> str:
    """JSON for a ``<script type="application/json">`` element: nothing in it can close the element."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart: its kind (``funnel``, ``bar``, ``hbar``), category labels and named series."""

    id: str
    kind: str
    labels: list[str]
    series: list[dict[str, Any]]
    unit: str = ""

    @property
    def json(self) -> str:
        return data_island(
            {"kind": self.kind, "labels": self.labels, "series": self.series, "unit": self.unit}
        )


SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}


def money(amount: Decimal | str | int | None, currency: str | None) -> str:
    """An amount as the page shows it: grouped digits, two decimals, the currency's sign (a count, with
    no currency, as a whole number)."""
    if amount is None:
        return "—"
    value = Decimal(amount)
    if currency is None:
        return f"{value:,.0f}"
    sign = SYMBOLS.get(currency)
    return f"{sign}{value:,.2f}" if sign else f"{value:,.2f} {currency}"


def _num(value: Decimal | int | None) -> float:
    return float(value or 0)


async def member_names(scope: TenantScope) -> dict[UUID, str]:
    page = await list_members(scope, limit=200)
    names = {m.id: m.name or m.email for m in page.items}
    while page.next_cursor:
        page = await list_members(scope, limit=200, cursor=page.next_cursor)
        names |= {m.id: m.name or m.email for m in page.items}
    return names


@get("/team")
async def team_dashboard(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    date_from: Annotated[date | None, QueryParameter(name="from")] = None,
    date_to: Annotated[date | None, QueryParameter(name="to")] = None,
    period: FromQuery[str | None] = None,
    territory_id: FromQuery[UUID | None] = None,
) -> Template:
    scope = tenant_scope
    today = local_today(scope.time_zone)
    if date_from is None and date_to is None:
        period = period if period in PERIODS else "this_month"
        date_from, date_to = period_dates(period, today)
    else:
        period = None
        date_to = date_to or today
        date_from = date_from or date_to.replace(day=1)
    changes = await list_changes(scope, date_from=date_from, date_to=date_to, territory_id=territory_id)
    funnel = await get_funnel(scope, date_from=date_from, date_to=date_to, territory_id=territory_id)
    pipe = await pipeline.summary(scope, territory_id=territory_id)
    targets = (await list_targets(scope, on=date_to, territory_id=territory_id, limit=50)).items
    overdue = await overdue_groups(scope, territory_id=territory_id)
    reclaims = await team_reclaims_due(scope, territory_id=territory_id, days=RECLAIM_DAYS)
    territories = (await list_territories(scope, limit=200)).items
    names = await member_names(scope)
    tnames = {t.id: t.name for t in territories}

    def _(message: str, **params: Any) -> str:
        return translate(scope.locale, message, **params)

    currency = scope.currency
    stage_rows = [r for r in pipe.by_stage if r.currency == currency]
    by_stage = {r.stage: r for r in stage_rows}
    rep_rows = [r for r in pipe.by_rep if r.currency == currency]
    overdue_by_rep: dict[UUID, Decimal] = defaultdict(Decimal)
    for g in overdue:
        if g.currency == currency:
            overdue_by_rep[g.owner_membership_id] += g.outstanding

    def whose(t: Any) -> str:
        if t.territory_id:
            return tnames.get(t.territory_id, "?")
        return names.get(t.membership_id, "?") if t.membership_id else _("Company")

    target_labels = [f"{_(METRIC_LABELS[t.metric])} · {whose(t)}" for t in targets]
    charts = {
        "funnel": Chart(
            "chart-funnel",
            "funnel",
            [_(STEP_LABELS[s]) for s in STEPS],
            [{"name": _("Team"), "values": [getattr(funnel.total, s) for s in STEPS]}],
        ),
        "stages": Chart(
            "chart-stages",
            "bar",
            [_(STAGE_LABELS[s]) for s in OPEN_STAGES],
            [
                {
                    "name": _("Amount"),
                    "values": [_num(by_stage[s].amount) if s in by_stage else 0 for s in OPEN_STAGES],
                },
                {
                    "name": _("Weighted"),
                    "values": [
                        _num(by_stage[s].weighted_amount) if s in by_stage else 0 for s in OPEN_STAGES
                    ],
                },
            ],
            currency,
        ),
        "reps": Chart(
            "chart-reps",
            "hbar",
            [names.get(r.owner_membership_id, "?") for r in rep_rows],
            [
                {"name": _("Amount"), "values": [_num(r.amount) for r in rep_rows]},
                {"name": _("Weighted"), "values": [_num(r.weighted_amount) for r in rep_rows]},
            ],
            currency,
        ),
        "targets": Chart(
            "chart-targets",
            "hbar",
            target_labels,
            [{"name": _("Attainment"), "values": [_num(t.attainment) for t in targets]}],
            "%",
        ),
        "overdue": Chart(
            "chart-overdue",
            "hbar",
            [names.get(k, "?") for k in overdue_by_rep],
            [{"name": _("Outstanding"), "values": [_num(v) for v in overdue_by_rep.values()]}],
            currency,
        ),
        "changes": Chart(
            "chart-changes",
            "bar",
            [_(CHANGE_LABELS[k]) for k in KINDS],
            [{"name": _("Customers"), "values": [getattr(changes.total, k) for k in KINDS]}],
        ),
    }
    query = f"from={date_from.isoformat()}&to={date_to.isoformat()}" + (
        f"&territory_id={territory_id}" if territory_id else ""
    )
    return await render(
        request,
        scope,
        "app/team.html",
        date_from=date_from,
        date_to=date_to,
        period=period,
        periods=PERIODS,
        territory_id=territory_id,
        territories=territories,
        territory_names=tnames,
        names=names,
        funnel=funnel,
        steps=STEPS,
        step_labels=STEP_LABELS,
        pipeline=pipe,
        stage_labels=STAGE_LABELS,
        targets=targets,
        target_labels=target_labels,
        metric_labels=METRIC_LABELS,
        overdue=overdue,
        reclaims=reclaims,
        changes=changes,
        kinds=KINDS,
        change_labels=CHANGE_LABELS,
        charts=charts,
        currency=currency,
        query=query,
        money=money,
        section="/team",
    )


ROUTER = Router(
    path="/",
    route_handlers=[team_dashboard],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
