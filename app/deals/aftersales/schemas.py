"""Input and output structs of a deal's service period and acceptance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

Months = Annotated[int, msgspec.Meta(ge=1, le=120)]


class ServicePeriodWrite(msgspec.Struct, forbid_unknown_fields=True):
    """The free-upgrade and maintenance period: from ``starts_on``, ``months`` long."""

    starts_on: date
    months: Months


class ServicePeriodRead(msgspec.Struct):
    """``ends_on``: the last day of the period; ``accepted_at``: when the customer signed the
    acceptance note (the period then starts that day); ``balance_due_on``: the unpaid balance
    milestone's due date; ``renewal_deal_id``: the renewal deal made before the end."""

    deal_id: UUID
    starts_on: date
    months: int
    ends_on: date
    accepted_at: datetime | None
    acceptance_document_id: UUID | None
    balance_due_on: date | None
    renewal_deal_id: UUID | None
    return_visit_id: UUID | None
    renewed_at: datetime | None
