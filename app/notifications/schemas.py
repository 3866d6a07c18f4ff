from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec


class NotificationRead(msgspec.Struct):
    id: UUID
    kind: str
    message: str
    subject_type: str | None
    subject_id: UUID | None
    params: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    read: bool


class ReadAll(msgspec.Struct):
    marked: int  # how many were unread
