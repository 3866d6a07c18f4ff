"""Rep statements (归属变更对账单): a member's ownership changes over a period as a sealed PDF, found by
``/verify`` through ``seal_index`` like a sealed contract."""

from app.migrating import sql_migration

ID = "2026-12-04T19:06:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "signing: ownership_statements; seal_index names an envelope or a statement"

SQL = """
-- pending -> ready (sealed, stored, mailed). The anchor printed is copied here (the anchors live in
-- the customers app, whose migrations may run after these on a fresh database).
CREATE TABLE ownership_statements (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    membership_id uuid NOT NULL,
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    kind varchar(10) NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'pending',
    locale varchar(10) NOT NULL,
    entries integer,
    first_seq bigint,
    last_seq bigint,
    anchor_id uuid,
    anchor_seq bigint,
    sealed_key text,
    sealed_sha256 char(64),
    requested_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    ready_at timestamptz,
    PRIMARY KEY (tenant, id),
    CHECK (period_end > period_start),
    CHECK (kind IN ('monthly', 'requested')),
    CHECK (status IN ('pending', 'ready')),
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, requested_by) REFERENCES memberships (tenant, id)
);
-- One monthly statement per member and month (the cron runs hourly and may run twice).
CREATE UNIQUE INDEX ownership_statements_monthly ON ownership_statements (tenant, membership_id, period_start)
    WHERE kind = 'monthly';
CREATE INDEX ownership_statements_member ON ownership_statements (tenant, membership_id, created_at DESC, id DESC);
SELECT acre_enable_rls('ownership_statements');

ALTER TABLE seal_index ALTER COLUMN envelope_id DROP NOT NULL;
ALTER TABLE seal_index ADD COLUMN statement_id uuid;
ALTER TABLE seal_index ADD CONSTRAINT seal_index_one_subject CHECK ((envelope_id IS NULL) <> (statement_id IS NULL));
"""

forwards = sql_migration(ID, "signing", DESCRIPTION, SQL)
