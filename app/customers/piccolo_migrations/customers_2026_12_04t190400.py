"""Customer imports remember how far their writing got: a batch writes its customers and moves
``written_through`` (the last staged row it covered) in one transaction, so a resumed run carries
on after it without a per-row mark."""

from app.migrating import sql_migration

ID = "2026-12-04T19:04:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: customer_imports.written_through"

SQL = """
ALTER TABLE customer_imports ADD COLUMN written_through integer NOT NULL DEFAULT 0;
"""

forwards = sql_migration(ID, "customers", DESCRIPTION, SQL)
