"""Named pools (公海): every territory keeps a pool of its own, a tenant adds more (key accounts,
inbound leads, lost customers …) with a scope, admins and rules of their own; every customer has a
pool (the one it is in while unowned, the one it came from while owned); locks against auto-reclaim;
the ownership history names the pool of each entry."""

from app.migrating import sql_migration

ID = "2026-12-04T19:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: pools, pool scopes and admins, cap overrides, release reasons, customers.pool_id"

SQL = r"""
-- A territory's own pool (kind 'territory', territory_id set, named after its territory), or one the
-- tenant added (territory_id NULL, a name). ``rules``: overrides of the tenant's pool rules (fields
-- left out inherit them); ``hidden_fields``: what the pool shows masked until claimed.
CREATE TABLE pools (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    territory_id uuid,
    name varchar(100),
    kind varchar(20) NOT NULL DEFAULT 'custom',
    rules jsonb,
    hidden_fields text[] NOT NULL DEFAULT '{}',
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, territory_id),
    CHECK (kind IN ('territory', 'key_accounts', 'inbound', 'lost', 'custom')),
    CHECK ((kind = 'territory') = (territory_id IS NOT NULL)),
    CHECK (territory_id IS NOT NULL OR name IS NOT NULL),
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id)
);
CREATE UNIQUE INDEX pools_name ON pools (tenant, lower(name)) WHERE territory_id IS NULL;
SELECT acre_enable_rls('pools');

-- Who may claim from a pool besides its territory's members: the members working a territory (or
-- one below it), and single members.
CREATE TABLE pool_scopes (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pool_id uuid NOT NULL,
    territory_id uuid,
    membership_id uuid,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, pool_id, territory_id),
    UNIQUE (tenant, pool_id, membership_id),
    CHECK ((territory_id IS NULL) <> (membership_id IS NULL)),
    FOREIGN KEY (tenant, pool_id) REFERENCES pools (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id) ON DELETE CASCADE
);
SELECT acre_enable_rls('pool_scopes');

-- Pool admins: assign from the pool, move customers to another pool, export it.
CREATE TABLE pool_admins (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pool_id uuid NOT NULL,
    membership_id uuid NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, pool_id, membership_id),
    FOREIGN KEY (tenant, pool_id) REFERENCES pools (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id) ON DELETE CASCADE
);
CREATE INDEX pool_admins_member ON pool_admins (tenant, membership_id);
SELECT acre_enable_rls('pool_admins');

-- Caps of one territory (claims of its customers) or one member, over the pool's and tenant's.
CREATE TABLE pool_cap_overrides (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    territory_id uuid,
    membership_id uuid,
    owned_cap integer CHECK (owned_cap BETWEEN 1 AND 100000),
    daily_claim_cap integer CHECK (daily_claim_cap BETWEEN 1 AND 10000),
    lock_cap integer CHECK (lock_cap BETWEEN 0 AND 10000),
    updated_by uuid,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, territory_id),
    UNIQUE (tenant, membership_id),
    CHECK ((territory_id IS NULL) <> (membership_id IS NULL)),
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, updated_by) REFERENCES memberships (tenant, id)
);
SELECT acre_enable_rls('pool_cap_overrides');

-- The tenant's list of release reasons (none: the built-in list, translated).
CREATE TABLE pool_release_reasons (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    label varchar(100) NOT NULL,
    position integer NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, label)
);
SELECT acre_enable_rls('pool_release_reasons');

-- Every territory's pool, now and from now on.
CREATE FUNCTION acre_territory_pool() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pools (tenant, territory_id, kind) VALUES (NEW.tenant, NEW.id, 'territory');
    RETURN NULL;
END $$;
CREATE TRIGGER territories_pool AFTER INSERT ON territories
    FOR EACH ROW EXECUTE FUNCTION acre_territory_pool();

-- A customer's pool: given, or its territory's; a customer in its territory's pool follows its
-- territory when that changes. ``pooled_at``: when it last went into a pool (release, reclaim; the
-- new-in-pool delay counts from it); ``locked_at``: its owner locked it against auto-reclaim (a new
-- owner finds it unlocked).
ALTER TABLE customers ADD COLUMN pool_id uuid,
    ADD COLUMN pooled_at timestamptz,
    ADD COLUMN locked_at timestamptz;
CREATE FUNCTION acre_customers_pool() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.territory_id IS DISTINCT FROM OLD.territory_id AND NEW.pool_id IS NOT DISTINCT FROM OLD.pool_id
           AND EXISTS (SELECT FROM pools p WHERE p.tenant = OLD.tenant AND p.id = OLD.pool_id
                                           AND p.territory_id = OLD.territory_id) THEN
            NEW.pool_id := NULL;
        END IF;
        IF NEW.owner_membership_id IS DISTINCT FROM OLD.owner_membership_id THEN
            NEW.locked_at := NULL;
            IF NEW.owner_membership_id IS NULL THEN
                NEW.pooled_at := now();
            END IF;
        END IF;
    END IF;
    IF NEW.pool_id IS NULL THEN
        NEW.pool_id := (SELECT p.id FROM pools p WHERE p.tenant = NEW.tenant AND p.territory_id = NEW.territory_id);
    END IF;
    RETURN NEW;
END $$;

-- The backfill runs as the tables' owner, whom forced row-level security would show no rows.
ALTER TABLE territories NO FORCE ROW LEVEL SECURITY;
ALTER TABLE pools NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
INSERT INTO pools (tenant, territory_id, kind) SELECT tenant, id, 'territory' FROM territories;
UPDATE customers c SET pool_id = p.id FROM pools p WHERE p.tenant = c.tenant AND p.territory_id = c.territory_id;
ALTER TABLE territories FORCE ROW LEVEL SECURITY;
ALTER TABLE pools FORCE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;

ALTER TABLE customers ALTER COLUMN pool_id SET NOT NULL,
    ADD CONSTRAINT customers_tenant_pool_id_fkey FOREIGN KEY (tenant, pool_id) REFERENCES pools (tenant, id);
CREATE TRIGGER customers_pool BEFORE INSERT OR UPDATE OF pool_id, territory_id, owner_membership_id
    ON customers FOR EACH ROW EXECUTE FUNCTION acre_customers_pool();
-- The pool page of one pool, oldest follow-up first; the customers of a pool (moves, export).
CREATE INDEX customers_in_pool ON customers (tenant, pool_id, last_followup_at NULLS FIRST, id)
    WHERE owner_membership_id IS NULL AND status IN ('prospect', 'lost');
CREATE INDEX customers_pool_id ON customers (tenant, pool_id);
-- A member's locked customers (the lock cap counts them).
CREATE INDEX customers_locked ON customers (tenant, owner_membership_id) WHERE locked_at IS NOT NULL;

-- The ownership history names the pool of each entry: the pool a customer was claimed (assigned,
-- handed over) from, or went into (release, reclaim). The content of an entry with a pool is 'v2'
-- (the pool after the reason); one without stays 'v1', so the chain written so far still verifies.
ALTER TABLE customer_ownership_history ADD COLUMN pool_id uuid;
DROP FUNCTION acre_ownership_append(uuid[], uuid[], uuid[], text, uuid, text, uuid);
CREATE FUNCTION acre_ownership_content(
    p_tenant uuid, p_seq bigint, p_customer uuid, p_from uuid, p_to uuid, p_cause text,
    p_actor uuid, p_reason text, p_plan uuid, p_at timestamptz, p_pool uuid
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_pool IS NULL THEN
        acre_ownership_content(p_tenant, p_seq, p_customer, p_from, p_to, p_cause, p_actor, p_reason, p_plan, p_at)
    ELSE convert_to(concat_ws('|', 'v2', p_tenant::text, p_seq::text, p_customer::text,
        coalesce(p_from::text, '-'), coalesce(p_to::text, '-'), p_cause, coalesce(p_actor::text, '-'),
        coalesce(p_plan::text, '-'), (extract(epoch FROM p_at) * 1000000)::bigint::text,
        coalesce(length(p_reason)::text, '-'), coalesce(p_reason, ''), p_pool::text), 'UTF8') END
$$;
CREATE FUNCTION acre_ownership_append(
    p_customers uuid[], p_from uuid[], p_to uuid[], p_cause text, p_actor uuid, p_reason text,
    p_plan uuid, p_pools uuid[]
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
    IF cardinality(p_from) <> cardinality(p_customers) OR cardinality(p_to) <> cardinality(p_customers)
       OR cardinality(p_pools) <> cardinality(p_customers) THEN
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
    FOR r IN SELECT b.c, b.f, b.t, b.p FROM unnest(p_customers, p_from, p_to, p_pools)
             WITH ORDINALITY AS b (c, f, t, p, ord) ORDER BY b.ord LOOP
        v_prevs := v_prevs || v_hash;
        v_seq := v_seq + 1;
        v_hash := sha256(acre_ownership_content(v_tenant, v_seq, r.c, r.f, r.t, p_cause, p_actor,
                                                p_reason, p_plan, v_at, r.p) || v_hash);
        v_hashes := v_hashes || v_hash;
    END LOOP;
    INSERT INTO customer_ownership_history (tenant, seq, customer_id, from_membership_id,
        to_membership_id, cause, actor, reason, plan_id, at, prev_hash, hash, pool_id)
    SELECT v_tenant, v_first + b.ord - 1, b.c, b.f, b.t, p_cause, p_actor, p_reason, p_plan, v_at, b.p, b.h, b.o
    FROM unnest(p_customers, p_from, p_to, v_prevs, v_hashes, p_pools)
        WITH ORDINALITY AS b (c, f, t, p, h, o, ord);
    RETURN cardinality(p_customers);
END $$;
"""

forwards = sql_migration(ID, "customers", DESCRIPTION, SQL)
