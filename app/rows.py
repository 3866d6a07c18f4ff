"""Rows to structs: the one mapper from a database row to the msgspec ``Struct`` whose fields are its
columns (the ``…Read`` schemas).

``to_struct(X, row, field=value, …)`` takes every field of ``X`` from the row column of the same
name, except the fields given as keyword arguments (renamed or computed ones); ``to_structs(X, rows)``
maps a list. The values are taken as they are — the same objects the row holds, as a hand-written
``X(a=row["a"], …)`` would: no conversion and no validation (measured on 200 rows of eleven columns:
as fast as the hand-written copy, where ``msgspec.convert(dict(row), X)`` costs three times as much).
So a column whose value needs transforming (JSON text, a computed status) is passed as a keyword.

Sharp edges: the row must carry a column for every field not passed as a keyword, defaulted fields
included (a missing one raises ``KeyError``, naming it); extra columns are ignored; a keyword that is
not a field of ``X`` raises ``TypeError``. Works with an ``asyncpg.Record`` or any mapping by name.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import asyncpg
import msgspec

S = TypeVar("S", bound=msgspec.Struct)


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


Build = Callable[[Any, dict[str, Any]], Any]


@functools.cache
def _builder(cls: type[msgspec.Struct], given: tuple[str, ...]) -> Build:
    """How ``cls`` is built from a row and the values of the fields ``given`` as keywords: the other
    fields' columns taken by one ``itemgetter``, the given values inserted where their fields are."""
    fields = cls.__struct_fields__
    unknown = [name for name in given if name not in fields]
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
    taken = tuple(name for name in fields if name not in given)
    get: Callable[[Any], tuple[Any, ...]]
    if len(taken) > 1:
        get = operator.itemgetter(*taken)
    else:  # an itemgetter of one name gives the value itself, not a tuple

        def get(row: Any) -> tuple[Any, ...]:
            return tuple(row[name] for name in taken)

    slots = tuple((i, name) for i, name in enumerate(fields) if name in given)

    def by_name(row: Any, values: dict[str, Any]) -> Any:  # keyword-only fields: no positional form
        return cls(**dict(zip(taken, get(row), strict=True)), **values)

    def positional(row: Any, values: dict[str, Any]) -> Any:
        return cls(*get(row))

    def spliced(row: Any, values: dict[str, Any]) -> Any:
        args = list(get(row))
        for position, name in slots:  # ascending positions: each insert lands where its field is
            args.insert(position, values[name])
        return cls(*args)

    if cls.__match_args__ != fields:
        return by_name
    return spliced if given else positional


def to_struct(cls: type[S], row: Row, /, **given: Any) -> S:
    """``cls`` with its fields from ``row``'s columns of the same names, the ``given`` ones excepted."""
    built: S = _builder(cls, tuple(given))(row, given)
    return built


def to_structs(cls: type[S], rows: Sequence[Row], /) -> list[S]:
    """``to_struct(cls, row)`` for every row, in order. The rows are those of one query (they share
    their columns): when they are asyncpg records whose columns are exactly ``cls``'s fields in order,
    each becomes its struct positionally, twice as fast as by name."""
    if not rows:
        return []
    first = rows[0]
    fields = cls.__struct_fields__
    if isinstance(first, asyncpg.Record) and cls.__match_args__ == fields == tuple(first.keys()):
        records: Sequence[Any] = rows
        return [cls(*record) for record in records]
    build = _builder(cls, ())
    return [build(row, {}) for row in rows]
