"""API keys: tenant-scoped keys for integrations, and the function that resolves one per request."""

from app.migrating import sql_migration

ID = "2026-12-04T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenants: api_keys, acre_api_key()"

SQL = """
-- A key for an integration. The secret is shown once; stored is only the sha256 of the whole key.
-- The key itself names its tenant and its prefix (acre_<tenant hex>_<prefix>_<secret>), so it is
-- looked up inside its tenant (row-level security applies, and on Citus the lookup goes to one node).
-- scopes: what the key may do (tenants/key_scopes.py); revoked_at set = refused from then on.
-- last_used_at is written at most once a minute (acre_api_key()).
CREATE TABLE api_keys (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    prefix varchar(16) NOT NULL,
    secret_hash bytea NOT NULL,
    name varchar(100) NOT NULL,
    scopes text[] NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    revoked_by uuid,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, prefix),
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id),
    FOREIGN KEY (tenant, revoked_by) REFERENCES memberships (tenant, id)
);
SELECT acre_enable_rls('api_keys');

-- The live key (tenant, prefix, sha256 of the key): its scopes and its tenant's columns (those a
-- job scope is made of, and the billing state), in one round trip; nothing for an unknown or revoked
-- key. Marks the key used when its last use is more than a minute old.
CREATE FUNCTION acre_api_key(p_tenant uuid, p_prefix text, p_hash bytea) RETURNS TABLE (
    key_id uuid, key_name varchar, scopes text[],
    id uuid, name varchar, slug varchar, locale varchar, time_zone varchar, currency varchar,
    billing_plan varchar, billing_status varchar, trial_ends_at timestamptz, past_due_since timestamptz,
    current_period_end timestamptz, has_subscription boolean
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE k record;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    SELECT x.id, x.name, x.scopes, x.last_used_at INTO k FROM api_keys x
        WHERE x.tenant = p_tenant AND x.prefix = p_prefix AND x.secret_hash = p_hash
          AND x.revoked_at IS NULL;
    IF NOT FOUND THEN RETURN; END IF;
    IF k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute' THEN
        UPDATE api_keys SET last_used_at = now() WHERE tenant = p_tenant AND id = k.id;
    END IF;
    RETURN QUERY
        SELECT k.id, k.name, k.scopes, t.id, t.name, t.slug, t.locale, t.time_zone, t.currency,
               t.billing_plan, t.billing_status, t.trial_ends_at, t.past_due_since,
               t.current_period_end, t.stripe_subscription_id IS NOT NULL
        FROM tenants t WHERE t.id = p_tenant;
END $$;
"""

forwards = sql_migration(ID, "tenants", DESCRIPTION, SQL)
