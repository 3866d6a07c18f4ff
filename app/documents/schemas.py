"""Input and output shapes of the templates and documents API (never table rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

Key = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
SubjectId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class KindRead(msgspec.Struct):
    name: str
    title: dict[str, str]
    variables: dict[str, str]
    required: list[str]
    sample: dict[str, Any]


class TemplateRead(msgspec.Struct):
    id: UUID
    kind: str
    locale: str
    version: int
    filename: str
    sha256: str
    size_bytes: int
    active: bool
    uploaded_by: UUID | None
    created_at: datetime
    activated_at: datetime | None


class DocumentCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: Name
    subject_type: Name
    subject_id: SubjectId
    idempotency_key: Key
    template_version_id: UUID | None = None
    locale: str | None = None


class DocumentAccepted(msgspec.Struct):
    id: UUID
    status: str
    url: str  # where to poll: GET /api/v1/documents/{id}


class StoredFile(msgspec.Struct):
    url: str  # short-lived presigned GET
    sha256: str
    size: int
    filename: str


class TemplateRef(msgspec.Struct):
    id: UUID | None  # None: the built-in default template
    version: int | None
    sha256: str | None


class Generator(msgspec.Struct):
    membership_id: UUID | None
    name: str | None


class DocumentRead(msgspec.Struct):
    id: UUID
    kind: str
    locale: str
    subject_type: str
    subject_id: str
    status: str
    failure_reason: str | None
    template: TemplateRef
    generated_by: Generator
    data_sha256: str | None
    profile_version_id: UUID | None  # the company profile version it is made with (None: none saved)
    docx: StoredFile | None
    pdf: StoredFile | None
    pdf_note: str | None
    created_at: datetime
    finished_at: datetime | None
