"""Sales management, step one: a follow-up's result on the funnel (calls → conversations →
appointments → presentations → sales), so the funnel and the reports count data, not free text."""

from app.migrating import sql_migration

ID = "2026-11-30T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sales: follow-up result"

SQL = """
ALTER TABLE customer_followups ADD COLUMN result varchar(12)
    CHECK (result IN ('no_answer', 'conversation', 'appointment', 'presentation', 'order', 'other'));
"""

forwards = sql_migration(ID, "sales", DESCRIPTION, SQL)
