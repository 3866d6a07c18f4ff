"""Billing: plan and subscription state on tenants, the Stripe event inbox, and acre_session()
returning the billing state so entitlements cost no extra round trip."""

from app.migrating import sql_migration

ID = "2026-11-25T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "billing: tenant billing columns, stripe_events inbox, acre_session() with billing state"

SQL = """
-- Every tenant starts a trial with no card; signup sets the end from ACRE_BILLING_TRIAL_DAYS, the
-- default covers tenants made any other way (and the existing ones, from now).
ALTER TABLE tenants
    ADD COLUMN billing_plan varchar(40),
    ADD COLUMN billing_status varchar(30) NOT NULL DEFAULT 'trialing',
    ADD COLUMN trial_ends_at timestamptz NOT NULL DEFAULT now() + interval '14 days',
    ADD COLUMN current_period_end timestamptz,
    ADD COLUMN past_due_since timestamptz,
    ADD COLUMN stripe_customer_id varchar(255) UNIQUE,
    ADD COLUMN stripe_subscription_id varchar(255) UNIQUE,
    ADD COLUMN seats_paid integer,
    ADD COLUMN seat_change_seq integer NOT NULL DEFAULT 0,
    ADD COLUMN billing_synced_at timestamptz;

-- The inbox of Stripe events. Global (no tenant column under RLS): an event is stored before we know
-- which tenant it concerns (that is read from its payload when handling, and some never have one),
-- and Stripe's event id is unique across all tenants, which is what makes delivery idempotent.
CREATE TABLE stripe_events (
    id varchar(255) PRIMARY KEY,
    type varchar(100) NOT NULL,
    created_at timestamptz NOT NULL,
    livemode boolean NOT NULL DEFAULT false,
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    tenant uuid,
    handled_at timestamptz,
    outcome varchar(40),
    attempts integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX stripe_events_unhandled ON stripe_events (received_at) WHERE handled_at IS NULL;

DROP FUNCTION acre_session(bytea);
CREATE FUNCTION acre_session(p_hash bytea) RETURNS TABLE (
    session_id uuid, user_id uuid, tenant uuid, membership_id uuid, role varchar,
    user_email varchar, user_name varchar, user_locale varchar,
    tenant_name varchar, tenant_slug varchar, tenant_locale varchar, time_zone varchar, currency varchar,
    billing_plan varchar, billing_status varchar, trial_ends_at timestamptz, past_due_since timestamptz,
    current_period_end timestamptz, has_subscription boolean
) LANGUAGE plpgsql AS $$
DECLARE s record;
BEGIN
    SELECT x.id, x.user_id, x.tenant INTO s FROM sessions x
        WHERE x.token_hash = p_hash AND x.revoked_at IS NULL AND x.expires_at > now();
    IF NOT FOUND THEN RETURN; END IF;
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
