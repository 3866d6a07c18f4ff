"""What inbound leads look like: a lead (from the API or a form), the intake's answer, and the inquiry
forms owners and admins define (their fields chosen from a fixed set)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from app.customers.schemas import (
    FullName,
    Grade,
    Headcount,
    Source,
    Text40,
    Text100,
    Text320,
    Text500,
    Text2000,
)

MAX_BATCH = 100


class LeadIn(msgspec.Struct, forbid_unknown_fields=True):
    """One lead: the company (its full name; the rest optional), whom to contact, what they asked.
    ``territory_id`` absent = the company's first top-level territory; ``source`` defaults to web."""

    full_name: FullName
    territory_id: UUID | None = None
    tax_id: Text40 | None = None
    address: Text500 | None = None
    phone: Text40 | None = None
    industry: Text100 | None = None
    headcount: Headcount | None = None
    contact_name: Text100 | None = None
    contact_title: Text100 | None = None
    email: Text320 | None = None
    message: Text2000 | None = None
    source: Source = "web"
    grade: Grade = "D"


# The body of POST /api/v1/leads: one lead, or a list of up to MAX_BATCH.
LeadsBody = LeadIn | Annotated[list[LeadIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]
Outcome = Literal["created", "known"]


class LeadResult(msgspec.Struct):
    """What one lead became, in the order sent. ``created``: a new customer in the pool of
    ``territory_id``; ``known``: the company is a customer already (its owner was asked to follow it
    up, or its territory's managers when it is in the pool) — no duplicate is made."""

    index: int
    outcome: Outcome
    customer_id: UUID | None
    territory_id: UUID | None


class IntakeRead(msgspec.Struct):
    created: int
    known: int
    results: list[LeadResult]


# --- inquiry forms ---------------------------------------------------------------------------------

# The fields a form may ask besides the company's name, and the lead field each fills.
FormField = Literal[
    "contact_name", "phone", "email", "contact_title", "address", "industry", "headcount", "tax_id", "message"
]
FORM_FIELDS: tuple[str, ...] = (
    "contact_name",
    "phone",
    "email",
    "contact_title",
    "address",
    "industry",
    "headcount",
    "tax_id",
    "message",
)
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class FieldChoice(msgspec.Struct, forbid_unknown_fields=True):
    name: FormField
    required: bool = False


class LeadFormWrite(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    fields: Annotated[list[FieldChoice], msgspec.Meta(max_length=len(FORM_FIELDS))] = []
    territory_id: UUID | None = None
    thank_you: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    active: bool = True


class LeadFormRead(msgspec.Struct):
    id: UUID
    slug: str
    name: str
    fields: list[FieldChoice]
    territory_id: UUID | None
    thank_you: str
    active: bool
    url: str | None  # None until the page is served
    embed_url: str | None
    created_at: datetime
    updated_at: datetime
