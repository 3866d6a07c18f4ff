"""Keyset (cursor) pagination: stable under inserts, O(page) per request."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec
from litestar.di import Provide
from litestar.params import FromQuery, KwargDefinition

from app.errors import ValidationFailed

T = TypeVar("T")
MAX_LIMIT = 200


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class PageParams:
    """A list request's ``limit`` and ``cursor``, as sent: the service checks them (``check_limit``,
    the cursor decoders below), so direct callers get the same 422s as HTTP ones."""

    limit: int
    cursor: str | None


def paged(default_limit: int = 50) -> dict[str, Provide]:
    """The dependency of a list handler (``dependencies=PAGED``, parameter
    ``page: NamedDependency[PageParams]``): the query parameters ``limit`` (default
    ``default_limit``) and ``cursor``, documented once for every list."""

    def page(limit: FromQuery[int] = default_limit, cursor: FromQuery[str | None] = None) -> PageParams:
        return PageParams(limit, cursor)

    return {"page": Provide(page, sync_to_thread=False)}


PAGED = paged()


def page_name(module: str, item: type) -> KwargDefinition:
    """OpenAPI metadata that names the component of ``Page[item]`` as if ``item`` lived in ``module``
    (``Annotated[Page[X], page_name("app.old.module", X)]``). Litestar names a page after its item's
    module path, so a page whose item type moved keeps its published name only with this."""
    return KwargDefinition(schema_component_key=f"Page_{module}.{item.__qualname__}_")


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([str(v) for v in values]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int) -> list[str] | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        raise ValidationFailed.field("cursor", "This cursor is not valid") from None
    if not isinstance(values, list) or len(values) != size:
        raise ValidationFailed.field("cursor", "This cursor is not valid")
    return [str(v) for v in values]


def decode_time_id_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    """Decode a ``encode_cursor(created_at, id)`` cursor; a forged or damaged one is a 422, not a 500."""
    values = decode_cursor(cursor, 2)
    if values is None:
        return None
    try:
        return datetime.fromisoformat(values[0]), UUID(values[1])
    except ValueError:
        raise ValidationFailed.field("cursor", "This cursor is not valid") from None


def decode_date_id_cursor(cursor: str | None) -> tuple[date, UUID] | None:
    """Decode a ``encode_cursor(day, id)`` cursor; a forged or damaged one is a 422, not a 500."""
    values = decode_cursor(cursor, 2)
    if values is None:
        return None
    try:
        return date.fromisoformat(values[0]), UUID(values[1])
    except ValueError:
        raise ValidationFailed.field("cursor", "This cursor is not valid") from None


def check_limit(limit: int) -> int:
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationFailed.field("limit", "Use a limit from 1 to {max}", max=MAX_LIMIT)
    return limit
