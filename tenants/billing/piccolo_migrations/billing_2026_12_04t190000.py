"""Scoped reads in fewer round trips: ``acre_session(hash, read)``. With ``read`` (a ``GET`` on a
session: ``tenants.scope``) the lookup also scopes the connection for the rest of the request at the
session level — ``app.tenant_id`` to the session's tenant, ``app.user_id`` empty and
``default_transaction_read_only`` on — so the request's reads run as single statements (no ``BEGIN``,
no ``COMMIT``), still under forced row-level security, and any write among them is refused by
PostgreSQL rather than committed statement by statement. Without ``read`` the lookup unsets both, so
the next request on that pooled connection starts with none (``app/db.py``)."""

from app.migrating import sql_migration

ID = "2026-12-04T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "billing: acre_session(hash, read) scopes a read-only request's connection"

SQL = """
DROP FUNCTION acre_session(bytea);
CREATE FUNCTION acre_session(p_hash bytea, p_read boolean DEFAULT false) RETURNS TABLE (
    session_id uuid, user_id uuid, tenant uuid, membership_id uuid, role varchar,
    user_email varchar, user_name varchar, user_locale varchar,
    tenant_name varchar, tenant_slug varchar, tenant_locale varchar, time_zone varchar, currency varchar,
    billing_plan varchar, billing_status varchar, trial_ends_at timestamptz, past_due_since timestamptz,
    current_period_end timestamptz, has_subscription boolean
) LANGUAGE plpgsql AS $$
DECLARE s record;
BEGIN
    -- The connection's session-level scope: with p_read the session's tenant, read-only by default, for
    -- the reads of the request that holds the connection; else none and writable (undoing what a read
    -- before left on this pooled connection). Transaction-local below: the lookup's own, for RLS.
    PERFORM set_config('app.tenant_id', '', false), set_config('app.user_id', '', false),
            set_config('default_transaction_read_only', CASE WHEN p_read THEN 'on' ELSE 'off' END, false);
    SELECT x.id, x.user_id, x.tenant INTO s FROM sessions x
        WHERE x.token_hash = p_hash AND x.revoked_at IS NULL AND x.expires_at > now();
    IF NOT FOUND THEN RETURN; END IF;
    IF p_read THEN PERFORM set_config('app.tenant_id', s.tenant::text, false); END IF;
    PERFORM set_config('app.tenant_id', s.tenant::text, true);
    RETURN QUERY
        SELECT s.id, s.user_id, s.tenant, m.id, m.role, u.email, u.name, u.locale,
               t.name, t.slug, t.locale, t.time_zone, t.currency,
               t.billing_plan, t.billing_status, t.trial_ends_at, t.past_due_since,
               t.current_period_end, t.stripe_subscription_id IS NOT NULL
        FROM memberships m JOIN users u ON u.id = m.user_id JOIN tenants t ON t.id = m.tenant
        WHERE m.tenant = s.tenant AND m.user_id = s.user_id AND m.active;
END $$;
"""

forwards = sql_migration(ID, "billing", DESCRIPTION, SQL)
