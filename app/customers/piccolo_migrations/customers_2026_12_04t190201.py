"""What the pool shows: the fields a pool may hide until claimed, and the one mask every read uses."""

from app.migrating import sql_migration

ID = "2026-12-04T19:02:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: pools.hidden_fields values, acre_mask"

SQL = """
ALTER TABLE pools ADD CONSTRAINT pools_hidden_fields_known
    CHECK (hidden_fields <@ ARRAY['phone', 'address', 'tax_id', 'contacts']::text[]);

-- A value as a member outside the owner's scope sees it (app/customers/masking.py decides when):
-- a phone keeps its first 3 and last 4 characters (138****5678), a credit code its first 8 (the
-- registering authority) and last 4, an address its first 6 characters, a name its first, an email
-- the first character and the domain; anything shorter is all stars. Inlined by the planner.
CREATE FUNCTION acre_mask(p_value text, p_kind text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN p_value IS NULL THEN NULL
        WHEN p_kind = 'phone' THEN CASE WHEN char_length(p_value) >= 8
            THEN left(p_value, 3) || '****' || right(p_value, 4) ELSE '****' END
        WHEN p_kind = 'tax_id' THEN CASE WHEN char_length(p_value) >= 14
            THEN left(p_value, 8) || repeat('*', char_length(p_value) - 12) || right(p_value, 4) ELSE '****' END
        WHEN p_kind = 'address' THEN CASE WHEN char_length(p_value) > 6
            THEN left(p_value, 6) || '****' ELSE '****' END
        WHEN p_kind = 'email' THEN CASE WHEN position('@' IN p_value) > 1
            THEN left(p_value, 1) || '***' || substr(p_value, position('@' IN p_value)) ELSE '****' END
        ELSE left(p_value, 1) || '**'
    END
$$;
"""

forwards = sql_migration(ID, "customers", DESCRIPTION, SQL)
