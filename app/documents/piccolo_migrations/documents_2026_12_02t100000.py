"""Documents, second step: a document can be voided (a contract superseded by another one that was
signed); a voided document is never rendered again nor sent for signature."""

from app.migrating import sql_migration

ID = "2026-12-02T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "documents: voided status"

SQL = """
ALTER TABLE documents DROP CONSTRAINT documents_status_check;
ALTER TABLE documents ADD CONSTRAINT documents_status_check
    CHECK (status IN ('queued', 'rendering', 'ready', 'failed', 'voided'));
"""

forwards = sql_migration(ID, "documents", DESCRIPTION, SQL)
