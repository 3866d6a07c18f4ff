"""Piccolo descriptions of the field-work tables (visit plans, daily reports, incidents, weekly reports,
targets). The schema itself is the hand-written SQL migration (``sales_2026_11_30t100000``)."""

from piccolo.columns import (
    JSONB,
    UUID,
    Char,
    Date,
    ForeignKey,
    Numeric,
    SmallInt,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.constraints import Unique
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References
from tenants.tables import Tenant


class VisitPlan(Table, tablename="visit_plans", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    membership_id = UUID(default=None)
    plan_date = Date(default=None)
    status = Varchar(length=10, default="draft")
    comment = Text(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    decided_by = UUID(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    visit_plans_tenant_membership_id_plan_date_key = Unique([tenant, membership_id, plan_date])
    visit_plans_tenant_decided_by_fkey = References([tenant, decided_by], "memberships", ["tenant", "id"])
    visit_plans_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"]
    )
    visit_plans_day = Index("(tenant, plan_date DESC, id DESC)")


class VisitPlanItem(Table, tablename="visit_plan_items", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    plan_id = UUID(default=None)
    position = SmallInt(default=None)
    customer_id = UUID(default=None)
    planned_time = Time(default=None)
    purpose = Varchar(length=12, default=None)
    note = Text(null=True, default=None)
    followup_id = UUID(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)

    visit_plan_items_tenant_plan_id_position_key = Unique([tenant, plan_id, position])
    visit_plan_items_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"]
    )
    visit_plan_items_tenant_followup_id_fkey = References(
        [tenant, followup_id], "customer_followups", ["tenant", "id"]
    )
    visit_plan_items_tenant_plan_id_fkey = References(
        [tenant, plan_id], "visit_plans", ["tenant", "id"], on_delete="CASCADE"
    )
    visit_plan_items_customer = Index("(tenant, customer_id)")


class DailyReport(Table, tablename="daily_reports", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    membership_id = UUID(default=None)
    report_date = Date(default=None)
    figures = JSONB(default=None)
    competitor_news = Text(null=True, default=None)
    customer_feedback = Text(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz(null=True, default=None)

    daily_reports_tenant_membership_id_report_date_key = Unique([tenant, membership_id, report_date])
    daily_reports_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"]
    )
    daily_reports_day = Index("(tenant, report_date DESC, id DESC)")


class MarketIncident(Table, tablename="market_incidents", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    membership_id = UUID(default=None)
    report_id = UUID(null=True, default=None)
    customer_id = UUID(null=True, default=None)
    severity = Varchar(length=10, default=None)
    title = Varchar(length=200, default=None)
    description = Text(default=None)
    status = Varchar(length=10, default="open")
    created_at = Timestamptz()

    market_incidents_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"]
    )
    market_incidents_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"]
    )
    market_incidents_tenant_report_id_fkey = References(
        [tenant, report_id], "daily_reports", ["tenant", "id"]
    )
    market_incidents_recent = Index("(tenant, created_at DESC, id DESC)")


class WeeklyReport(Table, tablename="weekly_reports", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    territory_id = UUID(null=True, default=None)
    territory_name = Varchar(length=200, default=None)
    week_start = Date(default=None)
    figures = JSONB(default=None)
    competitor_notes = Text(null=True, default=None)
    next_week_plan = Text(null=True, default=None)
    plan_updated_by = UUID(null=True, default=None)
    plan_updated_at = Timestamptz(null=True, default=None)
    generated_at = Timestamptz()

    weekly_reports_tenant_territory_id_week_start_key = Unique([tenant, territory_id, week_start])
    weekly_reports_tenant_plan_updated_by_fkey = References(
        [tenant, plan_updated_by], "memberships", ["tenant", "id"]
    )
    weekly_reports_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="SET NULL (territory_id)"
    )
    weekly_reports_week = Index("(tenant, week_start DESC, id DESC)")


class Target(Table, tablename="targets", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    metric = Varchar(length=16, default=None)
    scope_type = Varchar(length=10, default=None)
    territory_id = UUID(null=True, default=None)
    membership_id = UUID(null=True, default=None)
    period = Varchar(length=8, default=None)
    period_start = Date(default=None)
    value = Numeric(digits=(16, 2), default=None)
    currency = Char(length=3, null=True, default=None)
    parent_id = UUID(null=True, default=None)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    targets_tenant_created_by_fkey = References([tenant, created_by], "memberships", ["tenant", "id"])
    targets_tenant_membership_id_fkey = References([tenant, membership_id], "memberships", ["tenant", "id"])
    targets_tenant_parent_id_fkey = References(
        [tenant, parent_id], "targets", ["tenant", "id"], on_delete="CASCADE"
    )
    targets_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="CASCADE"
    )
    targets_one = Index(
        "(tenant, metric, scope_type, coalesce(territory_id, '00000000-0000-0000-0000-000000000000'::uuid),"
        " coalesce(membership_id, '00000000-0000-0000-0000-000000000000'::uuid), period, period_start)",
        unique=True,
    )
    targets_parent = Index("(tenant, parent_id) WHERE parent_id IS NOT NULL")
    targets_period = Index("(tenant, period_start DESC, id DESC)")


FIELD_TABLES: list[type[Table]] = [
    VisitPlan,
    VisitPlanItem,
    DailyReport,
    MarketIncident,
    WeeklyReport,
    Target,
]
