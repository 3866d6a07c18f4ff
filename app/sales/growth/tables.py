"""Piccolo descriptions of the growth tables (cadences, tasks, referrals, return visits). The schema
itself is the hand-written SQL migration (``sales_2026_11_30t100100``)."""

from piccolo.columns import (
    JSONB,
    UUID,
    Char,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.constraints import Unique
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References
from tenants.tables import Tenant


class SalesSettings(Table, tablename="sales_settings", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    name = Varchar(length=20, primary_key=True, default=None)
    settings = JSONB(default=None)
    updated_by = UUID(null=True, default=None)
    updated_at = Timestamptz()

    sales_settings_tenant_updated_by_fkey = References([tenant, updated_by], "memberships", ["tenant", "id"])


class SalesTask(Table, tablename="sales_tasks", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    customer_id = UUID(default=None)
    assignee_membership_id = UUID(default=None)
    kind = Varchar(length=10, default=None)
    source = Varchar(length=12, default=None)
    due_on = Date(default=None)
    status = Varchar(length=10, default="open")
    note = Text(null=True, default=None)
    return_visit_id = UUID(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    closed_by = UUID(null=True, default=None)
    close_reason = Text(null=True, default=None)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    handover_plan_id = UUID(null=True, default=None)

    sales_tasks_tenant_assignee_membership_id_fkey = References(
        [tenant, assignee_membership_id], "memberships", ["tenant", "id"]
    )
    sales_tasks_tenant_closed_by_fkey = References([tenant, closed_by], "memberships", ["tenant", "id"])
    sales_tasks_tenant_created_by_fkey = References([tenant, created_by], "memberships", ["tenant", "id"])
    sales_tasks_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"], on_delete="CASCADE"
    )
    sales_tasks_tenant_return_visit_id_fkey = References(
        [tenant, return_visit_id], "return_visits", ["tenant", "id"], on_delete="CASCADE"
    )
    sales_tasks_tenant_handover_plan_id_fkey = References(
        [tenant, handover_plan_id], "handover_plans", ["tenant", "id"], on_delete="CASCADE"
    )
    sales_tasks_assignee = Index("(tenant, assignee_membership_id, status, due_on, id)")
    sales_tasks_due = Index("(tenant, status, due_on, id)")
    sales_tasks_open_cadence = Index(
        "(tenant, customer_id, kind) WHERE status = 'open' AND source = 'cadence'", unique=True
    )
    sales_tasks_open_customer = Index("(tenant, customer_id, kind) WHERE status = 'open'")
    sales_tasks_handover = Index(
        "(tenant, handover_plan_id, customer_id) WHERE handover_plan_id IS NOT NULL", unique=True
    )


class ReturnVisit(Table, tablename="return_visits", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    customer_id = UUID(default=None)
    deal_id = UUID(null=True, default=None)
    assignee_membership_id = UUID(default=None)
    offset_days = Integer(default=None)
    scheduled_from = Date(default=None)
    due_on = Date(default=None)
    status = Varchar(length=10, default="scheduled")
    satisfaction = SmallInt(null=True, default=None)
    notes = Text(null=True, default=None)
    new_needs = Text(null=True, default=None)
    followup_id = UUID(null=True, default=None)
    new_deal_id = UUID(null=True, default=None)
    logged_at = Timestamptz(null=True, default=None)
    logged_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    return_visits_tenant_customer_id_scheduled_from_offset_days_key = Unique(
        [tenant, customer_id, scheduled_from, offset_days]
    )
    return_visits_tenant_assignee_membership_id_fkey = References(
        [tenant, assignee_membership_id], "memberships", ["tenant", "id"]
    )
    return_visits_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"], on_delete="CASCADE"
    )
    return_visits_tenant_followup_id_fkey = References(
        [tenant, followup_id], "customer_followups", ["tenant", "id"], on_delete="SET NULL (followup_id)"
    )
    return_visits_tenant_deal_id_fkey = References(
        [tenant, deal_id], "deals", ["tenant", "id"], on_delete="SET NULL (deal_id)"
    )
    return_visits_tenant_logged_by_fkey = References([tenant, logged_by], "memberships", ["tenant", "id"])
    return_visits_tenant_new_deal_id_fkey = References(
        [tenant, new_deal_id], "deals", ["tenant", "id"], on_delete="SET NULL (new_deal_id)"
    )
    return_visits_assignee = Index("(tenant, assignee_membership_id, due_on, id)")
    return_visits_due = Index("(tenant, due_on, id)")


class ReferralReward(Table, tablename="referral_rewards", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    referred_customer_id = UUID(default=None)
    referrer_customer_id = UUID(null=True, default=None)
    referrer_name = Varchar(length=200, null=True, default=None)
    deal_id = UUID(null=True, default=None)
    kind = Varchar(length=10, default=None)
    points = Integer(null=True, default=None)
    amount = Numeric(digits=(14, 2), null=True, default=None)
    currency = Char(length=3, null=True, default=None)
    status = Varchar(length=10, default="pending")
    paid_at = Timestamptz(null=True, default=None)
    paid_by = UUID(null=True, default=None)
    created_at = Timestamptz()

    referral_rewards_tenant_referred_customer_id_key = Unique([tenant, referred_customer_id])
    referral_rewards_tenant_deal_id_fkey = References(
        [tenant, deal_id], "deals", ["tenant", "id"], on_delete="SET NULL (deal_id)"
    )
    referral_rewards_tenant_paid_by_fkey = References([tenant, paid_by], "memberships", ["tenant", "id"])
    referral_rewards_tenant_referred_customer_id_fkey = References(
        [tenant, referred_customer_id], "customers", ["tenant", "id"], on_delete="CASCADE"
    )
    referral_rewards_tenant_referrer_customer_id_fkey = References(
        [tenant, referrer_customer_id],
        "customers",
        ["tenant", "id"],
        on_delete="SET NULL (referrer_customer_id)",
    )
    referral_rewards_recent = Index("(tenant, status, created_at DESC, id DESC)")


GROWTH_TABLES: list[type[Table]] = [SalesSettings, SalesTask, ReturnVisit, ReferralReward]
