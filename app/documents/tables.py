"""Documents' tables (tenant tables under RLS; the schema is the SQL migration)."""

from piccolo.columns import JSONB, UUID, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB


class DocumentTemplate(Table, tablename="document_templates", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    kind = Varchar(length=40)
    locale = Varchar(length=10)
    version = Integer()
    filename = Varchar(length=255)
    storage_key = Varchar(length=300)
    sha256 = Varchar(length=64)
    size_bytes = Integer()
    active = Boolean(default=False)
    uploaded_by = UUID(null=True)
    created_at = Timestamptz()
    activated_at = Timestamptz(null=True)


class Document(Table, tablename="documents", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    idempotency_key = Varchar(length=200)
    kind = Varchar(length=40)
    locale = Varchar(length=10)
    subject_type = Varchar(length=40)
    subject_id = Varchar(length=100)
    template_id = UUID(null=True)
    template_version = Integer(null=True)
    template_sha256 = Varchar(length=64, null=True)
    status = Varchar(length=10)
    failure_reason = Text(null=True)
    last_error = Text(null=True)
    data = JSONB(null=True)
    data_sha256 = Varchar(length=64, null=True)
    docx_key = Varchar(length=300, null=True)
    docx_sha256 = Varchar(length=64, null=True)
    docx_size = Integer(null=True)
    pdf_key = Varchar(length=300, null=True)
    pdf_sha256 = Varchar(length=64, null=True)
    pdf_size = Integer(null=True)
    pdf_note = Text(null=True)
    converter = Varchar(length=20, null=True)
    timings = JSONB()
    attempts = Integer(default=0)
    claimed_by = Varchar(length=200, null=True)
    claimed_at = Timestamptz(null=True)
    generated_by = UUID(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    finished_at = Timestamptz(null=True)
