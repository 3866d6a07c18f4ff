"""Documents: the sha256 of the template bytes a render used (the shipped template or the tenant's
version), for the evidence report of a signed contract."""

from app.migrating import sql_migration

ID = "2026-12-04T19:08:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "documents: rendered template sha256"

SQL = """
-- Recorded by the render job: the template link of a signed contract's evidence report recomputes it
-- from the shipped file or the stored version. NULL for documents rendered before this was recorded.
ALTER TABLE documents ADD COLUMN rendered_template_sha256 char(64);
"""

forwards = sql_migration(ID, "documents", DESCRIPTION, SQL)
