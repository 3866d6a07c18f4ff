"""Outbound: the daily collection digest looks up whether an item's collection.overdue event was
written already; an index on that makes it one probe per item."""

from app.migrating import sql_migration

ID = "2026-12-04T10:08:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "outbound: index of the collection.overdue events by collection"

SQL = """
CREATE INDEX webhook_events_overdue ON webhook_events (tenant, (data ->> 'collection_id'))
    WHERE type = 'collection.overdue';
"""

forwards = sql_migration(ID, "outbound", DESCRIPTION, SQL)
