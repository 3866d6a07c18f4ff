"""Input and output structs of field work: visit plans, daily reports, market incidents, weekly
territory reports and targets. Money is ``Decimal`` with its currency (a JSON string on the way out)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

Purpose = Literal["development", "research", "collection", "service", "complaint", "order"]
PlanStatus = Literal["draft", "submitted", "approved", "returned"]
Severity = Literal["normal", "serious"]
Metric = Literal["amount", "gross_margin", "new_customers", "collections"]
ScopeType = Literal["tenant", "territory", "rep"]
Period = Literal["month", "quarter", "year"]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text2000 = Annotated[str, msgspec.Meta(max_length=2000)]
Text5000 = Annotated[str, msgspec.Meta(max_length=5000)]
MAX_ITEMS = 30
_TIME_OF_DAY = (
    "A time of day on the plan's date, in the tenant's time zone: HH:MM:SS (e.g. 09:30:00), with no UTC"
    " offset"
)
# A visit's time of day. Documented here: Litestar would describe a bare ``time`` as a duration.
TimeOfDay = Annotated[
    time,
    msgspec.Meta(
        tz=False,
        description=_TIME_OF_DAY,
        extra_json_schema={"description": _TIME_OF_DAY, "extra": {"format": "time"}},
    ),
]


# --- visit plans -------------------------------------------------------------------------------


class PlanItemWrite(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: UUID
    planned_time: TimeOfDay
    purpose: Purpose
    note: Text2000 | None = None


class VisitPlanCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A plan for ``plan_date`` (today or later, in the tenant's time zone). ``membership_id`` may
    be left out; when given it must be the caller's own."""

    plan_date: date
    items: Annotated[list[PlanItemWrite], msgspec.Meta(max_length=MAX_ITEMS)]
    membership_id: UUID | None = None


class VisitPlanUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Replace the items of a draft or returned plan."""

    items: Annotated[list[PlanItemWrite], msgspec.Meta(max_length=MAX_ITEMS)]


class PlanDecision(msgspec.Struct, forbid_unknown_fields=True):
    comment: Text2000 | None = None


class PlanItemRead(msgspec.Struct):
    id: UUID
    position: int
    customer_id: UUID
    customer_name: str
    planned_time: TimeOfDay
    purpose: str
    note: str | None
    followup_id: UUID | None
    done_at: datetime | None
    done: bool


class VisitPlanRead(msgspec.Struct):
    id: UUID
    membership_id: UUID
    member_name: str | None
    plan_date: date
    status: str
    comment: str | None
    submitted_at: datetime | None
    decided_by: UUID | None
    decided_at: datetime | None
    planned: int
    done: int
    items: list[PlanItemRead]
    created_at: datetime
    updated_at: datetime


# --- daily reports and incidents -----------------------------------------------------------------


class IncidentWrite(msgspec.Struct, forbid_unknown_fields=True):
    title: Text200
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    severity: Severity = "normal"
    customer_id: UUID | None = None


class DailyReportCreate(msgspec.Struct, forbid_unknown_fields=True):
    """The figures are computed from the day's data; the rep adds notes and, optionally, incidents."""

    report_date: date
    competitor_news: Text5000 | None = None
    customer_feedback: Text5000 | None = None
    incidents: Annotated[list[IncidentWrite], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=list
    )


class DailyReportUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """The author's changes to a filed report: a note left out stays, ``null`` or blank clears it;
    ``refresh_figures`` recomputes the figures from the day's data (as when it was filed)."""

    competitor_news: Text5000 | UnsetType | None = UNSET
    customer_feedback: Text5000 | UnsetType | None = UNSET
    refresh_figures: bool = False


class IncidentRead(msgspec.Struct):
    id: UUID
    membership_id: UUID
    member_name: str | None
    report_id: UUID | None
    customer_id: UUID | None
    severity: str
    title: str
    description: str
    status: str
    created_at: datetime


class DailyReportRead(msgspec.Struct):
    id: UUID
    membership_id: UUID
    member_name: str | None
    report_date: date
    figures: dict[str, Any]
    competitor_news: str | None
    customer_feedback: str | None
    incidents: list[IncidentRead]
    created_at: datetime
    updated_at: datetime | None  # last edited by its author (None: as filed)
    editable_until: datetime  # the author may edit it until then (the end of the day after filing)


# --- weekly reports ------------------------------------------------------------------------------


class WeeklyReportRead(msgspec.Struct):
    id: UUID
    territory_id: UUID | None  # None once the territory was merged away or deleted
    territory_name: str
    week_start: date
    week_end: date
    figures: dict[str, Any]
    competitor_notes: str | None
    next_week_plan: str | None
    plan_updated_by: UUID | None
    plan_updated_at: datetime | None
    generated_at: datetime


class WeeklyPlanUpdate(msgspec.Struct, forbid_unknown_fields=True):
    next_week_plan: Text5000 | None


# --- targets -------------------------------------------------------------------------------------


class TargetCreate(msgspec.Struct, forbid_unknown_fields=True):
    metric: Metric
    scope_type: ScopeType
    period: Period
    period_start: date
    value: Decimal
    territory_id: UUID | None = None
    membership_id: UUID | None = None
    currency: Currency | None = None  # money metrics: the tenant's currency when left out


class TargetUpdate(msgspec.Struct, forbid_unknown_fields=True):
    value: Decimal | UnsetType = UNSET


class TargetChild(msgspec.Struct, forbid_unknown_fields=True):
    """One child of a decomposition: the parent's metric and currency, a narrower scope over the
    same period, or the same scope over a sub-period."""

    scope_type: ScopeType
    period: Period
    period_start: date
    value: Decimal
    territory_id: UUID | None = None
    membership_id: UUID | None = None


class TargetDecompose(msgspec.Struct, forbid_unknown_fields=True):
    parent_id: UUID
    children: Annotated[list[TargetChild], msgspec.Meta(min_length=1, max_length=200)]


class TargetRead(msgspec.Struct):
    id: UUID
    metric: str
    scope_type: str
    territory_id: UUID | None
    membership_id: UUID | None
    period: str
    period_start: date
    period_end: date
    value: Decimal
    currency: str | None
    parent_id: UUID | None
    actual: Decimal | None  # None: not measurable (gross margin without cost data)
    attainment: Decimal | None  # actual / value in percent, two decimals; None when value is 0
    created_at: datetime
    updated_at: datetime
