"""Every tenant table keyed by tenant, so that Citus can shard the schema by it (docs/scale-out.md):

- the 39 tables keyed by ``id`` alone get ``PRIMARY KEY (tenant, id)``. Their ids are random UUIDs (or
  a sequence), so ``(tenant, id)`` holds the same rows unique. A ``UNIQUE (tenant, id)`` that the
  foreign keys referenced becomes redundant and goes; those foreign keys are dropped and re-added
  unchanged, now on the primary key;
- account mail (rows of ``emails`` without a tenant) moves, ids and all, to a global table of its own,
  ``account_emails``, and ``emails.tenant`` becomes ``NOT NULL``;
- ``invitations.token_hash`` is unique per tenant (the link carries the tenant, acceptance looks up
  ``(tenant, token_hash)``);
- ``return_visits.followup_id`` references ``customer_followups (tenant, id)``.

Runs on a fresh database (after every app's tables exist) and on one with data alike: nothing here
depends on the rows but the account mail it moves. Row-level security stays forced on every tenant
table; the owner is exempted from it on ``emails`` only while the account mail moves (a migration
owner that is not a superuser would otherwise see none of those rows)."""

from app.migrating import sql_migration

ID = "2026-12-04T10:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "schema: tenant tables keyed by (tenant, id); account mail in account_emails"

KEYED_BY_ID = (
    "approvals", "audit_log", "collection_payments", "collections", "company_profile_versions",
    "cross_territory_grants", "customer_conflicts", "customer_contacts", "customer_followups",
    "customer_grade_changes", "customer_imports", "customer_ownership_history", "customers",
    "daily_reports", "deal_contracts", "deal_stage_changes", "deals", "document_templates", "documents",
    "emails", "envelope_events", "envelope_signers", "envelopes", "handover_plans", "invitations",
    "market_incidents", "memberships", "notifications", "products", "quote_lines", "quotes",
    "referral_rewards", "return_visits", "sales_tasks", "targets", "territories", "visit_plan_items",
    "visit_plans", "weekly_reports",
)  # fmt: skip

ACCOUNT_MAIL = """
-- Every table is locked while its key is rebuilt: wait for the running transactions a little, else
-- fail (and be run again) rather than queue every request behind this migration.
SET LOCAL lock_timeout = '10s';

CREATE TABLE account_emails (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idempotency_key varchar(200) NOT NULL UNIQUE,
    to_addr varchar(320) NOT NULL,
    subject text NOT NULL,
    text_body text NOT NULL,
    html_body text,
    locale varchar(10) NOT NULL DEFAULT 'en',
    created_at timestamptz NOT NULL DEFAULT now(),
    claimed_at timestamptz,
    sent_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    attachment_key varchar(300),
    attachment_name varchar(255),
    attachment_type varchar(100)
);

-- The account mail queued so far, with its ids: a send_email job already in the outbox names the row
-- by id (and by its user, no tenant), and finds it in account_emails.
ALTER TABLE emails NO FORCE ROW LEVEL SECURITY;
INSERT INTO account_emails (id, user_id, idempotency_key, to_addr, subject, text_body, html_body, locale,
                            created_at, claimed_at, sent_at, attempts, last_error, attachment_key,
                            attachment_name, attachment_type)
SELECT id, user_id, idempotency_key, to_addr, subject, text_body, html_body, locale, created_at,
       claimed_at, sent_at, attempts, last_error, attachment_key, attachment_name, attachment_type
FROM emails WHERE tenant IS NULL;
DELETE FROM emails WHERE tenant IS NULL;
ALTER TABLE emails FORCE ROW LEVEL SECURITY;

-- Shown only to a transaction scoped to the mail's user and to no tenant (as the rows were in emails).
ALTER TABLE account_emails ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_emails FORCE ROW LEVEL SECURITY;
CREATE POLICY account_mail ON account_emails
    USING (acre_current_tenant() IS NULL AND user_id = acre_current_user())
    WITH CHECK (acre_current_tenant() IS NULL AND user_id = acre_current_user());

DROP POLICY account_mail ON emails;
ALTER TABLE emails DROP CONSTRAINT emails_tenant_or_user;
ALTER TABLE emails ALTER COLUMN tenant SET NOT NULL;
DROP INDEX emails_tenant_idempotency_key_key;
ALTER TABLE emails ADD CONSTRAINT emails_tenant_idempotency_key_key UNIQUE (tenant, idempotency_key);

ALTER TABLE invitations DROP CONSTRAINT invitations_token_hash_key;
ALTER TABLE invitations ADD CONSTRAINT invitations_tenant_token_hash_key UNIQUE (tenant, token_hash);

-- by id alone, the one foreign key that was: re-added below, with the tenant
ALTER TABLE return_visits DROP CONSTRAINT return_visits_followup_id_fkey;
"""


def keys() -> str:
    """The key swap, table by table: the foreign keys pointing at any of the tables are kept aside
    (their definitions, by name), dropped, and added again once every table has its new key."""
    tables = ", ".join(f"'{name}'" for name in KEYED_BY_ID)
    return f"""
DO $$
DECLARE
    keyed regclass[] := ARRAY[{tables}]::regclass[];
    t regclass;
    fk record;
    saved_tables regclass[] := '{{}}';
    saved_names text[] := '{{}}';
    saved_defs text[] := '{{}}';
    con record;
    i integer;
BEGIN
    FOR fk IN
        SELECT c.conrelid::regclass AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def,
               array_length(c.confkey, 1) AS width, c.confrelid::regclass AS target
        FROM pg_constraint c WHERE c.contype = 'f' AND c.confrelid = ANY (keyed)
        ORDER BY c.conrelid::regclass::text, c.conname
    LOOP
        IF fk.width < 2 THEN  -- it would reference the (id) key that goes
            RAISE EXCEPTION 'foreign key % on % references % without the tenant', fk.conname, fk.tbl, fk.target;
        END IF;
        saved_tables := saved_tables || fk.tbl;
        saved_names := saved_names || fk.conname::text;
        saved_defs := saved_defs || fk.def;
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
    END LOOP;

    FOREACH t IN ARRAY keyed LOOP
        -- the primary key over (id), and a unique constraint or plain unique index over (tenant, id)
        FOR con IN
            SELECT c.conname FROM pg_constraint c
            WHERE c.conrelid = t AND (c.contype = 'p' OR (c.contype = 'u' AND c.conkey = ARRAY[
                (SELECT attnum FROM pg_attribute WHERE attrelid = t AND attname = 'tenant'),
                (SELECT attnum FROM pg_attribute WHERE attrelid = t AND attname = 'id')]::int2[]))
        LOOP
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', t, con.conname);
        END LOOP;
        FOR con IN
            SELECT x.indexrelid::regclass AS name FROM pg_index x
            WHERE x.indrelid = t AND x.indisunique AND x.indpred IS NULL AND x.indexprs IS NULL
              AND x.indnatts = 2  -- an int2vector counts from 0
              AND x.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = t AND attname = 'tenant')
              AND x.indkey[1] = (SELECT attnum FROM pg_attribute WHERE attrelid = t AND attname = 'id')
              AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype <> 'f')
        LOOP
            EXECUTE format('DROP INDEX %s', con.name);
        END LOOP;
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (tenant, id)', t, t::text || '_pkey');
    END LOOP;

    FOR i IN 1 .. coalesce(array_length(saved_names, 1), 0) LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', saved_tables[i], saved_names[i], saved_defs[i]);
    END LOOP;
END $$;
"""


FOLLOWUP = """
ALTER TABLE return_visits ADD CONSTRAINT return_visits_tenant_followup_id_fkey
    FOREIGN KEY (tenant, followup_id) REFERENCES customer_followups (tenant, id)
    ON DELETE SET NULL (followup_id);
"""

forwards = sql_migration(ID, "schema", DESCRIPTION, ACCOUNT_MAIL, keys, FOLLOWUP)
