"""The set-based statements of a customer import (over ``customer_import_rows``).

Every statement is one pass over the import's staged rows, whatever their number; all filter on
the tenant (``$1``) and the import (``$2``) besides relying on row-level security.
"""

from __future__ import annotations

from app.i18n import N_

# What one staged row holds, in COPY order (after tenant and import_id).
STAGE_COLUMNS = (
    "row_no",
    "ok",
    "errors",
    "full_name",
    "short_name",
    "tax_id",
    "address",
    "phone",
    "phone_digits",
    "industry",
    "size_revenue_band",
    "headcount",
    "it_status",
    "current_software",
    "source",
    "referrer",
    "grade",
    "status",
    "territory_id",
    "owner_membership_id",
    "identity_key",
    "name_key",
    "search_text",
)
SAME_AS_ROW = N_("The same company as row {row}")
ALREADY_OWNED = N_("This company is already a customer of {owner} in {territory}")
ALREADY_IN_POOL = N_("This company is already a customer, in the pool of {territory}")
ALREADY_EXISTS = N_("This company is already a customer")

# Rows whose company is already a customer (撞单): same identity key, or same name key when either
# side has no tax id — the rule of ``duplicates.find_existing``. The row is rejected naming the
# existing owner and territory; a company owned by another member also leaves a conflict item for
# the managers of its territory. $3 = the importer's membership, $4 = only these rows (or NULL),
# $5/$6 = the messages. The two joins are separate (UNION ALL) so each uses its own index. Returns
# the territory of each conflict item left.
DB_DUPLICATES = """
WITH hits AS (
    SELECT DISTINCT ON (x.row_no) x.row_no, x.customer_id FROM (
        SELECT r.row_no, c.id AS customer_id, 0 AS rank
        FROM customer_import_rows r
        JOIN customers c ON c.tenant = r.tenant AND c.identity_key = r.identity_key
        WHERE r.tenant = $1 AND r.import_id = $2 AND r.ok AND ($4::int[] IS NULL OR r.row_no = ANY($4))
        UNION ALL
        SELECT r.row_no, c.id, 1
        FROM customer_import_rows r
        JOIN customers c ON c.tenant = r.tenant AND c.name_key = r.name_key
            AND (r.tax_id IS NULL OR c.tax_id IS NULL)
        WHERE r.tenant = $1 AND r.import_id = $2 AND r.ok AND ($4::int[] IS NULL OR r.row_no = ANY($4))
    ) x
    ORDER BY x.row_no, x.rank
), found AS (
    SELECT h.row_no, c.id AS customer_id, c.territory_id, c.owner_membership_id,
        t.name AS territory_name, u.name AS owner_name
    FROM hits h
    JOIN customers c ON c.tenant = $1 AND c.id = h.customer_id
    JOIN territories t ON t.tenant = c.tenant AND t.id = c.territory_id
    LEFT JOIN memberships m ON m.tenant = c.tenant AND m.id = c.owner_membership_id
    LEFT JOIN users u ON u.id = m.user_id
), marked AS (
    UPDATE customer_import_rows r SET ok = false, errors = r.errors || jsonb_build_array(jsonb_build_object(
        'field', 'full_name',
        'message', CASE WHEN f.owner_membership_id IS NULL THEN $5::text ELSE $6::text END,
        'params', jsonb_build_object('owner', coalesce(f.owner_name, ''), 'territory', f.territory_name)))
    FROM found f
    WHERE r.tenant = $1 AND r.import_id = $2 AND r.row_no = f.row_no
    RETURNING r.row_no, r.full_name, r.tax_id, r.phone, r.territory_id
)
INSERT INTO customer_conflicts (tenant, customer_id, attempted_by, attempted_data, territory_id)
SELECT $1, f.customer_id, $3, jsonb_build_object('full_name', m.full_name, 'tax_id', m.tax_id,
        'phone', m.phone, 'territory_id', m.territory_id, 'import_id', $2::uuid, 'row', m.row_no),
    f.territory_id
FROM marked m JOIN found f ON f.row_no = m.row_no
WHERE f.owner_membership_id IS NOT NULL AND f.owner_membership_id IS DISTINCT FROM $3
RETURNING territory_id
"""
DB_DUPLICATE_MESSAGES = (ALREADY_IN_POOL, ALREADY_OWNED)

# Rows that repeat an earlier (still valid) row of the file, by the same rule, with that row;
# window functions, so a file of 100,000 copies of one name costs one sort, not a self-join.
FILE_DUPLICATES = """
SELECT row_no, first_row FROM (
    SELECT row_no, least(CASE WHEN by_identity < row_no THEN by_identity END,
                         CASE WHEN by_name < row_no THEN by_name END) AS first_row
    FROM (
        SELECT row_no,
            min(row_no) OVER (PARTITION BY identity_key) AS by_identity,
            CASE WHEN tax_id IS NULL THEN min(row_no) OVER (PARTITION BY name_key)
                 ELSE min(row_no) FILTER (WHERE tax_id IS NULL) OVER (PARTITION BY name_key) END AS by_name
        FROM customer_import_rows WHERE tenant = $1 AND import_id = $2 AND ok
    ) w
) d
WHERE first_row IS NOT NULL
"""

# Reject rows $3 with one error each: field $5, message $6, the row's parameters from $4. Driven by
# the arrays and the primary key, so the plan does not hang on the (fresh) table's statistics.
REJECT_ROWS = """
UPDATE customer_import_rows r SET ok = false, errors = r.errors || jsonb_build_array(jsonb_build_object(
    'field', $5::text, 'message', $6::text, 'params', d.params))
FROM unnest($3::int[], $4::jsonb[]) AS d(row_no, params)
WHERE r.tenant = $1 AND r.import_id = $2 AND r.row_no = d.row_no
"""

_CUSTOMER_COLUMNS = STAGE_COLUMNS[3:]  # a staged row without row_no, ok and errors

# One batch written in one statement: the next up to $4 valid rows after row $3 become customers
# (created by $5, in pool $6: NULL is each one's territory's pool) with their first grade entry.
# The caller moves the import's ``written_through`` to the batch's last row in the same transaction
# (a resumed run carries on after it). A company that is already a customer — same identity (ON
# CONFLICT), or same name when either side has no tax id (the NOT EXISTS; the rule of
# ``duplicates.find_existing``) — since the check is skipped: ``taken`` then exceeds the written ones
# and the caller rejects the rows left. The staged batch is read by the primary key and each probe
# goes by an index, and nothing joins the (fresh, unanalysed) staging table to anything big, so the
# plan does not hang on its statistics. Returns the batch's last row and size, and the written
# customers (identity, id, owner) in row order.
WRITE_BATCH = f"""
WITH b AS MATERIALIZED (
    SELECT * FROM customer_import_rows
    WHERE tenant = $1 AND import_id = $2 AND ok AND row_no > $3
    ORDER BY row_no LIMIT $4
), ins AS (
    INSERT INTO customers (tenant, {", ".join(_CUSTOMER_COLUMNS)}, created_by, pool_id)
    SELECT $1, {", ".join("b." + c for c in _CUSTOMER_COLUMNS)}, $5, $6::uuid
    FROM b
    WHERE NOT EXISTS (
        SELECT 1 FROM customers c WHERE c.tenant = $1 AND c.name_key = b.name_key
            AND (b.tax_id IS NULL OR c.tax_id IS NULL))
    ORDER BY b.row_no
    ON CONFLICT (tenant, identity_key) DO NOTHING
    RETURNING id, identity_key, grade, owner_membership_id
), grades AS (
    INSERT INTO customer_grade_changes (tenant, customer_id, from_grade, to_grade, changed_by, reason)
    SELECT $1, ins.id, NULL, ins.grade, $5, 'imported' FROM ins
), written AS (
    SELECT coalesce(array_agg(identity_key), '{{}}') AS keys, coalesce(array_agg(id), '{{}}') AS ids,
        coalesce(array_agg(owner_membership_id), '{{}}') AS owners
    FROM ins
)
SELECT (SELECT max(row_no) FROM b) AS last_row, (SELECT count(*) FROM b) AS taken, written.* FROM written
"""

# The valid rows of a batch (after $3, up to $4), to find which were not written.
BATCH_KEYS = """
SELECT row_no, identity_key FROM customer_import_rows
WHERE tenant = $1 AND import_id = $2 AND ok AND row_no > $3 AND row_no <= $4
ORDER BY row_no
"""
