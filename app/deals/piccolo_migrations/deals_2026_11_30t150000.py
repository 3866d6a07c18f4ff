"""Deals, second step: the pipeline summary's index, partial payments of collection items, and
edited payment milestones on the contract terms."""

from app.migrating import sql_migration

ID = "2026-11-30T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "deals: pipeline index, collection payments, editable milestones"

SQL = """
-- The pipeline summary filters by expected close date and aggregates these columns only.
CREATE INDEX deals_pipeline ON deals (tenant, expected_close_date)
    INCLUDE (stage, owner_membership_id, customer_id, currency, amount, probability);

ALTER TABLE collections ADD CONSTRAINT collections_tenant_id UNIQUE (tenant, id);

-- Payments of one collection item (partial payments add up; the item is paid when they reach its
-- amount). ``collections.paid_amount`` keeps the running sum, ``paid_at`` is set when it is paid.
CREATE TABLE collection_payments (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    collection_id uuid NOT NULL,
    amount numeric(14, 2) NOT NULL CHECK (amount > 0),
    currency char(3) NOT NULL,
    paid_on date NOT NULL,
    note text,
    actor uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    FOREIGN KEY (tenant, collection_id) REFERENCES collections (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, actor) REFERENCES memberships (tenant, id)
);
CREATE INDEX collection_payments_item ON collection_payments (tenant, collection_id, created_at, id);
SELECT acre_enable_rls('collection_payments');
CREATE INDEX collections_deal_due ON collections (tenant, deal_id, due_date);
CREATE INDEX collections_list ON collections (tenant, due_date, id);

-- Milestones edited by hand (NULL: generated from the rule). A JSON list of
-- {code, percent, amount, due_days}; the service checks they add up to the contract total.
ALTER TABLE contract_terms ADD COLUMN milestones jsonb;
"""

forwards = sql_migration(ID, "deals", DESCRIPTION, SQL)
