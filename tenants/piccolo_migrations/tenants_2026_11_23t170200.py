"""Tenants, memberships, invitations, and the session-resolving function."""

from app.migrating import sql_migration

ID = "2026-11-23T17:02:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenants: tenants, memberships, invitations, acre_session()"

SQL = """
CREATE TABLE tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name varchar(200) NOT NULL,
    slug varchar(40) NOT NULL UNIQUE,
    locale varchar(10) NOT NULL,
    time_zone varchar(64) NOT NULL,
    currency varchar(3) NOT NULL,
    seat_limit integer,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE sessions ADD CONSTRAINT sessions_tenant_fk FOREIGN KEY (tenant) REFERENCES tenants (id) ON DELETE CASCADE;

CREATE TABLE memberships (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id),
    role varchar(20) NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'rep')),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz,
    PRIMARY KEY (id),
    UNIQUE (tenant, id),
    UNIQUE (tenant, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
SELECT acre_enable_rls('memberships');
-- While no tenant is chosen (login), a user may list their own memberships.
CREATE POLICY own_memberships ON memberships FOR SELECT
    USING (acre_current_tenant() IS NULL AND user_id = acre_current_user());

CREATE TABLE invitations (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email varchar(320) NOT NULL,
    role varchar(20) NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'rep')),
    locale varchar(10),
    token_hash bytea NOT NULL UNIQUE,
    invited_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX invitations_tenant ON invitations (tenant, created_at DESC, id);
SELECT acre_enable_rls('invitations');

-- Resolve a session token hash to the active membership behind it, in one round trip. It sets
-- app.tenant_id for the rest of the current transaction, so RLS lets it read that one tenant.
CREATE FUNCTION acre_session(p_hash bytea) RETURNS TABLE (
    session_id uuid, user_id uuid, tenant uuid, membership_id uuid, role varchar,
    user_email varchar, user_name varchar, user_locale varchar,
    tenant_name varchar, tenant_slug varchar, tenant_locale varchar, time_zone varchar, currency varchar
) LANGUAGE plpgsql AS $$
DECLARE s record;
BEGIN
    SELECT x.id, x.user_id, x.tenant INTO s FROM sessions x
        WHERE x.token_hash = p_hash AND x.revoked_at IS NULL AND x.expires_at > now();
    IF NOT FOUND THEN RETURN; END IF;
    PERFORM set_config('app.tenant_id', s.tenant::text, true);
    RETURN QUERY
        SELECT s.id, s.user_id, s.tenant, m.id, m.role, u.email, u.name, u.locale,
               t.name, t.slug, t.locale, t.time_zone, t.currency
        FROM memberships m JOIN users u ON u.id = m.user_id JOIN tenants t ON t.id = m.tenant
        WHERE m.tenant = s.tenant AND m.user_id = s.user_id AND m.active;
END $$;
"""

forwards = sql_migration(ID, "tenants", DESCRIPTION, SQL)
