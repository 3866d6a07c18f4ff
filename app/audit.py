"""The audit log: who did what to which thing, and why. Append-only for the application role."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from app.db import Tx


async def record(
    tx: Tx,
    actor: UUID | None,
    action: str,
    subject_type: str,
    subject_id: UUID | str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    await tx.execute(
        "INSERT INTO audit_log (tenant, actor, action, subject_type, subject_id, reason, data)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
        tx.tenant_id,
        actor,
        action,
        subject_type,
        str(subject_id),
        reason,
        json.dumps(data or {}, default=str),
    )
