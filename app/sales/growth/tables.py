"""Piccolo descriptions of the growth tables (cadences, tasks, referrals, return visits). The schema
itself is the hand-written SQL migration (``sales_2026_11_30t100100``)."""

from piccolo.columns import JSONB, UUID, Date, Integer, Numeric, SmallInt, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB


class SalesSettings(Table, tablename="sales_settings", db=DB):
    tenant = UUID(primary_key=True)
    name = Varchar(length=20)
    settings = JSONB()
    updated_by = UUID(null=True)
    updated_at = Timestamptz()


class SalesTask(Table, tablename="sales_tasks", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    customer_id = UUID()
    assignee_membership_id = UUID()
    kind = Varchar(length=10)
    source = Varchar(length=12)
    due_on = Date()
    status = Varchar(length=10)
    note = Text(null=True)
    return_visit_id = UUID(null=True)
    closed_at = Timestamptz(null=True)
    closed_by = UUID(null=True)
    close_reason = Text(null=True)
    created_by = UUID(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ReturnVisit(Table, tablename="return_visits", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    customer_id = UUID()
    deal_id = UUID(null=True)
    assignee_membership_id = UUID()
    offset_days = Integer()
    scheduled_from = Date()
    due_on = Date()
    status = Varchar(length=10)
    satisfaction = SmallInt(null=True)
    notes = Text(null=True)
    new_needs = Text(null=True)
    followup_id = UUID(null=True)
    new_deal_id = UUID(null=True)
    logged_at = Timestamptz(null=True)
    logged_by = UUID(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ReferralReward(Table, tablename="referral_rewards", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    referred_customer_id = UUID()
    referrer_customer_id = UUID(null=True)
    referrer_name = Varchar(length=200, null=True)
    deal_id = UUID(null=True)
    kind = Varchar(length=10)
    points = Integer(null=True)
    amount = Numeric(digits=(14, 2), null=True)
    currency = Varchar(length=3, null=True)
    status = Varchar(length=10)
    paid_at = Timestamptz(null=True)
    paid_by = UUID(null=True)
    created_at = Timestamptz()


GROWTH_TABLES: list[type[Table]] = [SalesSettings, SalesTask, ReturnVisit, ReferralReward]
