"""The customer ownership history: an append-only, hash-chained ledger (one chain per tenant)."""

from urllib.parse import unquote, urlsplit

from app.migrating import sql_migration
from app.settings import get_settings

ID = "2026-11-26T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: ownership history ledger (hash chain per tenant, append-only)"

SQL = r"""
CREATE TABLE customer_ownership_history (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id bigserial PRIMARY KEY,
    seq bigint NOT NULL CHECK (seq > 0),
    -- No foreign key to customers: the history outlives a deleted customer (commission disputes).
    customer_id uuid NOT NULL,
    from_membership_id uuid,
    to_membership_id uuid,
    cause varchar(10) NOT NULL
        CHECK (cause IN ('claim', 'release', 'reclaim', 'assign', 'import', 'handover', 'create')),
    actor uuid,
    reason text,
    plan_id uuid,
    at timestamptz NOT NULL DEFAULT now(),
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    UNIQUE (tenant, seq)
);
CREATE INDEX customer_ownership_history_customer ON customer_ownership_history (tenant, customer_id, seq);
SELECT acre_enable_rls('customer_ownership_history');

-- The canonical content of one entry, as bytes. Versioned ('v1'); every field in a fixed order,
-- NULL spelled '-', the time as integer microseconds since the epoch (independent of TimeZone and
-- DateStyle), and the free-text reason last and length-prefixed, so no two entries share a text.
-- STABLE, not IMMUTABLE (convert_to and concat_ws are STABLE): so the planner inlines it (5x faster).
CREATE FUNCTION acre_ownership_content(
    p_tenant uuid, p_seq bigint, p_customer uuid, p_from uuid, p_to uuid, p_cause text,
    p_actor uuid, p_reason text, p_plan uuid, p_at timestamptz
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT convert_to(concat_ws('|', 'v1', p_tenant::text, p_seq::text, p_customer::text,
        coalesce(p_from::text, '-'), coalesce(p_to::text, '-'), p_cause, coalesce(p_actor::text, '-'),
        coalesce(p_plan::text, '-'), (extract(epoch FROM p_at) * 1000000)::bigint::text,
        coalesce(length(p_reason)::text, '-'), coalesce(p_reason, '')), 'UTF8')
$$;

CREATE FUNCTION acre_ownership_genesis() RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea $$;

-- Append a batch to the tenant's chain (the tenant is the transaction's app.tenant_id). One call,
-- one INSERT: the hashes are computed in a loop in memory (sha256 is core since PostgreSQL 11),
-- serialised per tenant by an advisory lock held to the end of the transaction.
CREATE FUNCTION acre_ownership_append(
    p_customers uuid[], p_from uuid[], p_to uuid[], p_cause text, p_actor uuid, p_reason text,
    p_plan uuid
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_tenant uuid := acre_current_tenant();
    v_at timestamptz := now();
    v_first bigint;
    v_seq bigint;
    v_hash bytea;
    v_prevs bytea[] := '{}';
    v_hashes bytea[] := '{}';
    r record;
BEGIN
    IF p_customers IS NULL OR cardinality(p_customers) = 0 THEN
        RETURN 0;
    END IF;
    IF v_tenant IS NULL THEN
        RAISE EXCEPTION 'ownership history: no tenant in this transaction';
    END IF;
    IF cardinality(p_from) <> cardinality(p_customers) OR cardinality(p_to) <> cardinality(p_customers) THEN
        RAISE EXCEPTION 'ownership history: arrays of different lengths';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('ownership-ledger:' || v_tenant::text, 0));
    SELECT h.seq, h.hash INTO v_seq, v_hash FROM customer_ownership_history h
        WHERE h.tenant = v_tenant ORDER BY h.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        v_seq := 0;
        v_hash := acre_ownership_genesis();
    END IF;
    v_first := v_seq + 1;
    FOR r IN SELECT b.c, b.f, b.t FROM unnest(p_customers, p_from, p_to) WITH ORDINALITY AS b (c, f, t, ord)
             ORDER BY b.ord LOOP
        v_prevs := v_prevs || v_hash;
        v_seq := v_seq + 1;
        v_hash := sha256(acre_ownership_content(v_tenant, v_seq, r.c, r.f, r.t, p_cause, p_actor,
                                                p_reason, p_plan, v_at) || v_hash);
        v_hashes := v_hashes || v_hash;
    END LOOP;
    INSERT INTO customer_ownership_history (tenant, seq, customer_id, from_membership_id,
        to_membership_id, cause, actor, reason, plan_id, at, prev_hash, hash)
    SELECT v_tenant, v_first + b.ord - 1, b.c, b.f, b.t, p_cause, p_actor, p_reason, p_plan, v_at, b.p, b.h
    FROM unnest(p_customers, p_from, p_to, v_prevs, v_hashes) WITH ORDINALITY AS b (c, f, t, p, h, ord);
    RETURN cardinality(p_customers);
END $$;

-- Append-only, for everybody (the grant is revoked from the application role below as well).
CREATE FUNCTION acre_ownership_history_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'customer_ownership_history is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER customer_ownership_history_no_update BEFORE UPDATE OR DELETE ON customer_ownership_history
    FOR EACH ROW EXECUTE FUNCTION acre_ownership_history_immutable();
CREATE TRIGGER customer_ownership_history_no_truncate BEFORE TRUNCATE ON customer_ownership_history
    FOR EACH STATEMENT EXECUTE FUNCTION acre_ownership_history_immutable();
"""


def _revoke_sql() -> str:
    role = unquote(urlsplit(get_settings().database_url).username or "acre_app")
    if not role.replace("_", "").isalnum():
        raise ValueError(f"unsupported application role name: {role!r}")
    return f"REVOKE UPDATE, DELETE, TRUNCATE ON customer_ownership_history FROM {role};"


forwards = sql_migration(ID, "customers", DESCRIPTION, SQL, _revoke_sql)
