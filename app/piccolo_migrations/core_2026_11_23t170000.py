"""Core: the application role, the RLS helper, outbox, emails, audit log."""

from urllib.parse import unquote, urlsplit

from app.migrating import sql_migration
from app.settings import get_settings

ID = "2026-11-23T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "core: app role, RLS helper, outbox, emails, audit log"

SQL = """
CREATE OR REPLACE FUNCTION acre_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE OR REPLACE FUNCTION acre_current_user() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

-- Turn on row-level security for a tenant table: rows are visible and writable only when their
-- tenant is the transaction's app.tenant_id. FORCE makes it apply to the table owner too.
CREATE OR REPLACE FUNCTION acre_enable_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', tbl);
    EXECUTE format(
        'CREATE POLICY tenant_isolation ON %s USING (tenant = acre_current_tenant()) '
        'WITH CHECK (tenant = acre_current_tenant())', tbl);
END $$;

CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    tenant uuid,
    job varchar(100) NOT NULL,
    args jsonb NOT NULL DEFAULT '[]',
    job_id varchar(200) NOT NULL UNIQUE,
    defer_seconds integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    enqueued_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX outbox_pending ON outbox (id) WHERE enqueued_at IS NULL;

CREATE TABLE emails (
    tenant uuid NOT NULL,
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    idempotency_key varchar(200) NOT NULL,
    to_addr varchar(320) NOT NULL,
    subject text NOT NULL,
    text_body text NOT NULL,
    html_body text,
    locale varchar(10) NOT NULL DEFAULT 'en',
    created_at timestamptz NOT NULL DEFAULT now(),
    claimed_at timestamptz,
    sent_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    UNIQUE (tenant, idempotency_key)
);
SELECT acre_enable_rls('emails');

CREATE TABLE audit_log (
    tenant uuid NOT NULL,
    id bigserial PRIMARY KEY,
    actor uuid,
    action varchar(100) NOT NULL,
    subject_type varchar(50) NOT NULL,
    subject_id varchar(100) NOT NULL,
    reason text,
    data jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_subject ON audit_log (tenant, subject_type, subject_id, id);
SELECT acre_enable_rls('audit_log');
"""


def _role_sql() -> str:
    """Create (or update) the non-superuser login role the application connects as."""
    url = urlsplit(get_settings().database_url)
    role = unquote(url.username or "acre_app")
    password = unquote(url.password) if url.password else None
    if not role.replace("_", "").isalnum():
        raise ValueError(f"unsupported application role name: {role!r}")
    pw = "PASSWORD " + "'" + password.replace("'", "''") + "'" if password else ""
    return f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
        CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END $$;
ALTER ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS {pw};
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role};
REVOKE UPDATE, DELETE ON audit_log FROM {role};
"""


forwards = sql_migration(ID, "core", DESCRIPTION, SQL, _role_sql)
