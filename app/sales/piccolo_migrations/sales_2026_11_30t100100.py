"""Sales management, growth: cadence and reward settings, follow-up tasks, referral contact and
rewards, after-sales return visits, and the indexes of the funnel."""

from app.migrating import sql_migration

ID = "2026-11-30T10:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sales: cadences, tasks, referral rewards, return visits, funnel indexes"

SQL = """
-- Per-tenant settings of the growth features, one JSON document per (tenant, name); a tenant
-- without a row has the defaults in the code (app/sales/cadences.py, app/sales/referrals.py).
CREATE TABLE sales_settings (
    tenant uuid NOT NULL REFERENCES tenants (id),
    name varchar(20) NOT NULL CHECK (name IN ('cadences', 'referral_reward')),
    settings jsonb NOT NULL,
    updated_by uuid,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, name),
    FOREIGN KEY (tenant, updated_by) REFERENCES memberships (tenant, id)
);
SELECT acre_enable_rls('sales_settings');

-- After-sales return visits (回访), scheduled when a customer is won.
CREATE TABLE return_visits (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    customer_id uuid NOT NULL,
    deal_id uuid,
    assignee_membership_id uuid NOT NULL,
    offset_days integer NOT NULL CHECK (offset_days BETWEEN 1 AND 3650),
    scheduled_from date NOT NULL,
    due_on date NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'done', 'skipped')),
    satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5),
    notes text,
    new_needs text,
    followup_id uuid,
    new_deal_id uuid,
    logged_at timestamptz,
    logged_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    -- the won hook runs once per win; this keeps a replay from scheduling twice
    UNIQUE (tenant, customer_id, scheduled_from, offset_days),
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, deal_id) REFERENCES deals (tenant, id) ON DELETE SET NULL (deal_id),
    FOREIGN KEY (tenant, new_deal_id) REFERENCES deals (tenant, id) ON DELETE SET NULL (new_deal_id),
    FOREIGN KEY (tenant, assignee_membership_id) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, logged_by) REFERENCES memberships (tenant, id),
    FOREIGN KEY (followup_id) REFERENCES customer_followups (id) ON DELETE SET NULL
);
CREATE INDEX return_visits_due ON return_visits (tenant, due_on, id);
CREATE INDEX return_visits_assignee ON return_visits (tenant, assignee_membership_id, due_on, id);
SELECT acre_enable_rls('return_visits');

-- Follow-up tasks: made by the daily cadence job, by a return visit, or by hand.
CREATE TABLE sales_tasks (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    customer_id uuid NOT NULL,
    assignee_membership_id uuid NOT NULL,
    kind varchar(10) NOT NULL CHECK (kind IN ('call', 'visit')),
    source varchar(12) NOT NULL CHECK (source IN ('cadence', 'return_visit', 'manual')),
    due_on date NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'skipped')),
    note text,
    return_visit_id uuid,
    closed_at timestamptz,
    closed_by uuid,
    close_reason text,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    CHECK ((source = 'return_visit') = (return_visit_id IS NOT NULL)),
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, assignee_membership_id) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, closed_by) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, return_visit_id) REFERENCES return_visits (tenant, id) ON DELETE CASCADE
);
-- The cadence job is idempotent: at most one open cadence task per customer and kind.
CREATE UNIQUE INDEX sales_tasks_open_cadence ON sales_tasks (tenant, customer_id, kind)
    WHERE status = 'open' AND source = 'cadence';
CREATE INDEX sales_tasks_open_customer ON sales_tasks (tenant, customer_id, kind) WHERE status = 'open';
CREATE INDEX sales_tasks_assignee ON sales_tasks (tenant, assignee_membership_id, status, due_on, id);
CREATE INDEX sales_tasks_due ON sales_tasks (tenant, status, due_on, id);
SELECT acre_enable_rls('sales_tasks');

-- Referrals (转介绍): the referring person's contact beside the existing referrer (name) and
-- referrer_customer_id of customers.
ALTER TABLE customers ADD COLUMN referrer_contact varchar(200);
CREATE INDEX customers_referrer ON customers (tenant, referrer_customer_id)
    WHERE referrer_customer_id IS NOT NULL;

-- One reward per referred customer, made when it is won.
CREATE TABLE referral_rewards (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    referred_customer_id uuid NOT NULL,
    referrer_customer_id uuid,
    referrer_name varchar(200),
    deal_id uuid,
    kind varchar(10) NOT NULL CHECK (kind IN ('points', 'amount')),
    points integer CHECK (points > 0),
    amount numeric(14, 2) CHECK (amount > 0),
    currency char(3),
    status varchar(10) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid')),
    paid_at timestamptz,
    paid_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    UNIQUE (tenant, referred_customer_id),
    CHECK ((kind = 'points') = (points IS NOT NULL)),
    CHECK ((kind = 'amount') = (amount IS NOT NULL AND currency IS NOT NULL)),
    FOREIGN KEY (tenant, referred_customer_id) REFERENCES customers (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, referrer_customer_id) REFERENCES customers (tenant, id)
        ON DELETE SET NULL (referrer_customer_id),
    FOREIGN KEY (tenant, deal_id) REFERENCES deals (tenant, id) ON DELETE SET NULL (deal_id),
    FOREIGN KEY (tenant, paid_by) REFERENCES memberships (tenant, id)
);
CREATE INDEX referral_rewards_recent ON referral_rewards (tenant, status, created_at DESC, id DESC);
SELECT acre_enable_rls('referral_rewards');

-- The funnel: a tenant's (or a rep's) follow-ups of a period, read from the index alone.
CREATE INDEX customer_followups_period ON customer_followups (tenant, happened_at)
    INCLUDE (author_membership_id, customer_id, kind, result);
CREATE INDEX customer_followups_author ON customer_followups (tenant, author_membership_id, happened_at)
    INCLUDE (customer_id, kind, result);
CREATE INDEX deal_stage_changes_closing ON deal_stage_changes (tenant, at)
    INCLUDE (deal_id) WHERE to_stage IN ('signed', 'won');
"""

forwards = sql_migration(ID, "sales", DESCRIPTION, SQL)
