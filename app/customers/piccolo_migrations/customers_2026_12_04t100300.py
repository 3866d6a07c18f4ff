"""Cross-territory requests (跨区申请): a member asks to work a customer or a territory outside their
own, with a reason and until when; the target territory's managers approve (the grant is made) or
reject."""

from app.migrating import sql_migration

ID = "2026-12-04T10:03:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: cross_territory_requests"

SQL = """
-- A request points at the grant its approval made: by (tenant, id), as Citus needs.
ALTER TABLE cross_territory_grants ADD CONSTRAINT cross_territory_grants_tenant_id_key UNIQUE (tenant, id);

-- pending -> approved (grant_id set) | rejected. One customer (the territory is the customer's,
-- where it is now) or one territory (with its subtree), as a grant.
CREATE TABLE cross_territory_requests (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    membership_id uuid NOT NULL,
    customer_id uuid,
    territory_id uuid,
    reason text NOT NULL,
    until timestamptz NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'pending',
    comment text,
    decided_by uuid,
    decided_at timestamptz,
    grant_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    CHECK ((customer_id IS NULL) <> (territory_id IS NULL)),
    CHECK (status IN ('pending', 'approved', 'rejected')),
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, decided_by) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, grant_id) REFERENCES cross_territory_grants (tenant, id) ON DELETE CASCADE
);
-- One open request per member and target.
CREATE UNIQUE INDEX cross_territory_requests_one_pending
    ON cross_territory_requests (tenant, membership_id, (coalesce(customer_id, territory_id)))
    WHERE status = 'pending';
CREATE INDEX cross_territory_requests_mine
    ON cross_territory_requests (tenant, membership_id, created_at DESC, id DESC);
CREATE INDEX cross_territory_requests_recent ON cross_territory_requests (tenant, status, created_at DESC, id DESC);
SELECT acre_enable_rls('cross_territory_requests');
"""

forwards = sql_migration(ID, "customers", DESCRIPTION, SQL)
