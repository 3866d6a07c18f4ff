"""Handover plans and their assignment. Tenant tables under RLS; the schema is the SQL migration."""

from piccolo.columns import JSONB, UUID, ForeignKey, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References
from tenants.tables import Tenant


class HandoverPlan(Table, tablename="handover_plans", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    kind = Varchar(length=12, default="handover")
    status = Varchar(length=10, default="draft")
    mode = Varchar(length=12, default=None)
    reason = Text(default=None)
    selection = JSONB(default=None)
    targets = JSONB(default=None)
    options = JSONB(default=None)
    offboarding_membership_id = UUID(null=True, default=None)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    planned_at = Timestamptz()
    executed_at = Timestamptz(null=True, default=None)
    executed_by = UUID(null=True, default=None)
    read_until = Timestamptz(null=True, default=None)
    undone_at = Timestamptz(null=True, default=None)
    undone_by = UUID(null=True, default=None)
    document_id = UUID(null=True, default=None)
    realign = JSONB(null=True, default=None)

    handover_plans_tenant_created_by_fkey = References([tenant, created_by], "memberships", ["tenant", "id"])
    handover_plans_tenant_offboarding_membership_id_fkey = References(
        [tenant, offboarding_membership_id], "memberships", ["tenant", "id"]
    )
    handover_plans_offboarding = Index(
        "(tenant, offboarding_membership_id) WHERE status = 'draft' AND offboarding_membership_id IS NOT NULL"
    )
    handover_plans_recent = Index("(tenant, created_at DESC, id DESC)")
    handover_plans_status = Index("(tenant, status, kind, created_at DESC, id DESC)")


class HandoverItem(Table, tablename="handover_items", db=DB):
    tenant = UUID(primary_key=True, default=None)
    plan_id = UUID(primary_key=True, default=None)
    customer_id = UUID(primary_key=True, default=None)
    from_membership_id = UUID(null=True, default=None)
    to_membership_id = UUID(null=True, default=None)
    seen_updated_at = Timestamptz(null=True, default=None)
    blocked = Varchar(length=20, null=True, default=None)
    to_territory_id = UUID(null=True, default=None)

    handover_items_tenant_plan_id_fkey = References(
        [tenant, plan_id], "handover_plans", ["tenant", "id"], on_delete="CASCADE"
    )


class HandoverDeal(Table, tablename="handover_deals", db=DB):
    tenant = UUID(primary_key=True, default=None)
    plan_id = UUID(primary_key=True, default=None)
    deal_id = UUID(primary_key=True, default=None)
    from_membership_id = UUID(null=True, default=None)
    to_membership_id = UUID(null=True, default=None)

    handover_deals_tenant_plan_id_fkey = References(
        [tenant, plan_id], "handover_plans", ["tenant", "id"], on_delete="CASCADE"
    )


class HandoverEnvelope(Table, tablename="handover_envelopes", db=DB):
    tenant = UUID(primary_key=True, default=None)
    plan_id = UUID(primary_key=True, default=None)
    envelope_id = UUID(primary_key=True, default=None)
    from_membership_id = UUID(null=True, default=None)
    to_membership_id = UUID(null=True, default=None)

    handover_envelopes_tenant_envelope_id_fkey = References(
        [tenant, envelope_id], "envelopes", ["tenant", "id"]
    )
    handover_envelopes_tenant_plan_id_fkey = References(
        [tenant, plan_id], "handover_plans", ["tenant", "id"], on_delete="CASCADE"
    )


class HandoverReadGrant(Table, tablename="handover_read_grants", db=DB):
    tenant = UUID(primary_key=True, default=None)
    membership_id = UUID(primary_key=True, default=None)
    plan_id = UUID(primary_key=True, default=None)
    until = Timestamptz(default=None)

    handover_read_grants_tenant_plan_id_fkey = References(
        [tenant, plan_id], "handover_plans", ["tenant", "id"], on_delete="CASCADE"
    )


class HandoverCarried(Table, tablename="handover_carried", db=DB):
    tenant = UUID(primary_key=True, default=None)
    plan_id = UUID(primary_key=True, default=None)
    kind = Varchar(length=12, primary_key=True, default=None)
    row_id = UUID(primary_key=True, default=None)
    from_membership_id = UUID(default=None)
    to_membership_id = UUID(default=None)
    from_plan_id = UUID(null=True, default=None)
    from_position = SmallInt(null=True, default=None)

    handover_carried_tenant_plan_id_fkey = References(
        [tenant, plan_id], "handover_plans", ["tenant", "id"], on_delete="CASCADE"
    )
