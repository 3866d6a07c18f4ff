"""Commission splits (佣金分配): the tenant's rule (weights of customer ownership and of stage work) and
each won deal's confirmed split between members."""

from app.migrating import sql_migration

ID = "2026-12-04T19:06:03:000000"
VERSION = "1.38.0"
DESCRIPTION = "deals: commission_rules, commission_splits, commission_split_shares"

SQL = """
CREATE TABLE commission_rules (
    tenant uuid NOT NULL REFERENCES tenants (id),
    ownership_weight smallint NOT NULL,
    stages_weight smallint NOT NULL,
    updated_by uuid,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant),
    CHECK (ownership_weight BETWEEN 0 AND 100 AND stages_weight BETWEEN 0 AND 100
        AND ownership_weight + stages_weight = 100),
    FOREIGN KEY (tenant, updated_by) REFERENCES memberships (tenant, id)
);
SELECT acre_enable_rls('commission_rules');

-- One confirmed split per deal (confirming again replaces it; the audit log keeps each version).
CREATE TABLE commission_splits (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    deal_id uuid NOT NULL,
    rule jsonb NOT NULL,
    suggested jsonb NOT NULL,
    confirmed_by uuid NOT NULL,
    confirmed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, deal_id),
    FOREIGN KEY (tenant, deal_id) REFERENCES deals (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, confirmed_by) REFERENCES memberships (tenant, id)
);
SELECT acre_enable_rls('commission_splits');
CREATE INDEX commission_splits_recent ON commission_splits (tenant, confirmed_at DESC, id DESC);

CREATE TABLE commission_split_shares (
    tenant uuid NOT NULL REFERENCES tenants (id),
    split_id uuid NOT NULL,
    membership_id uuid NOT NULL,
    percent numeric(5, 2) NOT NULL CHECK (percent > 0 AND percent <= 100),
    PRIMARY KEY (tenant, split_id, membership_id),
    FOREIGN KEY (tenant, split_id) REFERENCES commission_splits (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id)
);
SELECT acre_enable_rls('commission_split_shares');
"""

forwards = sql_migration(ID, "deals", DESCRIPTION, SQL)
