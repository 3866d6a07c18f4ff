"""Emails can carry one attachment, referenced by its object-storage key (the bytes are read when the
mail is sent, never stored in the row)."""

from app.migrating import sql_migration

ID = "2026-11-30T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "core: email attachments by storage key"

SQL = """
ALTER TABLE emails
    ADD COLUMN attachment_key varchar(300),
    ADD COLUMN attachment_name varchar(255),
    ADD COLUMN attachment_type varchar(100);
"""

forwards = sql_migration(ID, "core", DESCRIPTION, SQL)
