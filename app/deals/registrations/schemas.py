"""Input and output structs of vendor registrations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Status = Literal["pending", "active", "rejected", "released"]
Vendor = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Number = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class RegistrationWrite(msgspec.Struct, forbid_unknown_fields=True):
    """The whole registration (PUT): ``pending`` — filed with the vendor, not yet confirmed;
    ``active`` — confirmed, protected until ``protected_until``; ``rejected``, ``released`` — no
    protection."""

    vendor: Vendor
    registration_no: Number
    registered_on: date
    protected_until: date
    status: Status = "active"


class RegistrationRead(msgspec.Struct):
    """``live``: active and not past ``protected_until`` (the tenant's date today): the customer stays
    with the registering team (``territory_id``, the customer's territory when registered)."""

    id: UUID
    deal_id: UUID
    deal_title: str
    customer_id: UUID
    customer_name: str
    owner_membership_id: UUID | None
    owner_name: str | None
    territory_id: UUID | None
    territory_name: str | None
    vendor: str
    registration_no: str
    registered_on: date
    protected_until: date
    status: str
    live: bool
    days_left: int
    created_at: datetime
    updated_at: datetime


class VendorRegistrations(msgspec.Struct):
    """One vendor's registrations, soonest expiry first."""

    vendor: str
    live: int
    registrations: list[RegistrationRead]


class RegistrationConflict(msgspec.Struct):
    """A customer with a live registration going to a member outside the registering team."""

    customer_id: UUID
    customer_name: str
    membership_id: UUID
    vendor: str
    registration_no: str
    protected_until: date
    territory_name: str | None
