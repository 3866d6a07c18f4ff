"""Territory from the credit code: a tenant maps its territories to administrative-division codes
(GB/T 2260), and each customer with a credit code knows the territory its code points to and whether
it sits elsewhere (跨区)."""

from app.migrating import sql_migration

ID = "2026-12-04T19:02:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: territory_divisions, customers.code_territory_id and cross_territory"

SQL = """
-- A division code (a province XX0000, a city XXYY00 or a county) mapped to a territory; a code is
-- mapped once per tenant, a territory may have many.
CREATE TABLE territory_divisions (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    territory_id uuid NOT NULL,
    code char(6) NOT NULL CHECK (code ~ '^[0-9]{6}$'),
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, code),
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id) ON DELETE SET NULL (created_by)
);
CREATE INDEX territory_divisions_territory ON territory_divisions (tenant, territory_id);
SELECT acre_enable_rls('territory_divisions');

-- The territory a credit code points to: characters 3-8 are the registering authority's division;
-- the mapped code that is the division itself, else its city, else its province (the more specific
-- code sorts higher: XXYYZZ >= XXYY00 >= XX0000). NULL without a code or a mapping.
CREATE FUNCTION acre_code_territory(p_tenant uuid, p_tax_id text) RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT m.territory_id FROM territory_divisions m
    WHERE m.tenant = p_tenant AND p_tax_id ~ '^..[0-9]{6}'
      AND m.code IN (substr(p_tax_id, 3, 6), substr(p_tax_id, 3, 4) || '00', substr(p_tax_id, 3, 2) || '0000')
    ORDER BY m.code DESC LIMIT 1
$$;

-- Cross-territory (跨区): the code points to a territory and the customer is neither in it nor in
-- its subtree (the subtree range of tenants/access/subtree.py).
CREATE FUNCTION acre_cross_territory(p_tenant uuid, p_territory uuid, p_code_territory uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT p_code_territory IS NOT NULL AND p_code_territory <> p_territory AND NOT EXISTS (
        SELECT 1 FROM territories t JOIN territories ct ON ct.tenant = t.tenant AND ct.id = p_code_territory
        WHERE t.tenant = p_tenant AND t.id = p_territory AND t.path >= ct.path AND t.path < ct.path || '~')
$$;

ALTER TABLE customers ADD COLUMN code_territory_id uuid,
    ADD COLUMN cross_territory boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT customers_tenant_code_territory_id_fkey FOREIGN KEY (tenant, code_territory_id)
        REFERENCES territories (tenant, id) ON DELETE SET NULL (code_territory_id);
CREATE INDEX customers_code_territory ON customers (tenant, code_territory_id)
    WHERE code_territory_id IS NOT NULL;
-- The cross-territory filter of the customer list, newest first.
CREATE INDEX customers_cross_territory ON customers (tenant, created_at DESC, id DESC) WHERE cross_territory;

-- Whatever writes a customer (entry, import, leads, realignment, a handover), its placement follows
-- its code and territory.
CREATE FUNCTION acre_customers_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.code_territory_id := acre_code_territory(NEW.tenant, NEW.tax_id);
    NEW.cross_territory := acre_cross_territory(NEW.tenant, NEW.territory_id, NEW.code_territory_id);
    RETURN NEW;
END $$;
CREATE TRIGGER customers_place BEFORE INSERT ON customers
    FOR EACH ROW WHEN (NEW.tax_id IS NOT NULL) EXECUTE FUNCTION acre_customers_place();
CREATE TRIGGER customers_place_again BEFORE UPDATE OF tax_id, territory_id ON customers
    FOR EACH ROW WHEN (NEW.tax_id IS DISTINCT FROM OLD.tax_id OR NEW.territory_id IS DISTINCT FROM OLD.territory_id)
    EXECUTE FUNCTION acre_customers_place();

-- Placing again the customers of a tenant whose code lies in one of ``p_codes`` (NULL: those already
-- placed, whose cross-territory flag a move of territories may change). Returns how many changed.
CREATE FUNCTION acre_place_customers(p_tenant uuid, p_codes text[]) RETURNS bigint
    LANGUAGE sql AS $$
    WITH placed AS (
        SELECT c.id, acre_code_territory(c.tenant, c.tax_id) AS code_territory_id, c.territory_id
        FROM customers c
        WHERE c.tenant = p_tenant AND c.tax_id IS NOT NULL AND CASE WHEN p_codes IS NULL
            THEN c.code_territory_id IS NOT NULL
            ELSE substr(c.tax_id, 3, 6) LIKE ANY (SELECT CASE WHEN code LIKE '__0000' THEN left(code, 2)
                WHEN code LIKE '____00' THEN left(code, 4) ELSE code END || '%' FROM unnest(p_codes) code)
        END
    ), flagged AS (
        SELECT id, code_territory_id, acre_cross_territory(p_tenant, territory_id, code_territory_id) AS cross
        FROM placed
    ), changed AS (
        UPDATE customers c SET code_territory_id = f.code_territory_id, cross_territory = f.cross
        FROM flagged f
        WHERE c.tenant = p_tenant AND c.id = f.id
          AND (c.code_territory_id IS DISTINCT FROM f.code_territory_id OR c.cross_territory <> f.cross)
        RETURNING 1
    )
    SELECT count(*) FROM changed
$$;

-- A changed mapping (added, moved to another territory, removed; a territory's deletion removes its
-- own) places the customers under those codes again.
CREATE FUNCTION acre_territory_divisions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM acre_place_customers(tenant, array_agg(code::text)) FROM added GROUP BY tenant;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM acre_place_customers(tenant, array_agg(code::text)) FROM gone GROUP BY tenant;
    ELSE
        PERFORM acre_place_customers(tenant, array_agg(code::text))
        FROM (SELECT tenant, code FROM added UNION SELECT tenant, code FROM gone) x GROUP BY tenant;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER territory_divisions_added AFTER INSERT ON territory_divisions
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION acre_territory_divisions_changed();
CREATE TRIGGER territory_divisions_gone AFTER DELETE ON territory_divisions
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION acre_territory_divisions_changed();
CREATE TRIGGER territory_divisions_changed AFTER UPDATE ON territory_divisions
    REFERENCING NEW TABLE AS added OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION acre_territory_divisions_changed();

-- A subtree moved elsewhere in the tree: the placed customers' cross-territory flags follow.
CREATE FUNCTION acre_territories_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM acre_place_customers(tenant, NULL)
    FROM (SELECT DISTINCT n.tenant FROM moved n JOIN was o ON o.tenant = n.tenant AND o.id = n.id
          WHERE o.path IS DISTINCT FROM n.path) x;
    RETURN NULL;
END $$;
CREATE TRIGGER territories_moved AFTER UPDATE ON territories
    REFERENCING NEW TABLE AS moved OLD TABLE AS was
    FOR EACH STATEMENT EXECUTE FUNCTION acre_territories_moved();
"""

forwards = sql_migration(ID, "customers", DESCRIPTION, SQL)
