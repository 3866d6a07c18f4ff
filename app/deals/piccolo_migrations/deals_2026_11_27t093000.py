"""Deals: the price list, deals with stage history, stage rules, quotes with lines, approvals,
contract terms and collection items (回款)."""

from app.migrating import sql_migration

ID = "2026-11-27T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "deals: products, deals, stage history and rules, quotes, approvals, contract terms, collections"

SQL = """
CREATE TABLE products (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    sku varchar(64) NOT NULL,
    name varchar(200) NOT NULL,
    edition varchar(100),
    unit varchar(20) NOT NULL
        CHECK (unit IN ('seat', 'licence', 'module', 'service_day', 'maintenance_year')),
    list_price numeric(14, 2) NOT NULL CHECK (list_price >= 0),
    floor_price numeric(14, 2) NOT NULL CHECK (floor_price >= 0),
    currency char(3) NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    UNIQUE (tenant, sku),
    CHECK (floor_price <= list_price)
);
CREATE INDEX products_list ON products (tenant, sku);
SELECT acre_enable_rls('products');

CREATE TABLE deals (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    customer_id uuid NOT NULL,
    owner_membership_id uuid NOT NULL,
    title varchar(200) NOT NULL,
    amount numeric(14, 2) NOT NULL CHECK (amount >= 0),
    currency char(3) NOT NULL,
    expected_close_date date,
    stage varchar(20) NOT NULL DEFAULT 'prospect_list' CHECK (stage IN ('prospect_list', 'first_visit',
        'exchange_research', 'demo', 'formal_quote', 'objections_cleared', 'negotiation', 'signed',
        'won', 'lost')),
    probability smallint NOT NULL CHECK (probability BETWEEN 0 AND 100),
    lost_reason text,
    key_info jsonb NOT NULL DEFAULT '{}',
    decision_people jsonb NOT NULL DEFAULT '[]',
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz,
    UNIQUE (tenant, id),
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id),
    FOREIGN KEY (tenant, owner_membership_id) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id)
);
CREATE INDEX deals_recent ON deals (tenant, created_at DESC, id DESC);
CREATE INDEX deals_owner ON deals (tenant, owner_membership_id, created_at DESC, id DESC);
CREATE INDEX deals_customer ON deals (tenant, customer_id);
-- The pool's reclaim exemption and the territory impact read open deals only.
CREATE INDEX deals_open ON deals (tenant, customer_id, stage) WHERE stage NOT IN ('won', 'lost');
SELECT acre_enable_rls('deals');

CREATE TABLE deal_stage_changes (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    deal_id uuid NOT NULL,
    from_stage varchar(20),
    to_stage varchar(20) NOT NULL,
    reason text,
    actor uuid,
    approval_id uuid,
    at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant, deal_id) REFERENCES deals (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, actor) REFERENCES memberships (tenant, id)
);
CREATE INDEX deal_stage_changes_deal ON deal_stage_changes (tenant, deal_id, at, id);
SELECT acre_enable_rls('deal_stage_changes');

CREATE TABLE deal_stage_rules (
    tenant uuid NOT NULL REFERENCES tenants (id) PRIMARY KEY,
    rules jsonb NOT NULL,
    updated_by uuid,
    updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT acre_enable_rls('deal_stage_rules');

CREATE TABLE quotes (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    deal_id uuid NOT NULL,
    round smallint NOT NULL CHECK (round BETWEEN 1 AND 3),
    formal boolean NOT NULL DEFAULT true,
    currency char(3) NOT NULL,
    tax_rate numeric(5, 2) NOT NULL CHECK (tax_rate BETWEEN 0 AND 100),
    valid_until date NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'pending', 'approved', 'rejected', 'sent')),
    needs_approval boolean NOT NULL,
    subtotal numeric(14, 2) NOT NULL,
    discount numeric(14, 2) NOT NULL,
    tax numeric(14, 2) NOT NULL,
    total numeric(14, 2) NOT NULL,
    note text,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    UNIQUE (tenant, id),
    UNIQUE (tenant, deal_id, round),
    FOREIGN KEY (tenant, deal_id) REFERENCES deals (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id)
);
SELECT acre_enable_rls('quotes');

CREATE TABLE quote_lines (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    quote_id uuid NOT NULL,
    line_no smallint NOT NULL,
    product_id uuid NOT NULL,
    sku varchar(64) NOT NULL,
    name varchar(200) NOT NULL,
    edition varchar(100),
    unit varchar(20) NOT NULL,
    quantity numeric(12, 2) NOT NULL CHECK (quantity > 0),
    list_price numeric(14, 2) NOT NULL,
    floor_price numeric(14, 2) NOT NULL,
    unit_price numeric(14, 2) NOT NULL CHECK (unit_price >= 0),
    discount_percent numeric(5, 2) NOT NULL CHECK (discount_percent BETWEEN 0 AND 100),
    amount numeric(14, 2) NOT NULL,
    below_floor boolean NOT NULL,
    UNIQUE (tenant, quote_id, line_no),
    FOREIGN KEY (tenant, quote_id) REFERENCES quotes (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, product_id) REFERENCES products (tenant, id)
);
SELECT acre_enable_rls('quote_lines');

-- Approval requests: quotes (floor price, formal quote) and stage skips today; ``kind`` leaves room
-- for others (cross-territory work). The inbox filters by the deal's customer's territory.
CREATE TABLE approvals (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    kind varchar(20) NOT NULL,
    subject_id uuid NOT NULL,
    deal_id uuid,
    territory_id uuid,
    requested_by uuid,
    status varchar(10) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
    payload jsonb NOT NULL DEFAULT '{}',
    comment text,
    decided_by uuid,
    decided_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant, deal_id) REFERENCES deals (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE SET NULL (territory_id),
    FOREIGN KEY (tenant, requested_by) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, decided_by) REFERENCES memberships (tenant, id)
);
CREATE UNIQUE INDEX approvals_one_pending ON approvals (tenant, kind, subject_id) WHERE status = 'pending';
CREATE INDEX approvals_inbox ON approvals (tenant, status, created_at DESC, id DESC);
SELECT acre_enable_rls('approvals');

CREATE TABLE contract_terms (
    tenant uuid NOT NULL,
    deal_id uuid NOT NULL,
    quote_id uuid,
    party_a_full_name varchar(200),
    party_a_address varchar(500),
    party_a_contact varchar(100),
    party_a_phone varchar(40),
    free_upgrade_years smallint NOT NULL DEFAULT 1 CHECK (free_upgrade_years BETWEEN 0 AND 10),
    onsite_service_chargeable boolean NOT NULL DEFAULT true,
    onsite_fee_per_day numeric(14, 2),
    delivery_percent smallint NOT NULL DEFAULT 60 CHECK (delivery_percent BETWEEN 50 AND 70),
    stable_weeks smallint NOT NULL DEFAULT 2 CHECK (stable_weeks BETWEEN 1 AND 2),
    installation_days smallint NOT NULL DEFAULT 30 CHECK (installation_days BETWEEN 1 AND 365),
    updated_by uuid,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, deal_id),
    FOREIGN KEY (tenant, deal_id) REFERENCES deals (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, quote_id) REFERENCES quotes (tenant, id) ON DELETE SET NULL (quote_id)
);
SELECT acre_enable_rls('contract_terms');

CREATE TABLE collections (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    deal_id uuid NOT NULL,
    seq smallint NOT NULL,
    code varchar(10) NOT NULL CHECK (code IN ('full', 'deposit', 'delivery', 'balance')),
    percent smallint NOT NULL,
    amount numeric(14, 2) NOT NULL,
    currency char(3) NOT NULL,
    due_date date NOT NULL,
    paid_at timestamptz,
    paid_amount numeric(14, 2),
    paid_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, deal_id, seq),
    FOREIGN KEY (tenant, deal_id) REFERENCES deals (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, paid_by) REFERENCES memberships (tenant, id)
);
CREATE INDEX collections_due ON collections (tenant, due_date) WHERE paid_at IS NULL;
SELECT acre_enable_rls('collections');
"""

forwards = sql_migration(ID, "deals", DESCRIPTION, SQL)
