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

# A batch is written in four index-driven statements with the row numbers in between held in
# Python: the staging table is always freshly filled (no statistics), and a planner that believes it
# holds one row turns a join against it into a nested loop over every row.

# The next up to $4 valid rows after row $3.
NEXT_ROWS = """
SELECT row_no, identity_key, name_key, tax_id IS NULL AS untaxed, owner_membership_id
FROM customer_import_rows
WHERE tenant = $1 AND import_id = $2 AND ok AND customer_id IS NULL AND row_no > $3
ORDER BY row_no LIMIT $4
"""

# Name keys $2 already in the database, and whether one of those customers has no tax id (then
# any row of that name collides; else only rows without a tax id do). One probe per name.
NAME_CLASHES = """
SELECT n.name_key, x.untaxed FROM unnest($2::text[]) AS n(name_key)
CROSS JOIN LATERAL (
    SELECT bool_or(c.tax_id IS NULL) AS untaxed, count(*) AS found
    FROM customers c WHERE c.tenant = $1 AND c.name_key = n.name_key
) x
WHERE x.found > 0
"""

# Rows $3 (all between $5 and $6, which keeps the scan of the staged rows to the batch) written as
# customers (created by $4) with their first grade entry. A company that
# appeared in the database since the check is skipped by ON CONFLICT (the caller sees it missing).
INSERT_ROWS = f"""
WITH ins AS (
    INSERT INTO customers (tenant, {", ".join(_CUSTOMER_COLUMNS)}, created_by)
    SELECT $1, {", ".join("b." + c for c in _CUSTOMER_COLUMNS)}, $4
    FROM unnest($3::int[]) AS k(row_no)
    JOIN customer_import_rows b ON b.tenant = $1 AND b.import_id = $2 AND b.row_no = k.row_no
        AND b.row_no BETWEEN $5 AND $6
    ORDER BY k.row_no
    ON CONFLICT (tenant, identity_key) DO NOTHING
    RETURNING id, identity_key, grade
), grades AS (
    INSERT INTO customer_grade_changes (tenant, customer_id, from_grade, to_grade, changed_by, reason)
    SELECT $1, ins.id, NULL, ins.grade, $4, 'imported' FROM ins
)
SELECT id, identity_key FROM ins
"""

# Each row $3 now has its customer $4.
LINK_ROWS = """
UPDATE customer_import_rows r SET customer_id = d.id
FROM unnest($3::int[], $4::uuid[]) AS d(row_no, id)
WHERE r.tenant = $1 AND r.import_id = $2 AND r.row_no = d.row_no
"""
