"""Customers, their grade history, contacts, follow-ups, and duplicate-claim conflicts."""

from app.migrating import sql_migration

ID = "2026-11-24T09:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: customers, grade history, contacts, follow-ups, conflicts, bigram search"

SQL = """
-- Name search without pg_trgm (the embedded PostgreSQL has no contrib): the distinct character
-- bigrams of the normalised name, each prefixed with the first 8 hex digits of the tenant id so a
-- tenant's search reads only (almost only) its own posting lists. A GIN index on it answers
-- "contains every bigram of the query" (@>); the query then rechecks with LIKE, which also throws
-- away the rare rows of another tenant sharing the prefix.
CREATE FUNCTION acre_search_grams(p_tenant uuid, p_text text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
        SELECT coalesce(array_agg(DISTINCT left(p_tenant::text, 8) || substr(p_text, i, 2)), '{}')
        FROM generate_series(1, length(p_text) - 1) AS i
    $$;

CREATE TABLE customers (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    full_name varchar(200) NOT NULL,
    short_name varchar(100),
    tax_id varchar(18) COLLATE "C",
    address varchar(500),
    phone varchar(40),
    phone_digits varchar(40) COLLATE "C",
    industry varchar(100),
    size_revenue_band varchar(50),
    headcount integer CHECK (headcount >= 0),
    it_status varchar(20) NOT NULL DEFAULT 'none' CHECK (it_status IN ('none', 'uses_software')),
    current_software varchar(200),
    source varchar(20) CHECK (source IN ('event', 'telemarketing', 'inbound', 'cold_visit', 'list',
                                         'trade_show', 'web', 'referral', 'upsell')),
    referrer varchar(200),
    referrer_customer_id uuid,
    grade char(1) NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D')),
    status varchar(10) NOT NULL DEFAULT 'prospect' CHECK (status IN ('prospect', 'won', 'lost', 'closed')),
    territory_id uuid NOT NULL,
    owner_membership_id uuid,
    identity_key text COLLATE "C" NOT NULL,
    name_key text COLLATE "C" NOT NULL,
    search_text text NOT NULL,
    last_followup_at timestamptz,
    next_followup_at timestamptz,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id),
    UNIQUE (tenant, id),
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id),
    FOREIGN KEY (tenant, owner_membership_id) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, referrer_customer_id) REFERENCES customers (tenant, id)
        ON DELETE SET NULL (referrer_customer_id)
);
-- The duplicate guard: one company once per tenant (tax id when known, else the name key).
CREATE UNIQUE INDEX customers_identity ON customers (tenant, identity_key);
CREATE INDEX customers_name_key ON customers (tenant, name_key);
CREATE INDEX customers_tax_id ON customers (tenant, tax_id) WHERE tax_id IS NOT NULL;
CREATE INDEX customers_phone ON customers (tenant, phone_digits) WHERE phone_digits IS NOT NULL;
CREATE INDEX customers_recent ON customers (tenant, created_at DESC, id DESC);
CREATE INDEX customers_territory ON customers (tenant, territory_id, created_at DESC, id DESC);
CREATE INDEX customers_owner ON customers (tenant, owner_membership_id, created_at DESC, id DESC);
CREATE INDEX customers_search ON customers USING gin (acre_search_grams(tenant, search_text));
SELECT acre_enable_rls('customers');

CREATE TABLE customer_grade_changes (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    customer_id uuid NOT NULL,
    from_grade char(1),
    to_grade char(1) NOT NULL CHECK (to_grade IN ('A', 'B', 'C', 'D')),
    changed_by uuid,
    reason text,
    changed_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, changed_by) REFERENCES memberships (tenant, id)
);
CREATE INDEX customer_grade_changes_customer ON customer_grade_changes (tenant, customer_id, changed_at, id);
SELECT acre_enable_rls('customer_grade_changes');

CREATE TABLE customer_contacts (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    customer_id uuid NOT NULL,
    name varchar(100) NOT NULL,
    title varchar(100),
    phone varchar(40),
    email varchar(320),
    decision_role varchar(20) NOT NULL DEFAULT 'other'
        CHECK (decision_role IN ('approver', 'decision_maker', 'influencer', 'gatekeeper', 'user', 'other')),
    influence smallint CHECK (influence BETWEEN 1 AND 5),
    support smallint CHECK (support BETWEEN 1 AND 5),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id) ON DELETE CASCADE
);
CREATE INDEX customer_contacts_customer ON customer_contacts (tenant, customer_id, created_at, id);
SELECT acre_enable_rls('customer_contacts');

CREATE TABLE customer_followups (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    customer_id uuid NOT NULL,
    author_membership_id uuid,
    kind varchar(10) NOT NULL CHECK (kind IN ('call', 'visit', 'meeting', 'message', 'demo', 'other')),
    happened_at timestamptz NOT NULL,
    summary text NOT NULL,
    outcome text,
    next_followup_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, author_membership_id) REFERENCES memberships (tenant, id)
);
CREATE INDEX customer_followups_customer ON customer_followups (tenant, customer_id, happened_at DESC, id DESC);
SELECT acre_enable_rls('customer_followups');

-- A rep entered a company that already exists (撞单): the item goes to the managers of the
-- existing customer's territory.
CREATE TABLE customer_conflicts (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    customer_id uuid NOT NULL,
    attempted_by uuid,
    attempted_data jsonb NOT NULL,
    territory_id uuid NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolved_by uuid,
    resolution text,
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, attempted_by) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, resolved_by) REFERENCES memberships (tenant, id)
);
CREATE INDEX customer_conflicts_open ON customer_conflicts (tenant, territory_id, created_at DESC, id DESC)
    WHERE status = 'open';
CREATE INDEX customer_conflicts_recent ON customer_conflicts (tenant, status, created_at DESC, id DESC);
SELECT acre_enable_rls('customer_conflicts');
"""

forwards = sql_migration(ID, "customers", DESCRIPTION, SQL)
