"""Handover plans and their assignment. Tenant tables under RLS; the schema is the SQL migration."""

from piccolo.columns import JSONB, UUID, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB


class HandoverPlan(Table, tablename="handover_plans", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    kind = Varchar(length=12)
    status = Varchar(length=10)
    mode = Varchar(length=12)
    reason = Text()
    selection = JSONB()
    targets = JSONB()
    options = JSONB()
    offboarding_membership_id = UUID(null=True)
    created_by = UUID(null=True)
    created_at = Timestamptz()
    planned_at = Timestamptz()
    executed_at = Timestamptz(null=True)
    executed_by = UUID(null=True)
    read_until = Timestamptz(null=True)
    undone_at = Timestamptz(null=True)
    undone_by = UUID(null=True)
    document_id = UUID(null=True)
    realign = JSONB(null=True)


class HandoverItem(Table, tablename="handover_items", db=DB):
    tenant = UUID(primary_key=True)
    plan_id = UUID()
    customer_id = UUID()
    from_membership_id = UUID(null=True)
    to_membership_id = UUID(null=True)
    seen_updated_at = Timestamptz(null=True)
    to_territory_id = UUID(null=True)
    blocked = Varchar(length=20, null=True)


class HandoverDeal(Table, tablename="handover_deals", db=DB):
    tenant = UUID(primary_key=True)
    plan_id = UUID()
    deal_id = UUID()
    from_membership_id = UUID(null=True)
    to_membership_id = UUID(null=True)


class HandoverEnvelope(Table, tablename="handover_envelopes", db=DB):
    tenant = UUID(primary_key=True)
    plan_id = UUID()
    envelope_id = UUID()
    from_membership_id = UUID(null=True)
    to_membership_id = UUID(null=True)


class HandoverReadGrant(Table, tablename="handover_read_grants", db=DB):
    tenant = UUID(primary_key=True)
    plan_id = UUID()
    membership_id = UUID()
    until = Timestamptz()
