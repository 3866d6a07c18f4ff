"""Drift between the migrated schema and the Piccolo ``Table`` classes, as PostgreSQL itself sees both.

Inside a transaction that is always rolled back, the classes are built into a scratch schema: every
column with its Piccolo type, ``null`` and default (Piccolo's own SQL for them), the primary key over
the columns saying ``primary_key=True`` (in their order), ``unique=True`` columns, ``ForeignKey``
columns, Piccolo constraints (``Unique``, ``References``) and ``Index`` declarations
(``app/table_schema.py``). The catalog of both schemas is then read the same way (``format_type``,
``pg_get_expr``, ``pg_get_constraintdef``, ``pg_get_indexdef``) and compared, so only meaning counts,
not spelling (``VARCHAR(3)`` or ``character varying(3)``, the casts PostgreSQL adds to a default, the
SQL of a predicate). One spelling is reconciled by hand: Piccolo's ``current_timestamp`` default and
the migrations' ``now()`` are the same function.

Compared: tables, columns (type, nullability, default), primary keys, unique constraints, foreign
keys, indexes (names included). Not compared: CHECK constraints, collations, RLS, triggers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from piccolo.columns import Column, ForeignKey
from piccolo.table import Table

from app.table_schema import indexes

SCRATCH = "acre_table_classes"
# Piccolo's own bookkeeping table, created by its migration runner rather than by our migrations.
NOT_OURS = {"migration"}


@dataclass
class TableFacts:
    columns: dict[str, tuple[str, bool, str | None]] = field(default_factory=dict)  # type, NOT NULL, default
    constraints: dict[str, str] = field(default_factory=dict)  # name -> definition
    indexes: dict[str, str] = field(default_factory=dict)  # name -> definition after the table name


def registered_tables() -> list[type[Table]]:
    """Every ``Table`` class of the Piccolo apps in ``app.piccolo_conf``'s registry."""
    from app.piccolo_conf import APP_REGISTRY

    return [table for config in APP_REGISTRY.app_configs.values() for table in config.table_classes]


def label(table: type[Table]) -> str:
    return f"{table.__name__} ({table.__module__})"


async def read_schema(conn: asyncpg.Connection, schema: str) -> dict[str, TableFacts]:
    """Tables, columns, primary/unique/foreign keys and the other indexes of ``schema``, as PostgreSQL
    prints them with ``search_path`` set so that the schema's own names print unqualified."""
    facts: dict[str, TableFacts] = {}
    where = "c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND c.relkind IN ('r', 'p')"
    for row in await conn.fetch(f"SELECT c.relname FROM pg_class c WHERE {where}", schema):
        facts[row["relname"]] = TableFacts()
    for row in await conn.fetch(
        f"""SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid) AS default
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE {where} AND a.attnum > 0 AND NOT a.attisdropped""",
        schema,
    ):
        facts[row["relname"]].columns[row["attname"]] = (row["type"], row["attnotnull"], row["default"])
    for row in await conn.fetch(
        f"""SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) AS definition
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
            WHERE {where} AND k.contype IN ('p', 'u', 'f')""",
        schema,
    ):
        facts[row["relname"]].constraints[row["conname"]] = row["definition"]
    for row in await conn.fetch(
        f"""SELECT c.relname, i.relname AS name, pg_get_indexdef(i.oid) AS definition
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
            WHERE {where} AND NOT EXISTS (SELECT FROM pg_constraint k
                WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))""",
        schema,
    ):
        # "CREATE [UNIQUE] INDEX name ON schema.table USING …": keep UNIQUE and what follows the table
        match = re.fullmatch(r"CREATE (UNIQUE )?INDEX \S+ ON \S+ (.*)", row["definition"], re.S)
        assert match, row["definition"]
        facts[row["relname"]].indexes[row["name"]] = (match.group(1) or "") + match.group(2)
    return facts


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build_statements(tables: list[type[Table]]) -> list[str]:
    """The SQL that makes the classes' tables: all tables first, then unique constraints and indexes,
    then foreign keys (which need their targets' keys)."""
    create: list[str] = []
    uniques: list[str] = []
    foreign_keys: list[str] = []
    for table in tables:
        name = _quoted(table._meta.tablename)
        columns: list[str] = []
        for column in table._meta.columns:
            columns.append(_column_sql(column))
            if isinstance(column, ForeignKey):
                meta = column._foreign_key_meta
                foreign_keys.append(
                    f"ALTER TABLE {name} ADD FOREIGN KEY ({_quoted(column._meta.db_column_name)})"
                    f" REFERENCES {_quoted(meta.resolved_references._meta.tablename)}"
                    f" ({_quoted(meta.resolved_target_column._meta.db_column_name)})"
                    f" ON DELETE {meta.on_delete.value} ON UPDATE {meta.on_update.value}"
                )
        key = [_quoted(c._meta.db_column_name) for c in table._meta.columns if c._meta.primary_key]
        columns.append(f"PRIMARY KEY ({', '.join(key)})")
        create.append(f"CREATE TABLE {name} ({', '.join(columns)})")
        for constraint in table._meta.constraints:
            statement = f"ALTER TABLE {name} ADD CONSTRAINT {_quoted(constraint._meta.name)} {constraint.ddl}"
            (foreign_keys if constraint.ddl.startswith("FOREIGN KEY") else uniques).append(statement)
        for column in table._meta.columns:
            if column._meta.index:
                index = _quoted(table._get_index_name([column._meta.db_column_name]))
                uniques.append(
                    f"CREATE INDEX {index} ON {name} USING {column._meta.index_method.value}"
                    f" ({_quoted(column._meta.db_column_name)})"
                )
        uniques.extend(index.ddl(table._meta.tablename) for index in indexes(table))
    return create + uniques + foreign_keys


def _column_sql(column: Column) -> str:
    """A column as Piccolo's own ``Column.ddl`` writes it, less the key and reference clauses."""
    sql = f"{_quoted(column._meta.db_column_name)} {column.column_type}"
    if column._meta.unique:
        sql += " UNIQUE"
    if not column._meta.null:
        sql += " NOT NULL"
    if column.__class__.__name__ not in ("Serial", "BigSerial"):
        default = column.get_sql_value(column.get_default_value())
        if default != "null":
            sql += f" DEFAULT {default}"
    return sql


def _same_function(default: str | None) -> str | None:
    return None if default is None else re.sub(r"\bCURRENT_TIMESTAMP\b", "now()", default)


async def drift(conn: asyncpg.Connection, tables: list[type[Table]]) -> list[str]:
    """Every difference between the migrated schema (``public``) and ``tables``, one line each
    (empty: they agree). Builds and drops the scratch schema in a transaction it rolls back."""
    problems: list[str] = []
    owners: dict[str, type[Table]] = {}
    for table in tables:
        if table._meta.tablename in owners:
            problems.append(
                f"{label(owners[table._meta.tablename])} and {label(table)} both describe"
                f" table {table._meta.tablename}"
            )
        owners[table._meta.tablename] = table
        for column in table._meta.columns:
            # PostgreSQL makes a key column NOT NULL whatever the class says: say it here instead
            if column._meta.primary_key and column._meta.null:
                problems.append(
                    f"{table._meta.tablename}.{column._meta.name}: a primary key column, yet null=True"
                    f" in {label(table)}"
                )
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute("SET LOCAL search_path = public")
        database = await read_schema(conn, "public")
        await conn.execute(f"CREATE SCHEMA {SCRATCH}")
        # the scratch schema first (the classes' tables), then public (the migrations' functions)
        await conn.execute(f"SET LOCAL search_path = {SCRATCH}, public")
        for statement in build_statements(list(owners.values())):
            try:
                await conn.execute(statement)
            except asyncpg.PostgresError as error:
                raise AssertionError(f"the Table classes do not build: {statement}\n  {error}") from error
        described = await read_schema(conn, SCRATCH)
    finally:
        await transaction.rollback()

    for name in sorted(database.keys() - described.keys() - NOT_OURS):
        problems.append(f"table {name}: made by the migrations, described by no Table class")
    for name in sorted(described.keys() - database.keys()):
        problems.append(f"{label(owners[name])}: describes table {name}, which the migrations do not make")
    for name in sorted(database.keys() & described.keys()):
        problems += _table_drift(name, database[name], described[name], label(owners[name]))
    return problems


def _table_drift(name: str, database: TableFacts, described: TableFacts, owner: str) -> list[str]:
    problems: list[str] = []
    for column in sorted(database.columns.keys() - described.columns.keys()):
        problems.append(f"{name}.{column}: in the database, missing from {owner}")
    for column in sorted(described.columns.keys() - database.columns.keys()):
        problems.append(f"{name}.{column}: in {owner}, not in the database")
    for column in sorted(database.columns.keys() & described.columns.keys()):
        db_type, db_not_null, db_default = database.columns[column]
        type_, not_null, default = described.columns[column]
        if db_type != type_:
            problems.append(f"{name}.{column}: type {db_type} in the database, {type_} in {owner}")
        if db_not_null != not_null:
            nulls = {True: "NOT NULL", False: "nullable"}
            problems.append(
                f"{name}.{column}: {nulls[db_not_null]} in the database, {nulls[not_null]} in {owner}"
            )
        if db_default != _same_function(default):
            problems.append(
                f"{name}.{column}: default {db_default or 'none'} in the database,"
                f" {_same_function(default) or 'none'} in {owner}"
            )
    for kind, db_items, items in (
        ("constraint", database.constraints, described.constraints),
        ("index", database.indexes, described.indexes),
    ):
        for item in sorted(db_items.keys() | items.keys()):
            mine: Any = items.get(item)
            theirs: Any = db_items.get(item)
            if theirs is None:
                problems.append(f"{name}: {kind} {item} {mine} in {owner}, not in the database")
            elif mine is None:
                problems.append(f"{name}: {kind} {item} {theirs} in the database, missing from {owner}")
            elif mine != theirs:
                problems.append(f"{name}: {kind} {item} is {theirs} in the database, {mine} in {owner}")
    return problems
