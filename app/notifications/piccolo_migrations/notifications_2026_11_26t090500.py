"""In-app notifications: per member, read/unread, deduplicated by key."""

from app.migrating import sql_migration

ID = "2026-11-26T09:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications: per-member in-app notifications"

SQL = """
CREATE TABLE notifications (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    membership_id uuid NOT NULL,
    kind varchar(40) NOT NULL,
    subject_type varchar(40),
    subject_id uuid,
    -- The message is rendered when read, in the reader's language, from kind + params.
    params jsonb NOT NULL DEFAULT '{}',
    -- Producers that may run twice (cron jobs) set a key: the same key twice notifies once.
    dedupe_key varchar(200),
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    UNIQUE (tenant, dedupe_key),
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id) ON DELETE CASCADE
);
CREATE INDEX notifications_member ON notifications (tenant, membership_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (tenant, membership_id, created_at DESC, id DESC)
    WHERE read_at IS NULL;
SELECT acre_enable_rls('notifications');
"""

forwards = sql_migration(ID, "notifications", DESCRIPTION, SQL)
