"""Territories: the per-tenant tree (materialized path) and who works or manages each node."""

from app.migrating import sql_migration

ID = "2026-11-24T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "territories: territories tree, territory_members"

SQL = """
-- path = the ids (32 hex digits + '/') of the root ... this node, so "the subtree of X" is the
-- btree range  path >= X.path AND path < X.path || '~'  on (tenant, path). COLLATE "C" keeps the
-- order bytewise ('/' and hex digits all sort before '~').
CREATE TABLE territories (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    parent_id uuid,
    name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
    level varchar(20) NOT NULL
        CHECK (level IN ('province', 'prefecture', 'city', 'county', 'township', 'custom')),
    path text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id),
    UNIQUE (tenant, id),
    FOREIGN KEY (tenant, parent_id) REFERENCES territories (tenant, id),
    CHECK (length(path) % 33 = 0 AND right(path, 33) = replace(id::text, '-', '') || '/')
);
CREATE UNIQUE INDEX territories_path ON territories (tenant, path);
CREATE UNIQUE INDEX territories_sibling_name ON territories (tenant, parent_id, name) NULLS NOT DISTINCT;
SELECT acre_enable_rls('territories');

CREATE TABLE territory_members (
    tenant uuid NOT NULL,
    territory_id uuid NOT NULL,
    membership_id uuid NOT NULL,
    role varchar(10) NOT NULL CHECK (role IN ('manager', 'rep')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, territory_id, membership_id),
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id) ON DELETE CASCADE
);
CREATE INDEX territory_members_member ON territory_members (tenant, membership_id, role);
SELECT acre_enable_rls('territory_members');
"""

forwards = sql_migration(ID, "territories", DESCRIPTION, SQL)
