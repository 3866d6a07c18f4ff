"""Sales management, field: a filed daily report can be edited by its author (the notes, and the
figures refreshed from the day's data) until the end of the day after it was filed; ``updated_at``
says when it last was (NULL: never edited)."""

from app.migrating import sql_migration

ID = "2026-12-04T01:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sales: daily reports remember when they were last edited"

SQL = """
ALTER TABLE daily_reports ADD COLUMN updated_at timestamptz;
"""

forwards = sql_migration(ID, "sales", DESCRIPTION, SQL)
