"""Input and output shapes of the envelopes and verify API (never table rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class SignerCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    email: Email
    locale: Literal["zh-CN", "en"] = "zh-CN"
    anchor: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,40}$")] | None = None  # e.g. party_a


class CcCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    email: Email
    locale: Literal["zh-CN", "en"] = "zh-CN"


class EnvelopeCreate(msgspec.Struct, forbid_unknown_fields=True):
    document_id: UUID
    signers: Annotated[list[SignerCreate], msgspec.Meta(min_length=1, max_length=10)]
    signing_order: Literal["parallel", "sequential"] = "sequential"
    title: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    message: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    cc: Annotated[list[CcCreate], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    customer_id: UUID | None = None
    expiry_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 30
    reminder_interval_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 3
    reminder_max: Annotated[int, msgspec.Meta(ge=0, le=3)] = 3


class EnvelopeVoid(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class SignerRead(msgspec.Struct):
    id: UUID
    position: int
    name: str
    email: str
    locale: str
    anchor: str | None
    status: str
    notified_at: datetime | None
    viewed_at: datetime | None
    signed_at: datetime | None
    declined_at: datetime | None
    decline_reason: str | None


class EnvelopeRead(msgspec.Struct):
    id: UUID
    document_id: UUID
    customer_id: UUID | None
    title: str
    message: str | None
    signing_order: str
    status: str
    signers: list[SignerRead]
    cc: list[CcCreate]
    expiry_days: int
    expires_at: datetime | None
    reminder_interval_days: int
    reminder_max: int
    reminders_sent: int
    void_reason: str | None
    original_sha256: str
    sealed_sha256: str | None
    signed_pdf_url: str | None
    created_at: datetime
    sent_at: datetime | None
    ended_at: datetime | None


class EventRead(msgspec.Struct):
    seq: int
    event: str
    at: datetime
    signer_id: UUID | None
    ip: str | None
    user_agent: str | None
    hash: str


class EvidenceRead(msgspec.Struct):
    chain_ok: bool
    first_broken_seq: int | None
    events: list[EventRead]


class VerifySigner(msgspec.Struct):
    name: str
    email: str
    signed_at: datetime | None


class VerifyResult(msgspec.Struct):
    sealed_by_us: bool
    intact: bool
    verdict: Literal["intact", "modified", "unknown"]
    envelope_id: UUID | None = None
    statement_id: UUID | None = None  # a rep's ownership statement (then ``title`` names it)
    title: str | None = None
    completed_at: datetime | None = None
    signers: list[VerifySigner] = msgspec.field(default_factory=list)


class StatementCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A statement on request: ``membership_id`` (default: yourself; another member's needs manager+)
    over [``period_start``, ``period_end``), at most 400 days."""

    period_start: datetime
    period_end: datetime
    membership_id: UUID | None = None


class StatementRead(msgspec.Struct):
    id: UUID
    membership_id: UUID
    member_name: str | None
    period_start: datetime
    period_end: datetime
    kind: Literal["monthly", "requested"]
    status: Literal["pending", "ready"]
    entries: int | None
    first_seq: int | None
    last_seq: int | None
    anchor_id: UUID | None
    anchor_seq: int | None
    sealed_sha256: str | None
    created_at: datetime
    ready_at: datetime | None
