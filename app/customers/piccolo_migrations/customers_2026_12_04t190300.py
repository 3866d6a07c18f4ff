"""The ownership history knows merges: a customer merged into another (issue 19) is an entry on both
customers' chains, with cause ``merge``."""

from app.migrating import sql_migration

ID = "2026-12-04T19:03:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: ownership history cause merge"

SQL = """
ALTER TABLE customer_ownership_history DROP CONSTRAINT customer_ownership_history_cause_check;
ALTER TABLE customer_ownership_history ADD CONSTRAINT customer_ownership_history_cause_check
    CHECK (cause IN ('claim', 'release', 'reclaim', 'assign', 'import', 'handover', 'create', 'merge')) NOT VALID;
-- validated apart: a scan under SHARE UPDATE EXCLUSIVE, appends go on meanwhile
ALTER TABLE customer_ownership_history VALIDATE CONSTRAINT customer_ownership_history_cause_check;
"""

forwards = sql_migration(ID, "customers", DESCRIPTION, SQL)
