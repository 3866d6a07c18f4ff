"""Customer imports: the import (state machine and progress) and its staged rows (with row errors)."""

from app.migrating import sql_migration

ID = "2026-11-26T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: customer_imports, customer_import_rows"

SQL = """
-- One uploaded file. queued -> validating -> importing -> done, or -> failed (a file-level error,
-- or any bad row in all_or_nothing mode). The file is in object storage under storage_key.
CREATE TABLE customer_imports (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL PRIMARY KEY,
    created_by uuid NOT NULL,
    locale varchar(10) NOT NULL DEFAULT 'en',
    filename varchar(255) NOT NULL,
    file_format varchar(4) NOT NULL CHECK (file_format IN ('csv', 'xlsx')),
    size_bytes bigint NOT NULL,
    storage_key text NOT NULL,
    mode varchar(16) NOT NULL CHECK (mode IN ('all_or_nothing', 'valid_rows')),
    default_owner varchar(4) NOT NULL CHECK (default_owner IN ('me', 'pool')),
    default_territory_id uuid,
    status varchar(10) NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'validating', 'importing', 'done', 'failed')),
    rows_total integer,
    rows_done integer NOT NULL DEFAULT 0,
    rows_imported integer NOT NULL DEFAULT 0,
    rows_rejected integer NOT NULL DEFAULT 0,
    columns jsonb NOT NULL DEFAULT '{}',
    ignored_columns jsonb NOT NULL DEFAULT '[]',
    error text,
    error_params jsonb,
    report_key text,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, id),
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, default_territory_id) REFERENCES territories (tenant, id)
        ON DELETE SET NULL (default_territory_id)
);
CREATE INDEX customer_imports_recent ON customer_imports (tenant, created_by, created_at DESC, id DESC);
SELECT acre_enable_rls('customer_imports');

-- The file's rows, checked and normalised (staged in batches by COPY into a temporary table, then
-- INSERT ... SELECT: COPY FROM is refused on tables under row-level security). ok = no error;
-- errors = [{"field", "message", "params"}]; customer_id = the customer this row created. Rows
-- that were imported are deleted when the import finishes; the rejected ones stay for the report.
CREATE TABLE customer_import_rows (
    tenant uuid NOT NULL,
    import_id uuid NOT NULL,
    row_no integer NOT NULL,
    ok boolean NOT NULL,
    errors jsonb NOT NULL DEFAULT '[]',
    full_name text,
    short_name text,
    tax_id text COLLATE "C",
    address text,
    phone text,
    phone_digits text COLLATE "C",
    industry text,
    size_revenue_band text,
    headcount integer,
    it_status text,
    current_software text,
    source text,
    referrer text,
    grade text,
    status text,
    territory_id uuid,
    owner_membership_id uuid,
    identity_key text COLLATE "C",
    name_key text COLLATE "C",
    search_text text,
    customer_id uuid,
    PRIMARY KEY (tenant, import_id, row_no),
    FOREIGN KEY (tenant, import_id) REFERENCES customer_imports (tenant, id) ON DELETE CASCADE
);
CREATE INDEX customer_import_rows_rejected ON customer_import_rows (tenant, import_id, row_no) WHERE NOT ok;
-- Links each written customer back to its row (identity keys are unique among an import's valid rows).
-- Also keeps that join an index lookup while the freshly filled table has no statistics yet.
CREATE INDEX customer_import_rows_identity ON customer_import_rows (tenant, import_id, identity_key);
SELECT acre_enable_rls('customer_import_rows');
"""

forwards = sql_migration(ID, "customers", DESCRIPTION, SQL)
