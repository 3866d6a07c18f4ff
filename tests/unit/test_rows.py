"""app.rows: a row becomes its struct by column name, values untouched, given fields excepted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import msgspec
import pytest

from app.rows import to_struct, to_structs


class Item(msgspec.Struct):
    id: UUID
    name: str
    amount: Decimal
    due: date
    note: str | None = None


class Flagged(msgspec.Struct, kw_only=True):
    id: UUID
    flag: bool = False


class One(msgspec.Struct):
    name: str


def _row(**extra: object) -> dict[str, object]:
    return {
        "due": date(2026, 12, 1),
        "amount": Decimal("12.50"),
        "extra": datetime.now(UTC),
        "name": "华东",
        "id": uuid4(),
        "note": None,
        **extra,
    }


def test_fields_come_from_the_columns_of_the_same_name_whatever_their_order() -> None:
    row = _row()
    item = to_struct(Item, row)
    assert item == Item(row["id"], "华东", Decimal("12.50"), date(2026, 12, 1), None)
    assert item.id is row["id"] and item.amount is row["amount"]  # the row's own objects, not copies


def test_given_fields_replace_the_columns_and_need_none() -> None:
    row = _row()
    del row["name"]
    item = to_struct(Item, row, name="renamed", note="computed")
    assert (item.name, item.note, item.due) == ("renamed", "computed", date(2026, 12, 1))
    first_and_last = to_struct(Item, _row(), id=UUID(int=1), note="x")
    assert first_and_last.id == UUID(int=1) and first_and_last.note == "x" and first_and_last.name == "华东"


def test_a_missing_column_and_an_unknown_field_are_errors() -> None:
    row = _row()
    del row["note"]  # a defaulted field still needs its column
    with pytest.raises(KeyError, match="note"):
        to_struct(Item, row)
    with pytest.raises(TypeError, match="no field nme"):
        to_struct(Item, _row(), nme="typo")


def test_keyword_only_and_single_field_structs() -> None:
    row = {"id": UUID(int=7), "flag": True}
    assert to_struct(Flagged, row) == Flagged(id=UUID(int=7), flag=True)
    assert to_struct(Flagged, row, flag=False).flag is False
    assert to_structs(Flagged, [row, {"id": UUID(int=8), "flag": False}])[1].id == UUID(int=8)
    assert to_struct(One, {"name": "a", "other": 1}) == One("a")
    assert to_structs(One, [{"name": "a"}, {"name": "b"}]) == [One("a"), One("b")]


def test_lists_keep_their_order_and_encode_like_hand_built_structs() -> None:
    rows = [_row(name=f"n{i}") for i in range(5)]
    items = to_structs(Item, rows)
    assert [i.name for i in items] == ["n0", "n1", "n2", "n3", "n4"]
    by_hand = [
        Item(id=r["id"], name=r["name"], amount=r["amount"], due=r["due"], note=r["note"]) for r in rows
    ]
    assert msgspec.json.encode(items) == msgspec.json.encode(by_hand)
    assert to_structs(Item, []) == []
