"""What a Piccolo ``Table`` class cannot say about its table by itself, said beside its columns.

The schema is the hand-written SQL of the migrations; the ``Table`` classes describe it (nothing
queries through them) and ``tests/integration/test_table_classes.py`` fails when the two drift apart,
by building the classes into a scratch schema and comparing PostgreSQL's own catalog of both.

What Piccolo states itself: each column's type, ``null`` and ``default`` — Piccolo gives every column
a default (``UUID``: ``gen_random_uuid()``, ``Timestamptz``: now, ``Integer``: 0, ``Varchar``/``Text``:
``''``, ``Boolean``: false, ``JSONB``: ``'{}'``, ``Date``: today), so a column that has none in the
database says ``default=None``; single-column ``unique=True``, ``ForeignKey`` and ``index=True`` when
the database names them the default way (``<table>_<column>_key``, ``<table>_<column>_fkey``,
``<table>_<column>``); ``Unique([...])`` over several columns. A composite primary key: each of its
columns says ``primary_key=True``, in key order (Piccolo itself knows one key column, the last; it
never creates these tables).

What it cannot, declared here, the attribute's name being the constraint's or index's name in the
database: ``References`` (a foreign key over several columns, or one named otherwise) and ``Index``
(any other index). Not described by the classes at all: CHECK constraints, collations, row-level
security, triggers and functions — for those the migrations are the only text.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Column
from piccolo.constraints import Constraint


class References(Constraint):
    """``FOREIGN KEY (columns) REFERENCES table (target) ON DELETE on_delete``; ``on_delete`` is SQL
    (``CASCADE``, ``SET NULL (column)``, …). A Piccolo constraint, so Piccolo's ``create_table`` would
    add it as ``ALTER TABLE … ADD CONSTRAINT <name> <ddl>``."""

    def __init__(
        self, columns: list[Column | str], table: str, target: list[str], on_delete: str = "NO ACTION"
    ) -> None:
        if len(columns) != len(target):
            raise ValueError("a foreign key needs as many target columns as columns")
        self.columns = columns
        self.table = table
        self.target = target
        self.on_delete = on_delete
        super().__init__(columns=columns, table=table, target=target, on_delete=on_delete)

    def column_names(self) -> list[str]:
        return [c._meta.db_column_name if isinstance(c, Column) else c for c in self.columns]

    def serialise_self(self) -> None:
        self._meta.params["columns"] = self.column_names()

    @property
    def ddl(self) -> str:
        columns = ", ".join(f'"{name}"' for name in self.column_names())
        target = ", ".join(f'"{name}"' for name in self.target)
        return f'FOREIGN KEY ({columns}) REFERENCES "{self.table}" ({target}) ON DELETE {self.on_delete}'

    def _table_str(self) -> str:
        return f"{self._meta._name} = References({self.column_names()!r}, {self.table!r}, {self.target!r})"


class Index:
    """``CREATE [UNIQUE] INDEX <attribute name> ON <table> <definition>``, ``definition`` being the SQL
    after the table name (``(tenant, created_at DESC) WHERE …``, ``USING gin (…)``)."""

    def __init__(self, definition: str, *, unique: bool = False) -> None:
        self.definition = definition
        self.unique = unique
        self.name = ""

    def __set_name__(self, owner: Any, name: str) -> None:
        self.name = name

    def ddl(self, table: str) -> str:
        return f'CREATE {"UNIQUE " if self.unique else ""}INDEX "{self.name}" ON "{table}" {self.definition}'


def indexes(table: type[Any]) -> list[Index]:
    """The ``Index`` declarations of a ``Table`` class (its own and inherited ones)."""
    found: dict[str, Index] = {}
    for klass in reversed(table.__mro__):
        found.update({name: value for name, value in vars(klass).items() if isinstance(value, Index)})
    return list(found.values())
