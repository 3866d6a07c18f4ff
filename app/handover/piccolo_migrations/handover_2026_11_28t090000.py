"""Handover (客户移交): plans, their customer assignment, the deals they moved, read grants."""

from app.migrating import sql_migration

ID = "2026-11-28T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "handover: plans, items, moved deals, previous owners' read grants"

SQL = """
CREATE TABLE handover_plans (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    kind varchar(12) NOT NULL DEFAULT 'handover' CHECK (kind IN ('handover', 'dispatch', 'offboarding')),
    status varchar(10) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'executed', 'undone')),
    mode varchar(12) NOT NULL CHECK (mode IN ('single', 'round_robin', 'capacity', 'pool')),
    reason text NOT NULL CHECK (btrim(reason) <> ''),
    selection jsonb NOT NULL,
    targets jsonb NOT NULL,
    options jsonb NOT NULL,
    -- offboarding drafts: the member leaving (one open draft each is reused)
    offboarding_membership_id uuid,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    planned_at timestamptz NOT NULL DEFAULT now(),
    executed_at timestamptz,
    executed_by uuid,
    read_until timestamptz,
    undone_at timestamptz,
    undone_by uuid,
    document_id uuid,
    UNIQUE (tenant, id),
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, offboarding_membership_id) REFERENCES memberships (tenant, id)
);
CREATE INDEX handover_plans_recent ON handover_plans (tenant, created_at DESC, id DESC);
CREATE INDEX handover_plans_offboarding ON handover_plans (tenant, offboarding_membership_id)
    WHERE status = 'draft' AND offboarding_membership_id IS NOT NULL;
SELECT acre_enable_rls('handover_plans');

-- The plan's assignment as previewed: each selected customer, its owner and updated_at as seen then
-- (execute refuses when either changed), and its receiver (NULL with blocked NULL: back to the pool).
CREATE TABLE handover_items (
    tenant uuid NOT NULL,
    plan_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    from_membership_id uuid,
    to_membership_id uuid,
    seen_updated_at timestamptz,
    blocked varchar(20),
    PRIMARY KEY (tenant, plan_id, customer_id),
    FOREIGN KEY (tenant, plan_id) REFERENCES handover_plans (tenant, id) ON DELETE CASCADE
);
SELECT acre_enable_rls('handover_items');

-- Deals an execution moved along with their customers (undo moves them back).
CREATE TABLE handover_deals (
    tenant uuid NOT NULL,
    plan_id uuid NOT NULL,
    deal_id uuid NOT NULL,
    from_membership_id uuid,
    to_membership_id uuid,
    PRIMARY KEY (tenant, plan_id, deal_id),
    FOREIGN KEY (tenant, plan_id) REFERENCES handover_plans (tenant, id) ON DELETE CASCADE
);
SELECT acre_enable_rls('handover_deals');

-- The previous owners keep read access to the customers a plan moved until ``until``
-- (app/customers/access.py honours live grants).
CREATE TABLE handover_read_grants (
    tenant uuid NOT NULL,
    plan_id uuid NOT NULL,
    membership_id uuid NOT NULL,
    until timestamptz NOT NULL,
    PRIMARY KEY (tenant, membership_id, plan_id),
    FOREIGN KEY (tenant, plan_id) REFERENCES handover_plans (tenant, id) ON DELETE CASCADE
);
SELECT acre_enable_rls('handover_read_grants');
"""

forwards = sql_migration(ID, "handover", DESCRIPTION, SQL)
