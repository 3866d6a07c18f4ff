"""The pool (公海): the owner clock, pool and reclaim indexes, pool rules, cross-territory grants."""

from app.migrating import sql_migration

ID = "2026-11-26T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: pool indexes, owner_changed_at, pool_rules, cross_territory_grants"

SQL = """
-- When the customer last changed hands (into the pool or to a member). Auto-reclaim counts from
-- GREATEST(last follow-up, this): a customer claimed today is not reclaimed for an old follow-up.
-- A trigger keeps it right whatever path changes the owner (claim, handover, import, sweep).
ALTER TABLE customers ADD COLUMN owner_changed_at timestamptz NOT NULL DEFAULT now();
CREATE FUNCTION acre_customers_owner_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.owner_changed_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER customers_owner_changed BEFORE UPDATE OF owner_membership_id ON customers
    FOR EACH ROW WHEN (NEW.owner_membership_id IS DISTINCT FROM OLD.owner_membership_id)
    EXECUTE FUNCTION acre_customers_owner_changed();

-- The pool page: partial, because most customers are owned (a plain index reads and throws away
-- ~85% of what it reads). By territory and grade, oldest follow-up first; and tenant-wide.
CREATE INDEX customers_pool ON customers (tenant, territory_id, grade, last_followup_at NULLS FIRST, id)
    WHERE owner_membership_id IS NULL AND status IN ('prospect', 'lost');
CREATE INDEX customers_pool_order ON customers (tenant, last_followup_at NULLS FIRST, id)
    WHERE owner_membership_id IS NULL AND status IN ('prospect', 'lost');
-- The reclaim sweep and warnings: owned prospects by grade and reclaim clock (one range per grade).
CREATE INDEX customers_reclaim_clock
    ON customers (tenant, grade, (GREATEST(last_followup_at, owner_changed_at)))
    WHERE owner_membership_id IS NOT NULL AND status = 'prospect';
-- The daily claim cap counts a member's claims since midnight.
CREATE INDEX customer_ownership_history_claims ON customer_ownership_history (tenant, to_membership_id, at)
    WHERE cause = 'claim';

CREATE TABLE pool_rules (
    tenant uuid NOT NULL PRIMARY KEY REFERENCES tenants (id),
    rules jsonb NOT NULL,
    updated_by uuid,
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant, updated_by) REFERENCES memberships (tenant, id)
);
SELECT acre_enable_rls('pool_rules');

-- 跨区: a manager lets a member work one customer, or a territory (with its subtree), of a
-- territory they manage, until a date.
CREATE TABLE cross_territory_grants (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    membership_id uuid NOT NULL,
    customer_id uuid,
    territory_id uuid,
    reason text,
    granted_by uuid,
    until timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CHECK ((customer_id IS NULL) <> (territory_id IS NULL)),
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, granted_by) REFERENCES memberships (tenant, id)
);
CREATE INDEX cross_territory_grants_member ON cross_territory_grants (tenant, membership_id, until)
    WHERE revoked_at IS NULL;
CREATE INDEX cross_territory_grants_recent ON cross_territory_grants (tenant, created_at DESC, id DESC);
SELECT acre_enable_rls('cross_territory_grants');
"""

forwards = sql_migration(ID, "customers", DESCRIPTION, SQL)
