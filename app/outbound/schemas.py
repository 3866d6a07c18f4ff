from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from app.outbound.events import EventType

Provider = Literal["wecom", "dingtalk", "feishu"]
# the notification kinds a robot can post (the in-app ones a team cares about)
ChatKind = Literal[
    "approval_requested",
    "visit_plan_submitted",
    "handover_received",
    "reclaim_warning",
    "market_incident",
    "contract_signed",
    "quote_approved",
    "quote_rejected",
    "stage_approved",
    "stage_rejected",
    "collections_due",
    "customer_conflict",
]
ChatKinds = Annotated[list[ChatKind], msgspec.Meta(min_length=1, max_length=20)]
Secret = Annotated[str, msgspec.Meta(max_length=200)]
Name = Annotated[str, msgspec.Meta(max_length=100)]

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


class ChannelCreate(msgspec.Struct, forbid_unknown_fields=True):
    territory_id: UUID
    provider: Provider
    url: Url
    kinds: ChatKinds
    name: Name = ""
    secret: Secret | None = None  # DingTalk's or Feishu's signing secret
    active: bool = True


class ChannelUpdate(msgspec.Struct, forbid_unknown_fields=True):
    url: Url | UnsetType = UNSET
    kinds: ChatKinds | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    secret: Secret | UnsetType | None = UNSET  # "" or null: no signing any more
    active: bool | UnsetType = UNSET


class ChannelRead(msgspec.Struct):
    id: UUID
    territory_id: UUID
    provider: str
    name: str
    url: str  # masked: the robot's token is a secret
    signed: bool
    kinds: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime
    last_sent_at: datetime | None
    last_status: int | None
    last_error: str | None


class CalendarFeedRead(msgspec.Struct):
    active: bool
    url: str | None  # only in the answer that made it (the secret is shown once)
    created_at: datetime | None
