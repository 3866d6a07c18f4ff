"""A member's own ownership changes, found by index: the rep statements read every entry from or to one
member in a period."""

from app.migrating import sql_migration

ID = "2026-12-04T19:06:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: ownership history by member (from, to)"

SQL = """
CREATE INDEX customer_ownership_history_from ON customer_ownership_history (tenant, from_membership_id, seq);
CREATE INDEX customer_ownership_history_to ON customer_ownership_history (tenant, to_membership_id, seq);
"""

forwards = sql_migration(ID, "customers", DESCRIPTION, SQL)
