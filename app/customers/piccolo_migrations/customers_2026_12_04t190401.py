"""Import into a chosen pool: the pool an import's customers go into (NULL: each row's territory's
pool)."""

from app.migrating import sql_migration

ID = "2026-12-04T19:04:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: customer_imports.pool_id"

SQL = """
ALTER TABLE customer_imports ADD COLUMN pool_id uuid;
ALTER TABLE customer_imports ADD CONSTRAINT customer_imports_tenant_pool_id_fkey
    FOREIGN KEY (tenant, pool_id) REFERENCES pools (tenant, id) ON DELETE SET NULL (pool_id);
"""

forwards = sql_migration(ID, "customers", DESCRIPTION, SQL)
