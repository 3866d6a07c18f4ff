"""The territories an invitation carries: the invitee joins them on accepting."""

from app.migrating import sql_migration

ID = "2026-12-04T04:04:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "territories: invitation territories"

SQL = """
-- The key a tenant table's foreign key to an invitation needs (Citus: it includes the tenant).
ALTER TABLE invitations ADD CONSTRAINT invitations_tenant_id_key UNIQUE (tenant, id);

-- An invitation's territories, with the role the invitee will have in each (a manager or higher
-- manages them, anyone else works them as a rep). A territory deleted before the invitation is
-- accepted drops out of it.
CREATE TABLE invitation_territories (
    tenant uuid NOT NULL,
    invitation_id uuid NOT NULL,
    territory_id uuid NOT NULL,
    role varchar(10) NOT NULL CHECK (role IN ('manager', 'rep')),
    PRIMARY KEY (tenant, invitation_id, territory_id),
    FOREIGN KEY (tenant, invitation_id) REFERENCES invitations (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE CASCADE
);
CREATE INDEX invitation_territories_territory ON invitation_territories (tenant, territory_id);
SELECT acre_enable_rls('invitation_territories');
"""

forwards = sql_migration(ID, "territories", DESCRIPTION, SQL)
