"""Deals: the software vendor's project registration (项目报备) of a deal — vendor, registration number,
registered on, protected until, status — and the team that registered it (the customer's territory
at the time)."""

from app.migrating import sql_migration

ID = "2026-12-04T19:07:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "deals: vendor_registrations"

SQL = """
-- One registration per deal. Live: status 'active' and protected_until not past. A live one exempts
-- the customer from auto-reclaim and keeps it with the registering team (territory_id, a territory
-- with its subtree and the territories above it): anyone else claims it only with a manager's
-- approval. territory_id NULL (the territory was merged away): the customer's territory now.
CREATE TABLE vendor_registrations (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    deal_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    territory_id uuid,
    vendor varchar(100) NOT NULL,
    registration_no varchar(100) NOT NULL,
    registered_on date NOT NULL,
    protected_until date NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'active',
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, deal_id),
    UNIQUE (tenant, vendor, registration_no),
    CHECK (status IN ('pending', 'active', 'rejected', 'released')),
    CHECK (protected_until >= registered_on),
    FOREIGN KEY (tenant, deal_id) REFERENCES deals (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE SET NULL (territory_id),
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id)
);
CREATE INDEX vendor_registrations_expiry ON vendor_registrations (tenant, vendor, protected_until, id);
CREATE INDEX vendor_registrations_live ON vendor_registrations (tenant, customer_id) WHERE status = 'active';
SELECT acre_enable_rls('vendor_registrations');
"""

forwards = sql_migration(ID, "deals", DESCRIPTION, SQL)
