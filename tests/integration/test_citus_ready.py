"""The schema is ready to be sharded by tenant on Citus (docs/scale-out.md), proved on the migrated
database: every tenant table's primary key and unique constraints (and unique indexes) include
``tenant``, every foreign key between tenant tables includes it on both sides, ``tenant`` is never
null there; the global tables are reference tables; ``infra/citus/distribute.sql`` names every table
exactly once, distributes each tenant table by ``tenant`` co-located with the others, makes the
global ones reference tables, and distributes a table only after the tables its keys point to.

``SCHEMA_DEBT`` would be the exact list of what still breaks the rules; it is empty (scale-out.md):
a new table or key that breaks them fails this test.
"""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import ROOT
from tests.helpers import connect
from tests.integration.accounts.test_tenancy import GLOBAL_TABLES

# Looked up before a tenant is known, holding no customer data (account mail: a user's, no company's);
# Piccolo's own `migration` too.
REFERENCE_TABLES = GLOBAL_TABLES | {"users", "tenants", "password_resets", "account_emails", "migration"}

# What still breaks the rules, named exactly (``"<table>: <fault>"``, as ``_violations`` words it):
# nothing since the schema migration of 2026-12-04 (app/schema/). Keep it empty: a new table must be
# Citus-ready from the start (docs/scale-out.md).
SCHEMA_DEBT: set[str] = set()

CATALOG = """
SELECT c.relname AS table,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant'
               AND NOT a.attisdropped) AS has_tenant,
       COALESCE((SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = c.oid
                 AND a.attname = 'tenant' AND NOT a.attisdropped), false) AS tenant_not_null
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""
CONSTRAINTS = """
SELECT con.contype::text AS kind, rel.relname AS table, ref.relname AS target,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i
       )::text[] AS cols,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i
       )::text[] AS refcols
FROM pg_constraint con
JOIN pg_class rel ON rel.oid = con.conrelid
JOIN pg_namespace n ON n.oid = rel.relnamespace
LEFT JOIN pg_class ref ON ref.oid = con.confrelid
WHERE n.nspname = 'public' AND con.contype IN ('p', 'u', 'f', 'x')
UNION ALL
SELECT 'i'::text, rel.relname, NULL,
       ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) k(n)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n)::text[], NULL
FROM pg_index i JOIN pg_class rel ON rel.oid = i.indrelid JOIN pg_namespace n ON n.oid = rel.relnamespace
WHERE n.nspname = 'public' AND i.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""


async def _schema(admin_db: str) -> tuple[dict[str, Any], list[Any]]:
    async with connect(admin_db) as conn:
        tables = {r["table"]: r for r in await conn.fetch(CATALOG)}
        constraints = await conn.fetch(CONSTRAINTS)
    return tables, constraints


def _violations(tables: dict[str, Any], constraints: list[Any]) -> set[str]:
    tenant_tables = {t for t in tables if t not in REFERENCE_TABLES}
    found = set()
    for t in tenant_tables:
        if not tables[t]["has_tenant"]:
            found.add(f"{t}: no tenant column")
        elif not tables[t]["tenant_not_null"]:
            found.add(f"{t}: tenant may be null")
    for c in constraints:
        if c["table"] not in tenant_tables:
            continue
        cols = ", ".join(c["cols"])
        if c["kind"] == "p" and "tenant" not in c["cols"]:
            found.add(f"{c['table']}: primary key ({cols}) without tenant")
        elif c["kind"] in ("u", "x", "i") and "tenant" not in c["cols"]:
            found.add(f"{c['table']}: unique ({cols}) without tenant")
        elif c["kind"] == "f" and c["target"] in tenant_tables:
            pairs = dict(zip(c["cols"], c["refcols"], strict=True))
            if pairs.get("tenant") != "tenant":
                found.add(f"{c['table']}: foreign key ({cols}) to {c['target']} without tenant")
    return found


async def test_tenant_tables_keys_include_the_tenant_except_the_listed_debt(admin_db: str) -> None:
    tables, constraints = await _schema(admin_db)
    assert REFERENCE_TABLES <= set(tables)  # the list names real tables
    found = _violations(tables, constraints)
    assert sorted(found - SCHEMA_DEBT) == [], "new keys Citus cannot shard by tenant"
    assert sorted(SCHEMA_DEBT - found) == [], "fixed: strike these off SCHEMA_DEBT"


def test_the_checker_sees_each_kind_of_fault() -> None:
    tables = {
        "ok": {"has_tenant": True, "tenant_not_null": True},
        "bad": {"has_tenant": True, "tenant_not_null": False},
        "users": {"has_tenant": False, "tenant_not_null": False},
    }

    def con(kind: str, table: str, cols: list[str], target: str | None = None, refcols: Any = None) -> Any:
        return {"kind": kind, "table": table, "target": target, "cols": cols, "refcols": refcols}

    found = _violations(
        tables,
        [
            con("p", "ok", ["tenant", "id"]),
            con("p", "bad", ["id"]),
            con("u", "ok", ["email"]),
            con("i", "ok", ["tenant", "x"]),
            con("f", "ok", ["tenant", "bad_id"], "bad", ["tenant", "id"]),
            con("f", "ok", ["bad_id", "tenant"], "bad", ["id", "other"]),
            con("f", "ok", ["user_id"], "users", ["id"]),  # to a reference table: allowed
            con("u", "users", ["email"]),  # a reference table's own keys are its business
        ],
    )
    assert found == {
        "bad: tenant may be null",
        "bad: primary key (id) without tenant",
        "ok: unique (email) without tenant",
        "ok: foreign key (bad_id, tenant) to bad without tenant",
    }


def _distribute_sql() -> tuple[list[str], list[tuple[str, str, str]]]:
    text = (ROOT / "infra" / "citus" / "distribute.sql").read_text()
    text = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    reference = re.findall(r"create_reference_table\('(\w+)'\)", text)
    distributed = re.findall(
        r"create_distributed_table\('(\w+)',\s*'(\w+)',\s*colocate_with\s*=>\s*'(\w+)'", text
    )
    assert len(re.findall(r"create_\w+_table\(", text)) == len(reference) + len(distributed)
    return reference, distributed


async def test_distribute_sql_names_every_table_once_in_an_order_citus_accepts(admin_db: str) -> None:
    tables, constraints = await _schema(admin_db)
    reference, distributed = _distribute_sql()
    named = reference + [name for name, _, _ in distributed]
    assert len(named) == len(set(named)), "a table named twice"
    assert set(reference) == REFERENCE_TABLES
    assert {name for name, _, _ in distributed} == set(tables) - REFERENCE_TABLES
    first, column, colocate = distributed[0]
    assert colocate == "none"
    for name, column, colocate in distributed:
        assert column == "tenant", name
        assert colocate in ("none", first) and (colocate == "none") == (name == first), name
    position = {name: i for i, name in enumerate(named)}
    for c in constraints:
        if c["kind"] == "f" and c["table"] != c["target"]:
            assert position[c["target"]] < position[c["table"]], f"{c['table']} before {c['target']}"
