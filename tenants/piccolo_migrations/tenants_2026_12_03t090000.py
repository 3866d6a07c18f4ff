"""The dealer's company profile (乙方): one immutable row per saved version."""

from app.migrating import sql_migration

ID = "2026-12-03T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenants: company profile versions"

SQL = """
-- The company profile a tenant's documents print as Party B. Each save inserts a version (1, 2, …);
-- the newest is the profile. A version never changes: a document records the version it was
-- rendered with. Empty fields are NULL (a document needing one is refused, naming it). The logo and
-- seal images are in object storage under keys fixed by their sha256.
CREATE TABLE company_profile_versions (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    version integer NOT NULL CHECK (version > 0),
    legal_name varchar(200),
    credit_code char(18),
    address varchar(500),
    phone varchar(40),
    email varchar(320),
    website varchar(200),
    bank varchar(200),
    bank_account varchar(64),
    service_hotline varchar(40),
    response_hours smallint CHECK (response_hours BETWEEN 1 AND 168),
    onsite_day_rate numeric(14, 2) CHECK (onsite_day_rate >= 0),
    free_upgrade_years smallint CHECK (free_upgrade_years BETWEEN 0 AND 10),
    logo_key varchar(300),
    logo_sha256 char(64),
    logo_type varchar(20),
    seal_key varchar(300),
    seal_sha256 char(64),
    seal_type varchar(20),
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    UNIQUE (tenant, version),
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id),
    CHECK ((logo_key IS NULL) = (logo_sha256 IS NULL) AND (logo_key IS NULL) = (logo_type IS NULL)),
    CHECK ((seal_key IS NULL) = (seal_sha256 IS NULL) AND (seal_key IS NULL) = (seal_type IS NULL))
);
SELECT acre_enable_rls('company_profile_versions');

CREATE FUNCTION acre_profile_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'company_profile_versions rows never change (% refused); save a new version', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER company_profile_versions_immutable BEFORE UPDATE OR DELETE ON company_profile_versions
    FOR EACH ROW EXECUTE FUNCTION acre_profile_version_immutable();
"""

forwards = sql_migration(ID, "tenants", DESCRIPTION, SQL)
