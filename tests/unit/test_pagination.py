from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from app.errors import ValidationFailed
from app.pagination import (
    MAX_LIMIT,
    check_limit,
    decode_cursor,
    decode_date_id_cursor,
    decode_time_id_cursor,
    encode_cursor,
)


def _raw(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _field(exc: ValidationFailed) -> list[str]:
    return [e["field"] for e in exc.extra["errors"]]


def test_cursor_roundtrip():
    at, item = datetime(2026, 11, 23, 17, 0, 0, 123456, tzinfo=UTC), uuid4()
    cursor = encode_cursor(at, item)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # URL-safe, unpadded
    assert decode_cursor(cursor, 2) == [str(at), str(item)]
    assert decode_time_id_cursor(cursor) == (at, item)
    # whole seconds print without a fraction; they still come back equal
    plain = datetime(2026, 1, 1, tzinfo=UTC)
    assert decode_time_id_cursor(encode_cursor(plain, item)) == (plain, item)
    assert decode_cursor(encode_cursor("a", 1, None), 3) == ["a", "1", "None"]


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_is_the_first_page(cursor):
    assert decode_cursor(cursor, 2) is None
    assert decode_time_id_cursor(cursor) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",  # not base64
        "!!!!",
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),  # not UTF-8
        _raw({"a": 1}),  # not a list
        _raw(["only one"]),  # wrong size
        _raw(["a", "b", "c"]),
        _raw("text"),
    ],
)
def test_bad_cursors_are_validation_errors(cursor):
    with pytest.raises(ValidationFailed) as info:
        decode_cursor(cursor, 2)
    assert _field(info.value) == ["cursor"]
    assert info.value.status == 422


@pytest.mark.parametrize(
    "values", [["not a time", str(uuid4())], ["2026-01-01T00:00:00+00:00", "not-a-uuid"]]
)
def test_a_forged_time_id_cursor_is_a_validation_error(values):
    with pytest.raises(ValidationFailed) as info:
        decode_time_id_cursor(_raw(values))
    assert _field(info.value) == ["cursor"]


def test_date_id_cursor_roundtrip_and_forgeries():
    day, item = date(2026, 11, 30), uuid4()
    assert decode_date_id_cursor(encode_cursor(day, item)) == (day, item)
    assert decode_date_id_cursor(None) is None
    for values in (["2026-13-01", str(item)], ["2026-11-30", "nope"], ["2026-11-30T10:00:00", str(item)]):
        with pytest.raises(ValidationFailed) as info:
            decode_date_id_cursor(_raw(values))
        assert _field(info.value) == ["cursor"]


def test_limit_bounds():
    assert check_limit(1) == 1
    assert check_limit(MAX_LIMIT) == MAX_LIMIT == 200
    for bad in (0, -1, MAX_LIMIT + 1, 10_000):
        with pytest.raises(ValidationFailed) as info:
            check_limit(bad)
        assert _field(info.value) == ["limit"]
