from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from app.outbound.events import EventType

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Description = Annotated[str, msgspec.Meta(max_length=500)]
EventTypes = Annotated[list[EventType], msgspec.Meta(min_length=1, max_length=20)]


class EndpointCreate(msgspec.Struct, forbid_unknown_fields=True):
    url: Url
    event_types: EventTypes
    description: Description = ""
    active: bool = True


class EndpointUpdate(msgspec.Struct, forbid_unknown_fields=True):
    url: Url | UnsetType = UNSET
    event_types: EventTypes | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    active: bool | UnsetType = UNSET  # true again after a disable: the pending deliveries go out


class EndpointRead(msgspec.Struct):
    id: UUID
    url: str
    description: str
    event_types: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime
    consecutive_failures: int
    failing_since: datetime | None
    disabled_at: datetime | None


class EndpointSecret(msgspec.Struct):
    """An endpoint with its signing secret: only in the answer that made (or rolled) the secret."""

    endpoint: EndpointRead
    secret: str


class DeliveryRead(msgspec.Struct):
    id: UUID
    event_id: UUID
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    response_status: int | None
    response_body: str | None  # its first 1,000 characters
    duration_ms: int | None
    error: str | None


class EventTypeList(msgspec.Struct):
    event_types: list[str]
