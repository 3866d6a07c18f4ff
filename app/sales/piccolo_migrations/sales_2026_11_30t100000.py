"""Sales management, field work: daily visit plans with their items, daily reports, market
incidents, weekly territory reports and targets (with their decomposition)."""

from app.migrating import sql_migration

ID = "2026-11-30T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sales: visit plans, daily reports, market incidents, weekly reports, targets"

SQL = """
-- Plan items link the follow-up that logged the visit with a composite key (tenant, id).
CREATE UNIQUE INDEX IF NOT EXISTS customer_followups_tenant_id ON customer_followups (tenant, id);

CREATE TABLE visit_plans (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    membership_id uuid NOT NULL,
    plan_date date NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'approved', 'returned')),
    comment text,
    submitted_at timestamptz,
    decided_by uuid,
    decided_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    UNIQUE (tenant, membership_id, plan_date),
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, decided_by) REFERENCES memberships (tenant, id)
);
CREATE INDEX visit_plans_day ON visit_plans (tenant, plan_date DESC, id DESC);
SELECT acre_enable_rls('visit_plans');

CREATE TABLE visit_plan_items (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    plan_id uuid NOT NULL,
    position smallint NOT NULL,
    customer_id uuid NOT NULL,
    planned_time time NOT NULL,
    purpose varchar(12) NOT NULL
        CHECK (purpose IN ('development', 'research', 'collection', 'service', 'complaint', 'order')),
    note text,
    followup_id uuid,
    done_at timestamptz,
    UNIQUE (tenant, plan_id, position),
    FOREIGN KEY (tenant, plan_id) REFERENCES visit_plans (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id),
    FOREIGN KEY (tenant, followup_id) REFERENCES customer_followups (tenant, id)
);
CREATE INDEX visit_plan_items_customer ON visit_plan_items (tenant, customer_id);
SELECT acre_enable_rls('visit_plan_items');

CREATE TABLE daily_reports (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    membership_id uuid NOT NULL,
    report_date date NOT NULL,
    figures jsonb NOT NULL,
    competitor_news text,
    customer_feedback text,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    UNIQUE (tenant, membership_id, report_date),
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id)
);
CREATE INDEX daily_reports_day ON daily_reports (tenant, report_date DESC, id DESC);
SELECT acre_enable_rls('daily_reports');

CREATE TABLE market_incidents (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    membership_id uuid NOT NULL,
    report_id uuid,
    customer_id uuid,
    severity varchar(10) NOT NULL CHECK (severity IN ('normal', 'serious')),
    title varchar(200) NOT NULL,
    description text NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, report_id) REFERENCES daily_reports (tenant, id),
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id)
);
CREATE INDEX market_incidents_recent ON market_incidents (tenant, created_at DESC, id DESC);
SELECT acre_enable_rls('market_incidents');

CREATE TABLE weekly_reports (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    -- history outlives its territory (merged or deleted): the id goes NULL, the name stays
    territory_id uuid,
    territory_name varchar(200) NOT NULL,
    week_start date NOT NULL CHECK (extract(isodow FROM week_start) = 1),
    figures jsonb NOT NULL,
    competitor_notes text,
    next_week_plan text,
    plan_updated_by uuid,
    plan_updated_at timestamptz,
    generated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    UNIQUE (tenant, territory_id, week_start),
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE SET NULL (territory_id),
    FOREIGN KEY (tenant, plan_updated_by) REFERENCES memberships (tenant, id)
);
CREATE INDEX weekly_reports_week ON weekly_reports (tenant, week_start DESC, id DESC);
SELECT acre_enable_rls('weekly_reports');

-- The weekly report reads a week's closing stage changes (won, signed and lost) of a whole tenant;
-- its follow-ups by time come through customer_followups_period (sales_2026_11_30t100100).
CREATE INDEX deal_stage_changes_field_closing ON deal_stage_changes (tenant, at)
    INCLUDE (deal_id, to_stage) WHERE to_stage IN ('signed', 'won', 'lost');
CREATE INDEX collections_paid_at_field ON collections (tenant, paid_at) INCLUDE (deal_id, paid_amount, currency)
    WHERE paid_at IS NOT NULL;
CREATE INDEX collection_payments_field_paid_on ON collection_payments (tenant, paid_on)
    INCLUDE (collection_id, amount, currency);

CREATE TABLE targets (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    metric varchar(16) NOT NULL CHECK (metric IN ('amount', 'gross_margin', 'new_customers', 'collections')),
    scope_type varchar(10) NOT NULL CHECK (scope_type IN ('tenant', 'territory', 'rep')),
    territory_id uuid,
    membership_id uuid,
    period varchar(8) NOT NULL CHECK (period IN ('month', 'quarter', 'year')),
    period_start date NOT NULL,
    value numeric(16, 2) NOT NULL CHECK (value >= 0),
    currency char(3),
    parent_id uuid,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    CHECK ((scope_type = 'tenant') = (territory_id IS NULL AND membership_id IS NULL)),
    CHECK (scope_type <> 'territory' OR (territory_id IS NOT NULL AND membership_id IS NULL)),
    CHECK (scope_type <> 'rep' OR (membership_id IS NOT NULL AND territory_id IS NULL)),
    CHECK ((metric = 'new_customers') = (currency IS NULL)),
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, parent_id) REFERENCES targets (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id)
);
CREATE UNIQUE INDEX targets_one ON targets (tenant, metric, scope_type,
    coalesce(territory_id, '00000000-0000-0000-0000-000000000000'::uuid),
    coalesce(membership_id, '00000000-0000-0000-0000-000000000000'::uuid), period, period_start);
CREATE INDEX targets_period ON targets (tenant, period_start DESC, id DESC);
CREATE INDEX targets_parent ON targets (tenant, parent_id) WHERE parent_id IS NOT NULL;
SELECT acre_enable_rls('targets');
"""

forwards = sql_migration(ID, "sales", DESCRIPTION, SQL)
