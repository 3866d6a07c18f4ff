"""Accounts: password resets, and account mail (mail to a user that belongs to no company)."""

from app.migrating import sql_migration

ID = "2026-12-02T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "accounts: password resets; account mail in emails"

SQL = """
-- Global, like users and sessions: a reset is asked for (and its link followed) before any company is
-- known. Only the sha256 of the token is stored; a row is used once, expires, and is revoked by a
-- newer request or by a completed reset.
CREATE TABLE password_resets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    ip varchar(64)
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at DESC);

-- Account mail (the reset link) belongs to a user, not to a company: no tenant, the user instead.
-- Row-level security shows such a row only to a transaction scoped to that user and to no tenant
-- (app.user_id set, app.tenant_id not); tenant mail keeps the tenant_isolation policy.
ALTER TABLE emails
    ALTER COLUMN tenant DROP NOT NULL,
    ADD COLUMN user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    ADD CONSTRAINT emails_tenant_or_user CHECK (tenant IS NOT NULL OR user_id IS NOT NULL);
CREATE POLICY account_mail ON emails
    USING (tenant IS NULL AND acre_current_tenant() IS NULL AND user_id = acre_current_user())
    WITH CHECK (tenant IS NULL AND acre_current_tenant() IS NULL AND user_id = acre_current_user());
-- Queueing stays idempotent for account mail too (a NULL tenant is one value here).
ALTER TABLE emails DROP CONSTRAINT emails_tenant_idempotency_key_key;
CREATE UNIQUE INDEX emails_tenant_idempotency_key_key ON emails (tenant, idempotency_key) NULLS NOT DISTINCT;
"""

forwards = sql_migration(ID, "accounts", DESCRIPTION, SQL)
