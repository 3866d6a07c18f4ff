"""Piccolo descriptions of the field-work tables (visit plans, daily reports, incidents, weekly reports,
targets). The schema itself is the hand-written SQL migration (``sales_2026_11_30t100000``)."""

from piccolo.columns import JSONB, UUID, Date, Numeric, SmallInt, Text, Time, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB


class VisitPlan(Table, tablename="visit_plans", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    membership_id = UUID()
    plan_date = Date()
    status = Varchar(length=10)
    comment = Text(null=True)
    submitted_at = Timestamptz(null=True)
    decided_by = UUID(null=True)
    decided_at = Timestamptz(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class VisitPlanItem(Table, tablename="visit_plan_items", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    plan_id = UUID()
    position = SmallInt()
    customer_id = UUID()
    planned_time = Time()
    purpose = Varchar(length=12)
    note = Text(null=True)
    followup_id = UUID(null=True)
    done_at = Timestamptz(null=True)


class DailyReport(Table, tablename="daily_reports", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    membership_id = UUID()
    report_date = Date()
    figures = JSONB()
    competitor_news = Text(null=True)
    customer_feedback = Text(null=True)
    created_at = Timestamptz()


class MarketIncident(Table, tablename="market_incidents", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    membership_id = UUID()
    report_id = UUID(null=True)
    customer_id = UUID(null=True)
    severity = Varchar(length=10)
    title = Varchar(length=200)
    description = Text()
    status = Varchar(length=10)
    created_at = Timestamptz()


class WeeklyReport(Table, tablename="weekly_reports", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    territory_id = UUID(null=True)
    territory_name = Varchar(length=200)
    week_start = Date()
    figures = JSONB()
    competitor_notes = Text(null=True)
    next_week_plan = Text(null=True)
    plan_updated_by = UUID(null=True)
    plan_updated_at = Timestamptz(null=True)
    generated_at = Timestamptz()


class Target(Table, tablename="targets", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    metric = Varchar(length=16)
    scope_type = Varchar(length=10)
    territory_id = UUID(null=True)
    membership_id = UUID(null=True)
    period = Varchar(length=8)
    period_start = Date()
    value = Numeric(digits=(16, 2))
    currency = Varchar(length=3, null=True)
    parent_id = UUID(null=True)
    created_by = UUID(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


FIELD_TABLES: list[type[Table]] = [
    VisitPlan,
    VisitPlanItem,
    DailyReport,
    MarketIncident,
    WeeklyReport,
    Target,
]
